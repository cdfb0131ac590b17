// The `gemma3` family (Gemma 3 text models, e.g. gemma-3-270m), as GGUF stores it:
//
//   x = token_embd[token] * sqrt(n_embd)
//   per layer:  n = rmsnorm(x) ⊙ attn_norm
//               q, k, v = Wq·n, Wk·n, Wv·n;  q, k = rmsnorm_per_head(q) ⊙ q_norm, rmsnorm_per_head(k) ⊙ k_norm
//               q, k = rope_neox(q, k)             local layers: base rope.freq_base_swa (10000 when absent);
//                                                  global layers: rope.freq_base (and linear rope.scaling)
//               x += rmsnorm(Wo · attention(q, k, v)) ⊙ post_attention_norm
//                                                  local layers see the last sliding_window keys only
//               n = rmsnorm(x) ⊙ ffn_norm
//               x += rmsnorm(Wdown · (gelu_tanh(Wgate·n) ⊙ Wup·n)) ⊙ post_ffw_norm
//   logits = token_embd · (rmsnorm(x) ⊙ output_norm)   (tied unless the file has output.weight)
//
// Gemma's RMSNorm multiplies by (1 + w); GGUF files store w + 1, so the norms here are plain. Which layers are local
// (sliding-window) comes from `gemma3.attention.sliding_window_pattern` (one bool per layer) when present, else
// from Gemma 3's fixed pattern: five local layers, then one global. The attention scale is
// `gemma3.attention.scale` when present, else 1/sqrt(head_dim) (query_pre_attn_scalar = head_dim, as in the
// released small models).
#include <cmath>
#include <cstring>
#include <vector>

#include "gguf_config.hpp"
#include "graph.hpp"
#include "ops/kv_attention.hpp"
#include "ops/ops.hpp"
#include "qtr/error.hpp"
#include "qtr/gguf.hpp"

