// Vocab <-> GGUF tokenizer.ggml.* metadata.
#include <limits>

#include "qtr/error.hpp"
#include "qtr/gguf.hpp"
#include "qtr/gguf_writer.hpp"
#include "qtr/vocab.hpp"

namespace qtr {

namespace {

TokenId read_token_id(const GgufFile& file, std::string_view key, size_t n_vocab, TokenId fallback) {
  const auto v = file.get_uint(key);
  if (!v) return fallback;
  if (*v == std::numeric_limits<uint32_t>::max() || *v == std::numeric_limits<uint64_t>::max()) return kNoToken;
  if (*v >= n_vocab) {
    throw Error(Errc::bad_format, file.source() + ": GGUF key '" + std::string(key) + "' = " + std::to_string(*v) +
                                      " is not a token id (vocabulary has " + std::to_string(n_vocab) + " tokens)");
  }
  return static_cast<TokenId>(*v);
}

}  // namespace

Vocab Vocab::from_gguf(const GgufFile& file) {
  Vocab v;
  v.model = file.get_string("tokenizer.ggml.model").value_or("");
  if (v.model.empty()) throw Error(Errc::bad_format, file.source() + ": missing GGUF key 'tokenizer.ggml.model'");
  v.pre = file.get_string("tokenizer.ggml.pre").value_or("");

  const GgufArray& tokens = file.require_array("tokenizer.ggml.tokens", GgufType::string);
  const size_t n = tokens.items.size();
  if (n == 0 || n > static_cast<size_t>(std::numeric_limits<TokenId>::max())) {
    throw Error(Errc::bad_format, file.source() + ": tokenizer.ggml.tokens holds " + std::to_string(n) + " tokens");
  }
  v.tokens.reserve(n);
  for (const auto& t : tokens.items) v.tokens.push_back(std::get<std::string>(t.value));

  if (file.has("tokenizer.ggml.scores")) {
    const GgufArray& scores = file.require_array("tokenizer.ggml.scores", GgufType::f32);
    if (scores.items.size() != n) {
      throw Error(Errc::bad_format, file.source() + ": tokenizer.ggml.scores has " +
                                        std::to_string(scores.items.size()) + " entries for " + std::to_string(n) +
                                        " tokens");
    }
    for (const auto& s : scores.items) v.scores.push_back(std::get<float>(s.value));
  } else {
    v.scores.assign(n, 0.0f);
  }

  if (file.has("tokenizer.ggml.token_type")) {
    const GgufArray& types = file.require_array("tokenizer.ggml.token_type", GgufType::i32);
    if (types.items.size() != n) {
      throw Error(Errc::bad_format, file.source() + ": tokenizer.ggml.token_type has " +
                                        std::to_string(types.items.size()) + " entries for " + std::to_string(n) +
                                        " tokens");
    }
    for (size_t i = 0; i < n; ++i) {
      const int32_t t = std::get<int32_t>(types.items[i].value);
      if (t < 0 || t > 6) {
        throw Error(Errc::bad_format, file.source() + ": tokenizer.ggml.token_type[" + std::to_string(i) +
                                          "] = " + std::to_string(t) + " is not a token type");
      }
      v.types.push_back(static_cast<TokenType>(t));
    }
  } else {
    v.types.assign(n, TokenType::normal);
  }

  if (file.has("tokenizer.ggml.merges")) {
    const GgufArray& merges = file.require_array("tokenizer.ggml.merges", GgufType::string);
    for (const auto& m : merges.items) v.merges.push_back(std::get<std::string>(m.value));
  }

  const bool spm = v.model == "llama";
  v.bos = read_token_id(file, "tokenizer.ggml.bos_token_id", n, spm ? 1 : kNoToken);
  v.eos = read_token_id(file, "tokenizer.ggml.eos_token_id", n, spm ? 2 : kNoToken);
  v.unk = read_token_id(file, "tokenizer.ggml.unknown_token_id", n, spm ? 0 : kNoToken);
  v.pad = read_token_id(file, "tokenizer.ggml.padding_token_id", n, kNoToken);
  v.add_bos = file.get_bool("tokenizer.ggml.add_bos_token").value_or(spm);
  v.add_eos = file.get_bool("tokenizer.ggml.add_eos_token").value_or(false);
  v.add_space_prefix = file.get_bool("tokenizer.ggml.add_space_prefix").value_or(spm);
  if (v.add_bos && v.bos == kNoToken) {
    throw Error(Errc::bad_format, file.source() + ": the vocabulary asks for a BOS token but has none");
  }
  return v;
}

void Vocab::to_gguf(GgufWriter& w) const {
  w.set("tokenizer.ggml.model", GgufValue{model});
  if (!pre.empty()) w.set("tokenizer.ggml.pre", GgufValue{pre});
  w.set("tokenizer.ggml.tokens", gguf_array(tokens));
  w.set("tokenizer.ggml.scores", gguf_array(scores));
  std::vector<int32_t> type_ids;
  for (TokenType t : types) type_ids.push_back(static_cast<int32_t>(t));
  w.set("tokenizer.ggml.token_type", gguf_array(type_ids));
  if (!merges.empty()) w.set("tokenizer.ggml.merges", gguf_array(merges));
  auto id = [](TokenId t) { return GgufValue{t == kNoToken ? std::numeric_limits<uint32_t>::max() : uint32_t(t)}; };
  w.set("tokenizer.ggml.bos_token_id", id(bos));
  w.set("tokenizer.ggml.eos_token_id", id(eos));
  w.set("tokenizer.ggml.unknown_token_id", id(unk));
  w.set("tokenizer.ggml.padding_token_id", id(pad));
  w.set("tokenizer.ggml.add_bos_token", GgufValue{add_bos});
  w.set("tokenizer.ggml.add_eos_token", GgufValue{add_eos});
  w.set("tokenizer.ggml.add_space_prefix", GgufValue{add_space_prefix});
}

}  // namespace qtr
