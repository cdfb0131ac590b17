#include "byte_bpe.hpp"

// PCRE2 serves several code-unit widths from one header; qtr matches UTF-8 text, so it uses the 8-bit library.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <array>
#include <optional>

#include "qtr/error.hpp"
#include "qtr/utf8.hpp"

namespace qtr {

namespace {

// ---- GPT-2's byte <-> character mapping ------------------------------------------------------------------------

// bytes_to_unicode() from GPT-2's encoder.py: the printable bytes '!'..'~', U+00A1..U+00AC and U+00AE..U+00FF stand
// for themselves; the other 68 bytes (controls, space, DEL, NBSP, soft hyphen) take U+0100, U+0101, ... in byte
// order. Every byte so gets a visible, non-space character, and BPE never sees raw whitespace.
constexpr bool stands_for_itself(int b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

constexpr std::array<char32_t, 256> make_byte_to_char() {
  std::array<char32_t, 256> table{};
  char32_t next = 0x100;
  for (int b = 0; b < 256; ++b) table[b] = stands_for_itself(b) ? static_cast<char32_t>(b) : next++;
  return table;
}

constexpr std::array<char32_t, 256> kByteToChar = make_byte_to_char();
constexpr char32_t kCharLimit = 0x100 + 68;  // every byte-level character is below this

// The inverse: the byte a character stands for, or -1.
constexpr std::array<int16_t, kCharLimit> make_char_to_byte() {
  std::array<int16_t, kCharLimit> table{};
  for (auto& b : table) b = -1;
  for (int b = 0; b < 256; ++b) table[kByteToChar[b]] = static_cast<int16_t>(b);
  return table;
}

constexpr std::array<int16_t, kCharLimit> kCharToByte = make_char_to_byte();

// ---- pre-tokenizers --------------------------------------------------------------------------------------------

// The regexes of llama.cpp's llm_tokenizer_bpe, verbatim. llama.cpp rewrites the case-insensitive contractions of
// the Hugging Face patterns, "(?i:'s|'t|'re|'ve|'m|'ll|'d)", as explicit [sS]-style classes; qtr uses its form.
// Llama 3 (tokenizer.json: "\p{N}{1,3}"): letters with one leading non-letter, numbers in groups of up to three
// digits, punctuation runs with trailing newlines, newline runs, whitespace.
constexpr std::string_view kLlama3Pattern =
    R"pat((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)pat";
// Qwen2: the Llama-3 pattern with single digits.
constexpr std::string_view kQwen2Pattern =
    R"pat((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)pat";
// GPT-2's encoder.py pattern (Hugging Face's ByteLevel pre-tokenizer adds "|\s+", which changes nothing here:
// the runs between matches are kept as words too).
constexpr std::string_view kGpt2Pattern =
    R"pat('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))pat";
// SmolLM and others split digits apart before applying the GPT-2 pattern.
constexpr std::string_view kDigitPattern = R"pat(\p{N})pat";

struct PreTokenizerSpec {
  std::vector<std::string_view> patterns;  // applied in order, each to the pieces the previous one left
  bool ignore_merges = false;              // llama.cpp sets it for the Llama-3 pre-tokenizer only
};

// What llama.cpp does for a tokenizer.ggml.pre name (including the aliases it accepts for the same pre-tokenizer);
// nullopt for names qtr does not know.
std::optional<PreTokenizerSpec> pre_tokenizer_spec(std::string_view pre) {
  if (pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3") return PreTokenizerSpec{{kLlama3Pattern}, true};
  if (pre == "qwen2") return PreTokenizerSpec{{kQwen2Pattern}, false};
  if (pre == "gpt2" || pre == "gpt-2") return PreTokenizerSpec{{kGpt2Pattern}, false};
  if (pre == "smollm") return PreTokenizerSpec{{kDigitPattern, kGpt2Pattern}, false};
  return std::nullopt;
}

// A byte range of the text being tokenized.
struct Piece {
  size_t start, length;
};

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  const int n = pcre2_get_error_message(code, buffer, sizeof buffer);
  return n < 0 ? "PCRE2 error " + std::to_string(code) : std::string(reinterpret_cast<const char*>(buffer), n);
}

// The text with every byte that is not part of a valid UTF-8 sequence replaced by U+FFFD, as llama.cpp's
// unicode_cpts_from_utf8 does before pre-tokenizing (PCRE2 needs valid UTF-8). Copies only when something is
// invalid.
std::string_view as_valid_utf8(std::string_view text, std::string& storage) {
  if (utf8::is_valid(text)) return text;
  storage.reserve(text.size() + 16);
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8::valid_sequence_length(text.substr(i));
    if (n == 0) {
      storage += "\xEF\xBF\xBD";
      ++i;
    } else {
      storage.append(text.substr(i, n));
      i += n;
    }
  }
  return storage;
}

}  // namespace

// ---- compiled patterns -----------------------------------------------------------------------------------------

struct ByteBpeTokenizer::Pattern {
  explicit Pattern(std::string_view source) {
    int error = 0;
    PCRE2_SIZE offset = 0;
    code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(source.data()), source.size(), PCRE2_UTF | PCRE2_UCP, &error,
                         &offset, nullptr);
    if (!code) {
      throw Error(Errc::internal, "cannot compile the BPE pre-tokenizer regex /" + std::string(source) +
                                      "/ at offset " + std::to_string(offset) + ": " + pcre2_message(error));
    }
    // JIT compilation makes matching several times faster; where it is unavailable pcre2_match interprets.
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  }
  ~Pattern() { pcre2_code_free(code); }
  Pattern(const Pattern&) = delete;
  Pattern& operator=(const Pattern&) = delete;

