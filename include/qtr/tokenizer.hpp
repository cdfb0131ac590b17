// Tokenizer — text <-> token ids. One implementation per vocabulary model (SentencePiece now, byte-level BPE later),
// sharing special-token splitting and streaming detokenization.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "qtr/vocab.hpp"

namespace qtr {

struct EncodeOptions {
  bool add_special = true;     // BOS/EOS as the vocabulary asks (tokenizer.ggml.add_bos_token, ...)
  bool parse_special = false;  // match control tokens ("<s>", "<|im_start|>") written in the text
};

class Tokenizer {
 public:
  // Builds the tokenizer `vocab.model` names; throws qtr::Error(unsupported) for other models.
  static std::unique_ptr<Tokenizer> create(Vocab vocab);
  virtual ~Tokenizer() = default;

  std::vector<TokenId> encode(std::string_view text, const EncodeOptions& options = {}) const;

  // The bytes a token stands for (may be part of a UTF-8 sequence); control tokens give "" unless `special`.
  virtual std::string token_to_piece(TokenId id, bool special = false) const = 0;
  // Whole-sequence decoding: concatenated pieces, the SentencePiece dummy prefix removed. Bytes are returned as
  // they are (possibly invalid UTF-8); use StreamingDecoder for printable text.
  std::string decode(std::span<const TokenId> ids, bool special = false) const;

  const Vocab& vocab() const { return vocab_; }
  size_t n_vocab() const { return vocab_.size(); }
  bool is_eog(TokenId id) const { return id == vocab_.eos && id != kNoToken; }
  // The id of a piece's exact text, or kNoToken.
  TokenId find(std::string_view piece) const;

 protected:
  explicit Tokenizer(Vocab vocab);
  // Encodes one run of ordinary text (no special tokens inside). `after_special` is true at the start of the text
  // and right after a special token (where SentencePiece adds its dummy-prefix space).
  virtual void encode_text(std::string_view text, bool after_special, std::vector<TokenId>& out) const = 0;
  // True when decoding should drop one leading space from the first piece (SentencePiece dummy prefix).
  virtual bool strips_leading_space() const { return false; }

  Vocab vocab_;
  std::unordered_map<std::string, TokenId> piece_to_id_;
  std::vector<TokenId> special_by_length_;  // control + user-defined tokens, longest text first

  friend class StreamingDecoder;
};

// Turns a stream of token ids into valid UTF-8 text chunks: holds back the bytes of an incomplete multi-byte
// sequence until the token that completes it arrives, replaces invalid bytes with U+FFFD, and drops the
// SentencePiece dummy-prefix space at the start of text.
class StreamingDecoder {
 public:
  explicit StreamingDecoder(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}
  // Feeds tokens already in the context (a prompt) without producing output, so spacing continues correctly.
  void prime(std::span<const TokenId> ids);
  // Returns the text that became complete with this token (possibly empty).
  std::string push(TokenId id);
  // Returns what is left (incomplete bytes become U+FFFD).
  std::string flush();

 private:
  const Tokenizer& tokenizer_;
  std::string pending_;
  bool at_text_start_ = true;
};

}  // namespace qtr
