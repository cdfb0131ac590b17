// Vocab — the data a tokenizer is built from, read from GGUF metadata (tokenizer.ggml.*) or imported from a
// SentencePiece .model file or a Hugging Face tokenizer.json, and written back to GGUF by `qtr vocab`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace qtr {

class GgufFile;
class GgufWriter;

using TokenId = int32_t;
inline constexpr TokenId kNoToken = -1;

// GGUF's tokenizer.ggml.token_type values (the same numbering as SentencePiece's piece types).
enum class TokenType : int32_t {
  undefined = 0, normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6,
};

struct Vocab {
  std::string model = "llama";           // tokenizer.ggml.model: "llama" = SentencePiece, "gpt2" = byte-level BPE
  std::string pre;                       // tokenizer.ggml.pre (BPE pre-tokenizer name), may be empty
  std::vector<std::string> tokens;       // [n_vocab] piece text ("▁the", "<0x0A>", "<s>")
  std::vector<float> scores;             // [n_vocab] SentencePiece merge priority (higher merges first)
  std::vector<TokenType> types;          // [n_vocab]
  std::vector<std::string> merges;       // BPE merges "a b", ranked (empty for SentencePiece)
  TokenId bos = kNoToken, eos = kNoToken, unk = kNoToken, pad = kNoToken;
  bool add_bos = false, add_eos = false;
  bool add_space_prefix = true;          // SentencePiece's add_dummy_prefix

  size_t size() const { return tokens.size(); }

  // Reads tokenizer.ggml.* keys; throws qtr::Error naming the key on anything malformed.
  static Vocab from_gguf(const GgufFile& file);
  // Imports a SentencePiece ModelProto (.model) file.
  static Vocab from_sentencepiece_model(const std::filesystem::path& path);
  // Imports a Hugging Face tokenizer.json holding a byte-level BPE model (Llama 3, Qwen2/3, GPT-2 style).
  static Vocab from_hf_tokenizer_json(const std::filesystem::path& path);
  // Writes tokenizer.ggml.* keys.
  void to_gguf(GgufWriter& writer) const;
};

}  // namespace qtr
