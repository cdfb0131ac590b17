// Byte-level BPE tokenizer (tokenizer.ggml.model = "gpt2"), following llama.cpp's llm_tokenizer_bpe:
//   1. the text is split into words by the pre-tokenizer regexes that tokenizer.ggml.pre names (PCRE2, Unicode
//      properties); each regex splits every piece the previous one left into its matches and the runs between them;
//   2. every byte of a word becomes the token of its GPT-2 "byte-level" character (bytes_to_unicode: printable
//      bytes stand for themselves, the others for U+0100..U+0143), and adjacent symbols are merged by the rank of
//      their pair in tokenizer.ggml.merges (lowest rank first, leftmost on ties) until no ranked pair is left;
//   3. with the Llama-3 pre-tokenizer a word that is itself a token is emitted whole (HF "ignore_merges").
// Special tokens are split off before step 1 by the base class; there is no dummy-prefix space.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "qtr/tokenizer.hpp"

namespace qtr {

class ByteBpeTokenizer final : public Tokenizer {
 public:
  // Throws qtr::Error(unsupported) for a pre-tokenizer name it does not know and Error(bad_format) for a merge
  // that is not "left right".
  explicit ByteBpeTokenizer(Vocab vocab);
  ~ByteBpeTokenizer() override;

  // Normal tokens give the bytes their byte-level characters stand for; user-defined tokens their text as it is;
  // control and unknown tokens their text only when `special`; unused tokens nothing.
  std::string token_to_piece(TokenId id, bool special = false) const override;

 protected:
  void encode_text(std::string_view text, bool after_special, std::vector<TokenId>& out) const override;

 private:
  struct Pattern;  // one compiled PCRE2 regex (defined in byte_bpe.cpp, keeping pcre2.h out of this header)
  struct Scratch;  // per-call work buffers
  struct Merge {
    int32_t rank;     // position in tokenizer.ggml.merges: lower merges first
    TokenId result;   // the token of the merged text
  };

  void encode_word(std::string_view word, Scratch& scratch, std::vector<TokenId>& out) const;
  const Merge* find_merge(TokenId left, TokenId right) const;

  std::vector<std::unique_ptr<const Pattern>> patterns_;  // applied in order
  bool ignore_merges_ = false;                            // emit a word that is a whole token as that token
  std::unordered_map<uint64_t, Merge> merges_;            // (left id << 32 | right id) -> merge
  TokenId byte_tokens_[256];                              // the token of each byte's byte-level character
  std::string byte_chars_[256];                           // that character, UTF-8 encoded
};

}  // namespace qtr
