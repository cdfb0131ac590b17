// Shared tokenizer machinery: special-token splitting, whole-sequence and streaming decoding.
#include "qtr/tokenizer.hpp"

#include <algorithm>

#include "qtr/error.hpp"
#include "qtr/utf8.hpp"
#include "byte_bpe.hpp"
#include "sentencepiece.hpp"

namespace qtr {

std::unique_ptr<Tokenizer> Tokenizer::create(Vocab vocab) {
  if (vocab.tokens.size() != vocab.scores.size() || vocab.tokens.size() != vocab.types.size()) {
    throw Error(Errc::invalid_argument, "vocabulary tokens, scores and types differ in length");
  }
  if (vocab.model == "llama") return std::make_unique<SentencePieceTokenizer>(std::move(vocab));
  if (vocab.model == "gpt2") return std::make_unique<ByteBpeTokenizer>(std::move(vocab));
  throw Error(Errc::unsupported, "unsupported tokenizer model '" + vocab.model + "'");
}

Tokenizer::Tokenizer(Vocab vocab) : vocab_(std::move(vocab)) {
  piece_to_id_.reserve(vocab_.size());
  for (size_t i = 0; i < vocab_.size(); ++i) {
    piece_to_id_.emplace(vocab_.tokens[i], static_cast<TokenId>(i));  // the first id wins for duplicate pieces
    const TokenType t = vocab_.types[i];
    if ((t == TokenType::control || t == TokenType::user_defined || t == TokenType::unknown) &&
        !vocab_.tokens[i].empty()) {
      special_by_length_.push_back(static_cast<TokenId>(i));
    }
  }
  std::stable_sort(special_by_length_.begin(), special_by_length_.end(), [&](TokenId a, TokenId b) {
    return vocab_.tokens[a].size() > vocab_.tokens[b].size();
  });
}

TokenId Tokenizer::find(std::string_view piece) const {
  auto it = piece_to_id_.find(std::string(piece));
  return it == piece_to_id_.end() ? kNoToken : it->second;
}

std::vector<TokenId> Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  // Split the text into raw runs and special tokens, longest special first (as llama.cpp does). Control and
  // unknown tokens are only recognised when asked; user-defined tokens always are.
  struct Fragment {
    std::string_view text;
    TokenId token;
  };
  std::vector<Fragment> fragments;
  if (!text.empty()) fragments.push_back({text, kNoToken});
  for (TokenId id : special_by_length_) {
    const TokenType type = vocab_.types[id];
    if (type != TokenType::user_defined && !options.parse_special) continue;
    const std::string& special = vocab_.tokens[id];
    std::vector<Fragment> next;
    for (const Fragment& f : fragments) {
      if (f.token != kNoToken) {
        next.push_back(f);
        continue;
      }
      std::string_view rest = f.text;
      for (size_t at; (at = rest.find(special)) != std::string_view::npos;) {
        if (at > 0) next.push_back({rest.substr(0, at), kNoToken});
        next.push_back({{}, id});
        rest.remove_prefix(at + special.size());
      }
      if (!rest.empty()) next.push_back({rest, kNoToken});
    }
    fragments = std::move(next);
  }

  std::vector<TokenId> out;
  if (options.add_special && vocab_.add_bos && vocab_.bos != kNoToken) out.push_back(vocab_.bos);
  bool after_special = true;
  for (const Fragment& f : fragments) {
    if (f.token != kNoToken) {
      out.push_back(f.token);
      after_special = true;
    } else {
      encode_text(f.text, after_special, out);
      after_special = false;
    }
  }
  if (options.add_special && vocab_.add_eos && vocab_.eos != kNoToken) out.push_back(vocab_.eos);
  return out;
}

std::string Tokenizer::decode(std::span<const TokenId> ids, bool special) const {
  std::string text;
  bool at_start = true;
  for (TokenId id : ids) {
    std::string piece = token_to_piece(id, special);
    if (id >= 0 && static_cast<size_t>(id) < vocab_.size() && vocab_.types[id] == TokenType::control) {
      at_start = true;
    } else if (!piece.empty()) {
      if (at_start && strips_leading_space() && piece[0] == ' ') piece.erase(0, 1);
      at_start = false;
    }
    text += piece;
  }
  return text;
}

void StreamingDecoder::prime(std::span<const TokenId> ids) {
  for (TokenId id : ids) push(id);
  pending_.clear();
}

std::string StreamingDecoder::push(TokenId id) {
  const Vocab& vocab = tokenizer_.vocab();
  if (id < 0 || static_cast<size_t>(id) >= vocab.size()) {
    throw Error(Errc::invalid_argument, "token id " + std::to_string(id) + " is outside the vocabulary");
  }
  if (vocab.types[id] == TokenType::control) {
    at_text_start_ = true;  // text after BOS starts afresh
    return {};
  }
  std::string piece = tokenizer_.token_to_piece(id);
  if (at_text_start_ && tokenizer_.strips_leading_space() && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
  if (!piece.empty()) at_text_start_ = false;
  pending_ += piece;

  std::string out;
  size_t i = 0;
  while (i < pending_.size()) {
    const std::string_view rest = std::string_view(pending_).substr(i);
    if (const size_t n = utf8::valid_sequence_length(rest)) {
      out.append(rest.substr(0, n));
      i += n;
      continue;
    }
    // An incomplete sequence at the end waits for the next token; anything else is invalid.
    const size_t expected = utf8::sequence_length(static_cast<uint8_t>(rest[0]));
    bool incomplete = expected > rest.size();
    for (size_t k = 1; incomplete && k < rest.size(); ++k) {
      incomplete = (static_cast<uint8_t>(rest[k]) & 0xC0) == 0x80;
    }
    if (incomplete) break;
    out += "\xEF\xBF\xBD";  // U+FFFD
    i += 1;
  }
  pending_.erase(0, i);
  return out;
}

std::string StreamingDecoder::flush() {
  std::string out;
  for (size_t i = 0; i < pending_.size(); ++i) out += "\xEF\xBF\xBD";
  pending_.clear();
  return out;
}

}  // namespace qtr
