// SentencePiece BPE tokenizer (tokenizer.ggml.model = "llama"), following llama.cpp's llm_tokenizer_spm:
// the text (with a dummy-prefix space, spaces escaped as U+2581) is split into UTF-8 characters, adjacent symbols
// are merged greedily by the score of the merged piece (highest first, leftmost on ties), and symbols that are not
// pieces fall back to <0xXX> byte tokens.
#pragma once

#include "qtr/tokenizer.hpp"

namespace qtr {

class SentencePieceTokenizer final : public Tokenizer {
 public:
  explicit SentencePieceTokenizer(Vocab vocab);
  std::string token_to_piece(TokenId id, bool special = false) const override;

 protected:
  void encode_text(std::string_view text, bool after_special, std::vector<TokenId>& out) const override;
  bool strips_leading_space() const override { return vocab_.add_space_prefix; }

 private:
  TokenId byte_tokens_[256];  // <0xXX> ids, kNoToken when the vocabulary lacks one
};

}  // namespace qtr