namespace qtr {

namespace {

std::string layer_tensor(int64_t i, const char* what) { return "blk." + std::to_string(i) + "." + what + ".weight"; }

struct Gemma3Layer {
  bool sliding = false;              // local (sliding-window) attention layer
  std::vector<float> attn_norm;      // [n_embd]
  std::vector<float> q_norm, k_norm;  // [head_dim]
  std::vector<float> post_attention_norm;  // [n_embd]
  std::vector<float> ffn_norm;       // [n_embd]
  std::vector<float> post_ffw_norm;  // [n_embd]
  ops::Matrix wq;      // [n_embd] -> [q_dim]
  ops::Matrix wk;      // [n_embd] -> [kv_dim]
  ops::Matrix wv;      // [n_embd] -> [kv_dim]
  ops::Matrix wo;      // [q_dim] -> [n_embd]
  ops::Matrix w_gate;  // [n_embd] -> [n_ff]
  ops::Matrix w_up;    // [n_embd] -> [n_ff]
  ops::Matrix w_down;  // [n_ff] -> [n_embd]
};

// Gemma 3's attention parameters beyond the common ones.
struct Gemma3Attention {
  int64_t sliding_window = 0;   // keys a local layer sees (its own position included)
  float rope_base_local = 10000.0f;
  float rope_scale_global = 1.0f;  // linear position interpolation of the global layers (1/factor)
  float scale = 0.0f;           // applied to q·k
};

std::vector<bool> sliding_layers(const GgufFile& f, int64_t n_layer) {
  std::vector<bool> sliding(static_cast<size_t>(n_layer));
  const std::string key = "gemma3.attention.sliding_window_pattern";
  if (const GgufArray* pattern = f.get_array(key)) {
    if (pattern->element_type != GgufType::boolean || static_cast<int64_t>(pattern->items.size()) != n_layer) {
      throw Error(Errc::bad_format, f.source() + ": GGUF key '" + key + "' must be an array of " +
                                        std::to_string(n_layer) + " booleans (one per layer)");
    }
    for (int64_t i = 0; i < n_layer; ++i) sliding[i] = std::get<bool>(pattern->items[i].value);
    return sliding;
  }
  for (int64_t i = 0; i < n_layer; ++i) sliding[i] = (i + 1) % 6 != 0;  // every sixth layer is global
  return sliding;
}

class Gemma3Graph final : public Graph {
 public:
  Gemma3Graph(const GgufFile& f, const ops::WeightOptions& options, int n_threads)
      : config_(read_decoder_config(f)), isa_(options.isa) {
    const auto& c = config_;
    attn_.sliding_window = gguf_positive(f, "gemma3.attention.sliding_window", int64_t(1) << 24);
    attn_.rope_base_local = static_cast<float>(f.get_float("gemma3.rope.freq_base_swa").value_or(10000.0));
    if (!(attn_.rope_base_local > 0.0f) || !std::isfinite(attn_.rope_base_local)) {
      throw Error(Errc::bad_format, f.source() + ": GGUF key 'gemma3.rope.freq_base_swa' must be positive");
    }
    attn_.scale = static_cast<float>(
        f.get_float("gemma3.attention.scale").value_or(1.0 / std::sqrt(static_cast<double>(c.head_dim))));
    if (!(attn_.scale > 0.0f) || !std::isfinite(attn_.scale)) {
      throw Error(Errc::bad_format, f.source() + ": GGUF key 'gemma3.attention.scale' must be positive");
    }
    if (const auto type = f.get_string("gemma3.rope.scaling.type"); type && *type != "none") {
      // Gemma 3 4B and larger interpolate the global layers' positions linearly (factor 8); local layers never.
      const double factor = f.get_float("gemma3.rope.scaling.factor").value_or(0.0);
      if (*type != "linear" || !(factor >= 1.0) || !std::isfinite(factor)) {
        throw Error(Errc::unsupported, f.source() + ": gemma3.rope.scaling.type '" + *type + "' with factor " +
                                           std::to_string(factor) + " is not supported (linear, factor >= 1 is)");
      }
      attn_.rope_scale_global = static_cast<float>(1.0 / factor);
    }

    const TensorView embd = f.require_tensor("token_embd.weight");
    config_.n_vocab = embd.ne.size() == 2 ? embd.dim(1) : 0;
    if (embd.ne.size() != 2 || embd.dim(0) != c.n_embd || config_.n_vocab < 1) {
      throw Error(Errc::bad_format, "tensor 'token_embd.weight' has shape " + embd.shape_string() +
                                        ", expected [" + std::to_string(c.n_embd) + ", n_vocab]");
    }
    token_embd_ = ops::Embedding::from_view(embd, c.n_embd, config_.n_vocab);
    embd_scale_ = std::sqrt(static_cast<float>(c.n_embd));
    // The projections after a norm or the FFN activation take options.inputs; the attention output and the
    // output head one int8 term (ops::WeightOptions::with_int8_inputs).
    auto matrix = [&](const std::string& name, int64_t n_in, int64_t n_out) {
      return ops::Matrix::from_view(f.require_tensor(name), n_in, n_out, options, n_threads);
    };
    auto int8_matrix = [&](const std::string& name, int64_t n_in, int64_t n_out) {
      return ops::Matrix::from_view(f.require_tensor(name), n_in, n_out, options.with_int8_inputs(), n_threads);
    };
    auto vector = [&](const std::string& name, int64_t n) { return ops::load_vector(f.require_tensor(name), n); };
    output_norm_ = vector("output_norm.weight", c.n_embd);
    if (auto out = f.optional_tensor("output.weight")) {
      output_ = ops::Matrix::from_view(*out, c.n_embd, config_.n_vocab, options.with_int8_inputs(), n_threads);
    } else {
      config_.tied_output = true;
      ops::WeightOptions keep = options.with_int8_inputs();
      keep.release_mapped_source = false;  // the embedding rows are still read from the map
      output_ = ops::Matrix::from_view(embd, c.n_embd, config_.n_vocab, keep, n_threads);
    }
    const std::vector<bool> sliding = sliding_layers(f, c.n_layer);
    layers_.resize(static_cast<size_t>(c.n_layer));
    for (int64_t i = 0; i < c.n_layer; ++i) {
      Gemma3Layer& l = layers_[static_cast<size_t>(i)];
      l.sliding = sliding[static_cast<size_t>(i)];
      l.attn_norm = vector(layer_tensor(i, "attn_norm"), c.n_embd);
      l.q_norm = vector(layer_tensor(i, "attn_q_norm"), c.head_dim);
      l.k_norm = vector(layer_tensor(i, "attn_k_norm"), c.head_dim);
      l.post_attention_norm = vector(layer_tensor(i, "post_attention_norm"), c.n_embd);
      l.ffn_norm = vector(layer_tensor(i, "ffn_norm"), c.n_embd);
      l.post_ffw_norm = vector(layer_tensor(i, "post_ffw_norm"), c.n_embd);
      l.wq = matrix(layer_tensor(i, "attn_q"), c.n_embd, c.q_dim());
      l.wk = matrix(layer_tensor(i, "attn_k"), c.n_embd, c.kv_dim());
      l.wv = matrix(layer_tensor(i, "attn_v"), c.n_embd, c.kv_dim());
      l.wo = int8_matrix(layer_tensor(i, "attn_output"), c.q_dim(), c.n_embd);
      l.w_gate = matrix(layer_tensor(i, "ffn_gate"), c.n_embd, c.n_ff);
      l.w_up = matrix(layer_tensor(i, "ffn_up"), c.n_embd, c.n_ff);
      l.w_down = matrix(layer_tensor(i, "ffn_down"), c.n_ff, c.n_embd);
    }
  }