  // Appends to `out` the matches of the pattern in `piece` and the runs between them, in order (llama.cpp's
  // unicode_regex_split keeps both; Hugging Face's Split "Isolated" behaves the same). The piece is matched as a
  // subject of its own, so lookaheads stop at its end.
  void split(std::string_view text, Piece piece, pcre2_match_data* match, std::vector<Piece>& out) const {
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data() + piece.start);
    size_t gap = 0, pos = 0;
    while (pos < piece.length) {
      const int rc = pcre2_match(code, subject, piece.length, pos, PCRE2_NO_UTF_CHECK, match, nullptr);
      if (rc == PCRE2_ERROR_NOMATCH) break;
      if (rc < 0) fail(rc);
      const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match);
      const size_t begin = ovector[0], end = ovector[1];
      if (end == begin) {  // an empty match (none of qtr's patterns makes one): step over a character
        if (begin >= piece.length) break;
        pos = begin + std::max<size_t>(1, utf8::sequence_length(subject[begin]));
        continue;
      }
      if (begin > gap) out.push_back({piece.start + gap, begin - gap});
      out.push_back({piece.start + begin, end - begin});
      gap = pos = end;
    }
    if (gap < piece.length) out.push_back({piece.start + gap, piece.length - gap});
  }

  [[noreturn]] static void fail(int rc) {
    const bool limit = rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT ||
                       rc == PCRE2_ERROR_JIT_STACKLIMIT || rc == PCRE2_ERROR_NOMEMORY;
    throw Error(limit ? Errc::out_of_memory : Errc::internal, "BPE pre-tokenizer regex failed: " + pcre2_message(rc));
  }

  pcre2_code* code = nullptr;
};

// ---- per-call state --------------------------------------------------------------------------------------------

struct ByteBpeTokenizer::Scratch {
  struct Symbol {
    int prev, next;         // neighbours in the word, -1 at its ends
    size_t start, length;   // bytes of the word; length 0 once merged into the left neighbour
    TokenId id;             // the token the symbol's text is (kNoToken: byte fallback at the end)
  };
  struct Bigram {
    int left, right;        // symbols
    int32_t rank;
    size_t length;          // left + right length when queued: a different sum means the entry is stale
    TokenId result;
  };

  Scratch() : match(pcre2_match_data_create(1, nullptr), &pcre2_match_data_free) {
    if (!match) throw Error(Errc::out_of_memory, "cannot allocate PCRE2 match data");
  }

  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> match;  // one per call: thread-safe encode
  std::vector<Symbol> symbols;
  std::vector<Bigram> queue;  // a heap: lowest rank, then leftmost, on top
  std::string encoded;        // byte-level text of a word (for the ignore_merges look-up)
};

// ---- the tokenizer ---------------------------------------------------------------------------------------------

ByteBpeTokenizer::ByteBpeTokenizer(Vocab vocab) : Tokenizer(std::move(vocab)) {
  const auto spec = pre_tokenizer_spec(vocab_.pre);
  if (!spec) {
    throw Error(Errc::unsupported,
                (vocab_.pre.empty() ? std::string("BPE vocabulary without a pre-tokenizer name (tokenizer.ggml.pre)")
                                    : "unsupported BPE pre-tokenizer '" + vocab_.pre + "' (tokenizer.ggml.pre)") +
                    "; qtr supports llama-bpe, qwen2, gpt2 and smollm");
  }
  for (std::string_view p : spec->patterns) patterns_.push_back(std::make_unique<const Pattern>(p));
  ignore_merges_ = spec->ignore_merges;

  for (int b = 0; b < 256; ++b) {
    utf8::append(byte_chars_[b], kByteToChar[b]);
    byte_tokens_[b] = find(byte_chars_[b]);
  }

  // Merges are keyed by the token ids of their two parts, so the BPE loop never builds strings. A merge whose parts
  // or result are not tokens cannot produce a token and is left out; of duplicate pairs the first (best) rank
  // counts, as in llama.cpp.
  merges_.reserve(vocab_.merges.size());
  for (size_t i = 0; i < vocab_.merges.size(); ++i) {
    const std::string& merge = vocab_.merges[i];
    const size_t space = merge.size() > 1 ? merge.find(' ', 1) : std::string::npos;  // "  x": the left part is " "
    if (space == std::string::npos || space + 1 == merge.size()) {
      throw Error(Errc::bad_format, "tokenizer.ggml.merges[" + std::to_string(i) + "] = '" + merge +
                                        "' is not two pieces separated by a space");
    }
    const TokenId left = find(std::string_view(merge).substr(0, space));
    const TokenId right = find(std::string_view(merge).substr(space + 1));
    if (left == kNoToken || right == kNoToken) continue;
    const TokenId result = find(merge.substr(0, space) + merge.substr(space + 1));
    if (result == kNoToken) continue;
    const uint64_t key = (uint64_t(uint32_t(left)) << 32) | uint32_t(right);
    merges_.emplace(key, Merge{static_cast<int32_t>(i), result});
  }
}

