#include "sentencepiece.hpp"

#include <cstdio>
#include <queue>

#include "qtr/error.hpp"
#include "qtr/utf8.hpp"

namespace qtr {

namespace {
constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's space

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// "<0x0A>" -> 10; -1 when the piece is not in that form.
int parse_byte_piece(std::string_view piece) {
  if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return -1;
  const int hi = hex_value(piece[3]), lo = hex_value(piece[4]);
  return (hi < 0 || lo < 0) ? -1 : hi * 16 + lo;
}
}  // namespace

SentencePieceTokenizer::SentencePieceTokenizer(Vocab vocab) : Tokenizer(std::move(vocab)) {
  std::fill(std::begin(byte_tokens_), std::end(byte_tokens_), kNoToken);
  for (size_t i = 0; i < vocab_.size(); ++i) {
    if (vocab_.types[i] != TokenType::byte) continue;
    const int b = parse_byte_piece(vocab_.tokens[i]);
    if (b >= 0 && byte_tokens_[b] == kNoToken) byte_tokens_[b] = static_cast<TokenId>(i);
  }
}

void SentencePieceTokenizer::encode_text(std::string_view raw, bool after_special, std::vector<TokenId>& out) const {
  std::string text;
  if (vocab_.add_space_prefix && after_special) text = " ";
  text.append(raw);
  // Escape spaces.
  std::string escaped;
  escaped.reserve(text.size() * 3);
  for (char c : text) {
    if (c == ' ') escaped.append(kSpace);
    else escaped.push_back(c);
  }

  struct Symbol {
    int prev, next;
    size_t start, length;  // byte range in `escaped`; length 0 once merged into its left neighbour
  };
  std::vector<Symbol> symbols;
  for (size_t i = 0; i < escaped.size();) {
    size_t n = utf8::sequence_length(static_cast<uint8_t>(escaped[i]));
    if (n == 0) n = 1;
    n = std::min(n, escaped.size() - i);
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({index - 1, index + 1, i, n});
    i += n;
  }
  if (symbols.empty()) return;
  symbols.back().next = -1;

  struct Bigram {
    int left, right;
    float score;
    size_t length;
  };
  auto worse = [](const Bigram& a, const Bigram& b) {  // priority: higher score, then leftmost
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  };
  std::priority_queue<Bigram, std::vector<Bigram>, decltype(worse)> queue(worse);
  auto try_add = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const size_t length = symbols[left].length + symbols[right].length;
    const TokenId id = find(std::string_view(escaped).substr(symbols[left].start, length));
    if (id == kNoToken) return;
    queue.push({left, right, vocab_.scores[id], length});
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& left = symbols[b.left];
    Symbol& right = symbols[b.right];
    if (left.length == 0 || right.length == 0 || left.length + right.length != b.length) continue;  // stale
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = b.left;
    try_add(left.prev, b.left);
    try_add(b.left, left.next);
  }

  for (int i = 0; i >= 0; i = symbols[i].next) {
    const std::string_view piece = std::string_view(escaped).substr(symbols[i].start, symbols[i].length);
    const TokenId id = find(piece);
    if (id != kNoToken) {
      out.push_back(id);
      continue;
    }
    for (char c : piece) {  // byte fallback
      const TokenId byte_id = byte_tokens_[static_cast<uint8_t>(c)];
      out.push_back(byte_id != kNoToken ? byte_id : vocab_.unk);
    }
  }
}

std::string SentencePieceTokenizer::token_to_piece(TokenId id, bool special) const {
  if (id < 0 || static_cast<size_t>(id) >= vocab_.size()) {
    throw Error(Errc::invalid_argument, "token id " + std::to_string(id) + " is outside the vocabulary (" +
                                            std::to_string(vocab_.size()) + " tokens)");
  }
  const std::string& piece = vocab_.tokens[id];
  switch (vocab_.types[id]) {
    case TokenType::byte: {
      const int b = parse_byte_piece(piece);
      return b >= 0 ? std::string(1, static_cast<char>(b)) : std::string();
    }
    case TokenType::control:
      return special ? piece : std::string();
    case TokenType::unknown:
      return "\xE2\x96\x85";  // U+2585, as llama.cpp renders <unk>
    case TokenType::user_defined:
      return piece;
    default: {
      std::string text;
      for (size_t i = 0; i < piece.size();) {
        if (piece.compare(i, kSpace.size(), kSpace) == 0) {
          text.push_back(' ');
          i += kSpace.size();
        } else {
          text.push_back(piece[i++]);
        }
      }
      return text;
    }
  }
}

}  // namespace qtr
