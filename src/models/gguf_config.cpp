#include "gguf_config.hpp"

#include "qtr/error.hpp"
#include "qtr/gguf.hpp"

namespace qtr {

int64_t gguf_positive(const GgufFile& f, const std::string& key, int64_t limit, std::optional<int64_t> fallback) {
  const auto v = f.get_uint(key);
  if (!v && !fallback) f.require_uint(key);  // throws "missing GGUF key"
  const uint64_t value = v ? *v : static_cast<uint64_t>(*fallback);
  if (value == 0 || value > static_cast<uint64_t>(limit)) {
    throw Error(Errc::bad_format, f.source() + ": GGUF key '" + key + "' = " + std::to_string(value) +
                                      " is out of range (1.." + std::to_string(limit) + ")");
  }
  return static_cast<int64_t>(value);
}

ModelConfig read_decoder_config(const GgufFile& f) {
  const std::string arch = f.require_string("general.architecture");
  const std::string a = arch + ".";
  ModelConfig c;
  c.architecture = arch;
  c.name = f.get_string("general.name").value_or("");
  c.n_embd = gguf_positive(f, a + "embedding_length", 1 << 16);
  c.n_layer = gguf_positive(f, a + "block_count", 1024);
  c.n_head = gguf_positive(f, a + "attention.head_count", 1024);
  c.n_head_kv = gguf_positive(f, a + "attention.head_count_kv", c.n_head, c.n_head);
  c.n_ff = gguf_positive(f, a + "feed_forward_length", 1 << 18);
  c.n_ctx_train = gguf_positive(f, a + "context_length", int64_t(1) << 24, 2048);
  c.head_dim = gguf_positive(f, a + "attention.key_length", 1 << 12, c.n_embd / c.n_head);
  c.n_rot = gguf_positive(f, a + "rope.dimension_count", c.head_dim, c.head_dim);
  c.rope_freq_base = static_cast<float>(f.get_float(a + "rope.freq_base").value_or(10000.0));
  c.rms_norm_eps = static_cast<float>(f.get_float(a + "attention.layer_norm_rms_epsilon").value_or(1e-5));
  if (c.n_head % c.n_head_kv != 0) {
    throw Error(Errc::bad_format, f.source() + ": head_count " + std::to_string(c.n_head) +
                                      " is not a multiple of head_count_kv " + std::to_string(c.n_head_kv));
  }
  if (const auto v = f.get_uint(a + "attention.value_length"); v && static_cast<int64_t>(*v) != c.head_dim) {
    throw Error(Errc::unsupported, f.source() + ": attention.value_length " + std::to_string(*v) +
                                       " differs from key_length " + std::to_string(c.head_dim));
  }
  if (c.n_rot % 2 != 0) throw Error(Errc::bad_format, f.source() + ": rope.dimension_count must be even");
  if (!(c.rope_freq_base > 0.0f) || !(c.rms_norm_eps > 0.0f)) {
    throw Error(Errc::bad_format, f.source() + ": rope.freq_base and layer_norm_rms_epsilon must be positive");
  }
  return c;
}

}  // namespace qtr