  const ModelConfig& config() const override { return config_; }

  size_t weight_bytes() const override {
    size_t total = output_.bytes() + token_embd_.view().data.size();
    for (const auto& l : layers_) {
      for (const ops::Matrix* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) total += m->bytes();
    }
    return total;
  }

  std::vector<int64_t> layer_windows() const override {
    std::vector<int64_t> windows;
    for (const auto& l : layers_) windows.push_back(l.sliding ? attn_.sliding_window : 0);
    return windows;
  }

  void forward(const ForwardBatch& batch, KvPool& kv, ops::Workspace& ws, float* logits, float* hidden,
               int n_threads) const override {
    const ModelConfig& c = config_;
    const auto n = static_cast<int64_t>(batch.tokens.size());
    const int64_t d = c.n_embd;
    const DecoderActivations a(ws, c, n);
    float *x = a.x, *xn = a.xn, *q = a.q, *k = a.k, *v = a.v, *attn = a.attn, *proj = a.proj, *gate = a.gate,
          *up = a.up;

    for (int64_t t = 0; t < n; ++t) token_embd_.lookup(batch.tokens[t], x + t * d);
    ops::scale_inplace(x, embd_scale_, n * d);
    const ops::KvKernels kv_kernels = ops::find_kv_kernels(isa_, kv.type());
    for (int64_t il = 0; il < c.n_layer; ++il) {
      const Gemma3Layer& l = layers_[static_cast<size_t>(il)];
      ops::rmsnorm(x, l.attn_norm.data(), xn, d, n, c.rms_norm_eps);
      const ops::MatmulOutput qkv[] = {{&l.wq, q}, {&l.wk, k}, {&l.wv, v}};
      ops::matmul_many(qkv, xn, n, n_threads, ws);
      ops::rmsnorm(q, l.q_norm.data(), q, c.head_dim, n * c.n_head, c.rms_norm_eps);
      ops::rmsnorm(k, l.k_norm.data(), k, c.head_dim, n * c.n_head_kv, c.rms_norm_eps);
      const float base = l.sliding ? attn_.rope_base_local : c.rope_freq_base;
      const float pos_scale = l.sliding ? 1.0f : attn_.rope_scale_global;
      for (int64_t t = 0; t < n; ++t) {
        const int64_t pos = batch.positions[t];
        ops::rope_neox(q + t * c.q_dim(), c.n_head, c.head_dim, c.n_rot, pos, base, pos_scale, nullptr);
        ops::rope_neox(k + t * c.kv_dim(), c.n_head_kv, c.head_dim, c.n_rot, pos, base, pos_scale, nullptr);
      }
      const ops::AttentionShape shape{c.n_head, c.n_head_kv, c.head_dim, l.sliding ? attn_.sliding_window : 0};
      ops::attention_paged(kv, il, batch.segments, q, k, v, attn, shape, attn_.scale, n_threads, kv_kernels);
      ops::matmul(l.wo, attn, proj, n, n_threads, ws);
      ops::rmsnorm(proj, l.post_attention_norm.data(), proj, d, n, c.rms_norm_eps);
      ops::add_inplace(x, proj, n * d);

      ops::rmsnorm(x, l.ffn_norm.data(), xn, d, n, c.rms_norm_eps);
      const ops::MatmulOutput gate_up[] = {{&l.w_gate, gate}, {&l.w_up, up}};
      ops::matmul_many(gate_up, xn, n, n_threads, ws);
      ops::gelu_tanh_mul(gate, up, gate, n * c.n_ff, n_threads);
      ops::matmul(l.w_down, gate, proj, n, n_threads, ws);
      ops::rmsnorm(proj, l.post_ffw_norm.data(), proj, d, n, c.rms_norm_eps);
      ops::add_inplace(x, proj, n * d);
    }
    ops::output_head(x, batch.output_rows, output_norm_.data(), d, c.rms_norm_eps, output_, xn, logits, hidden,
                     n_threads, ws);
  }

 private:
  ModelConfig config_;  // from metadata, completed by the tensors (n_vocab, tied output)
  Gemma3Attention attn_;
  ops::Embedding token_embd_;  // [n_embd] x n_vocab rows
  float embd_scale_ = 1.0f;    // sqrt(n_embd)
  std::vector<float> output_norm_;
  ops::Matrix output_;         // token_embd itself when tied
  std::vector<Gemma3Layer> layers_;
  kernels::Isa isa_;
};

}  // namespace

std::unique_ptr<Graph> make_gemma3_graph(const GgufFile& file, const ops::WeightOptions& options, int n_threads) {
  return std::make_unique<Gemma3Graph>(file, options, n_threads);
}

}  // namespace qtr