ByteBpeTokenizer::~ByteBpeTokenizer() = default;

const ByteBpeTokenizer::Merge* ByteBpeTokenizer::find_merge(TokenId left, TokenId right) const {
  if (left == kNoToken || right == kNoToken) return nullptr;
  const auto it = merges_.find((uint64_t(uint32_t(left)) << 32) | uint32_t(right));
  return it == merges_.end() ? nullptr : &it->second;
}

void ByteBpeTokenizer::encode_text(std::string_view raw, bool /*after_special*/, std::vector<TokenId>& out) const {
  std::string storage;
  const std::string_view text = as_valid_utf8(raw, storage);
  Scratch scratch;
  std::vector<Piece> words{{0, text.size()}}, next;
  for (const auto& pattern : patterns_) {
    next.clear();
    for (const Piece& piece : words) pattern->split(text, piece, scratch.match.get(), next);
    words.swap(next);
  }
  for (const Piece& word : words) encode_word(text.substr(word.start, word.length), scratch, out);
}

void ByteBpeTokenizer::encode_word(std::string_view word, Scratch& s, std::vector<TokenId>& out) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    s.encoded.clear();
    for (char c : word) s.encoded += byte_chars_[static_cast<uint8_t>(c)];
    if (const TokenId id = find(s.encoded); id != kNoToken) {
      out.push_back(id);
      return;
    }
  }

  // One symbol per byte (= one byte-level character).
  auto& symbols = s.symbols;
  symbols.clear();
  const int n = static_cast<int>(word.size());
  for (int i = 0; i < n; ++i) {
    symbols.push_back({i - 1, i + 1 < n ? i + 1 : -1, size_t(i), 1, byte_tokens_[static_cast<uint8_t>(word[i])]});
  }

  auto& queue = s.queue;
  queue.clear();
  const auto later = [](const Scratch::Bigram& a, const Scratch::Bigram& b) {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  };
  const auto try_add = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const Merge* merge = find_merge(symbols[left].id, symbols[right].id);
    if (!merge) return;
    queue.push_back({left, right, merge->rank, symbols[left].length + symbols[right].length, merge->result});
    std::push_heap(queue.begin(), queue.end(), later);
  };
  for (int i = 1; i < n; ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    std::pop_heap(queue.begin(), queue.end(), later);
    const Scratch::Bigram b = queue.back();
    queue.pop_back();
    auto& left = symbols[b.left];
    auto& right = symbols[b.right];
    if (left.length == 0 || right.length == 0 || left.length + right.length != b.length) continue;  // stale
    left.length += right.length;
    left.id = b.result;
    right.length = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = b.left;
    try_add(left.prev, b.left);
    try_add(b.left, left.next);
  }

  for (int i = 0; i >= 0; i = symbols[i].next) {
    const auto& sym = symbols[i];
    if (sym.id != kNoToken) {
      out.push_back(sym.id);
      continue;
    }
    // Only a byte whose character is missing from the vocabulary gets here: it is dropped, as in llama.cpp.
    for (size_t k = sym.start; k < sym.start + sym.length; ++k) {
      const TokenId id = byte_tokens_[static_cast<uint8_t>(word[k])];
      if (id != kNoToken) out.push_back(id);
    }
  }
}

std::string ByteBpeTokenizer::token_to_piece(TokenId id, bool special) const {
  if (id < 0 || static_cast<size_t>(id) >= vocab_.size()) {
    throw Error(Errc::invalid_argument, "token id " + std::to_string(id) + " is outside the vocabulary (" +
                                            std::to_string(vocab_.size()) + " tokens)");
  }
  const std::string& text = vocab_.tokens[id];
  switch (vocab_.types[id]) {
    case TokenType::normal: break;
    case TokenType::user_defined: return text;
    case TokenType::control:
    case TokenType::unknown: return special ? text : std::string();
    default: return {};  // byte, unused, undefined: llama.cpp suppresses them like control tokens
  }
  // Map each byte-level character back to its byte; anything else (not produced by byte-level BPE) is kept.
  std::string bytes;
  bytes.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8::valid_sequence_length(std::string_view(text).substr(i));
    if (n == 0) {
      bytes.push_back(text[i++]);
      continue;
    }
    const char32_t c = utf8::decode(std::string_view(text).substr(i), n);
    const int b = c < kCharLimit ? kCharToByte[c] : -1;
    if (b >= 0) bytes.push_back(static_cast<char>(b));
    else bytes.append(text, i, n);
    i += n;
  }
  return bytes;
}

}  // namespace qtr
