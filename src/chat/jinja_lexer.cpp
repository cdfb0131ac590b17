// Jinja lexer: template text, {{ }}, {% %}, {# #} with jinja2's whitespace control.
#include <algorithm>
#include <cstring>

#include "chat/jinja_ast.hpp"
#include "qtr/utf8.hpp"

namespace qtr::jinja {

Error make_error(Errc code, const std::string& origin, SourcePos pos, const std::string& message) {
  return Error(code, origin + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": " + message);
}

namespace {

// \r\n and \r become \n; one trailing newline is dropped (jinja2's keep_trailing_newline=False).
std::string normalize_newlines(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

bool all_space(std::string_view s) {
  if (s.empty()) return false;
  for (std::string_view cp : code_points(s)) {
    if (!is_py_space(cp)) return false;
  }
  return true;
}

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  Lexer(std::string_view source, const std::string& origin, const LexOptions& options)
      : src_(normalize_newlines(source)), origin_(origin), options_(options) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i) {
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  std::vector<Token> run() {
    size_t p = 0;
    bool line_starting = true;
    while (p <= src_.size()) {
      const size_t open = find_tag(p);
      std::string text = src_.substr(p, (open == std::string::npos ? src_.size() : open) - p);
      if (open == std::string::npos) {
        emit_text(std::move(text), p);
        break;
      }
      const char kind = src_[open + 1];  // '{', '%' or '#'
      size_t q = open + 2;
      char sign = 0;
      if (q < src_.size() && (src_[q] == '-' || (src_[q] == '+' && kind != '{'))) sign = src_[q++];
      if (sign == '-') {
        text = py_strip(text, false, true);
      } else if (sign != '+' && options_.lstrip_blocks && kind != '{') {
        const size_t nl = text.rfind('\n');
        const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
        if ((l_pos > 0 || line_starting) && all_space(std::string_view(text).substr(l_pos))) text.resize(l_pos);
      }
      emit_text(std::move(text), p);
      bool strip_after = false;
      if (kind == '#') {
        const size_t close = src_.find("#}", q);
        if (close == std::string::npos) throw error(Errc::bad_format, open, "unterminated comment '{#'");
        strip_after = close > q && src_[close - 1] == '-';
        p = close + 2;
      } else {
        p = lex_tag(q, kind == '%', open, strip_after);
      }
      const size_t end_of_tag = p;
      if (strip_after) {
        while (p < src_.size() && all_space(code_point_at(p))) p += code_point_at(p).size();
      } else if (kind != '{' && options_.trim_blocks && p < src_.size() && src_[p] == '\n') {
        ++p;
      }
      line_starting = p > end_of_tag && src_[p - 1] == '\n';
      if (p == src_.size()) break;
    }
    tokens_.push_back(Token{Token::Kind::eof, "", pos_of(src_.size())});
    return std::move(tokens_);
  }

 private:
  std::string_view code_point_at(size_t p) const {
    const std::string_view rest = std::string_view(src_).substr(p);
    const size_t n = utf8::valid_sequence_length(rest);
    return rest.substr(0, n == 0 ? 1 : n);
  }

  size_t find_tag(size_t from) const {
    for (size_t i = from; i + 1 < src_.size(); ++i) {
      if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return std::string::npos;
  }

  SourcePos pos_of(size_t offset) const {
    const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    const size_t line = static_cast<size_t>(it - line_starts_.begin());
    return SourcePos{static_cast<int>(line), static_cast<int>(offset - line_starts_[line - 1] + 1)};
  }

  Error error(Errc code, size_t offset, const std::string& message) const {
    return make_error(code, origin_, pos_of(offset), message);
  }

  void emit_text(std::string text, size_t offset) {
    if (!text.empty()) tokens_.push_back(Token{Token::Kind::text, std::move(text), pos_of(offset)});
  }

  void push(Token::Kind kind, std::string text, size_t offset) { tokens_.push_back(Token{kind, std::move(text), pos_of(offset)}); }

  bool starts(size_t p, const char* s) const { return src_.compare(p, std::strlen(s), s) == 0; }

  // Lexes the inside of {{ }} or {% %} starting at p; returns the offset just past the closing delimiter.
  size_t lex_tag(size_t p, bool block, size_t open, bool& strip_after) {
    push(block ? Token::Kind::block_begin : Token::Kind::var_begin, block ? "{%" : "{{", open);
    int depth = 0;  // open brackets: inside them "}}" closes a dict, not the tag
    for (;;) {
      while (p < src_.size() && std::strchr(" \t\n\r\f\v", src_[p]) && src_[p] != 0) ++p;
      if (p >= src_.size()) {
        throw error(Errc::bad_format, open, std::string("unterminated tag '") + (block ? "{%" : "{{") + "'");
      }
      const char* end = block ? "%}" : "}}";
      if (depth == 0 || block) {
        if (src_[p] == '-' && starts(p + 1, end)) {
          strip_after = true;
          push(block ? Token::Kind::block_end : Token::Kind::var_end, end, p);
          return p + 3;
        }
        if (starts(p, end) && (block || depth == 0)) {
          push(block ? Token::Kind::block_end : Token::Kind::var_end, end, p);
          return p + 2;
        }
      }
      const char c = src_[p];
      if (is_name_start(c)) {
        size_t e = p;
        while (e < src_.size() && is_name_char(src_[e])) ++e;
        push(Token::Kind::name, src_.substr(p, e - p), p);
        p = e;
      } else if (is_digit(c)) {
        p = lex_number(p);
      } else if (c == '\'' || c == '"') {
        p = lex_string(p);
      } else {
        static const char* const kOps[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<",
                                           ">",  "=",  "(",  ")",  "[",  "]",  "{", "}", ",", ".", ":", "|", ";"};
        const char* match = nullptr;
        for (const char* op : kOps) {
          if (starts(p, op)) {
            match = op;
            break;
          }
        }
        if (!match) {
          throw error(Errc::bad_format, p, "unexpected character '" + std::string(code_point_at(p)) + "' in tag");
        }
        if (*match == '(' || *match == '[' || *match == '{') ++depth;
        if ((*match == ')' || *match == ']' || *match == '}') && depth > 0) --depth;
        push(Token::Kind::op, match, p);
        p += std::strlen(match);
      }
    }
  }

  size_t lex_number(size_t p) {
    size_t e = p;
    auto digits = [&] {
      while (e < src_.size() && (is_digit(src_[e]) || (src_[e] == '_' && e + 1 < src_.size() && is_digit(src_[e + 1])))) ++e;
    };
    digits();
    bool is_float = false;
    if (e + 1 < src_.size() && src_[e] == '.' && is_digit(src_[e + 1])) {
      is_float = true;
      ++e;
      digits();
    }
    if (e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
      size_t x = e + 1;
      if (x < src_.size() && (src_[x] == '+' || src_[x] == '-')) ++x;
      if (x < src_.size() && is_digit(src_[x])) {
        is_float = true;
        e = x;
        digits();
      }
    }
    std::string spelling;
    for (size_t i = p; i < e; ++i) {
      if (src_[i] != '_') spelling += src_[i];
    }
    push(is_float ? Token::Kind::floating : Token::Kind::integer, spelling, p);
    return e;
  }

  // Python string-literal escapes, as jinja2 decodes them (unicode-escape); unknown escapes stay as written.
  size_t lex_string(size_t p) {
    const char quote = src_[p];
    std::string out;
    size_t i = p + 1;
    for (;;) {
      if (i >= src_.size()) throw error(Errc::bad_format, p, "unterminated string literal");
      const char c = src_[i];
      if (c == quote) break;
      if (c != '\\') {
        out += c;
        ++i;
        continue;
      }
      if (i + 1 >= src_.size()) throw error(Errc::bad_format, p, "unterminated string literal");
      const char e = src_[i + 1];
      i += 2;
      switch (e) {
        case '\n': break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'v': out += '\v'; break;
        case 'x':
        case 'u':
        case 'U': {
          const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          char32_t cp = 0;
          for (size_t k = 0; k < n; ++k) {
            const int h = i + k < src_.size() ? hex_value(src_[i + k]) : -1;
            if (h < 0) throw error(Errc::bad_format, i - 2, std::string("truncated \\") + e + " escape in string literal");
            cp = cp * 16 + static_cast<char32_t>(h);
          }
          i += n;
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            throw error(Errc::unsupported, i - n - 2, "escape of a surrogate or out-of-range code point");
          }
          utf8::append(out, cp);
          break;
        }
        case 'N': throw error(Errc::unsupported, i - 2, "\\N{...} escapes in string literals");
        default:
          if (e >= '0' && e <= '7') {
            char32_t cp = static_cast<char32_t>(e - '0');
            for (int k = 0; k < 2 && i < src_.size() && src_[i] >= '0' && src_[i] <= '7'; ++k) cp = cp * 8 + (src_[i++] - '0');
            utf8::append(out, cp);
          } else {
            out += '\\';
            out += e;
          }
      }
    }
    push(Token::Kind::string, std::move(out), p);
    return i + 1;
  }

  std::string src_;
  const std::string& origin_;
  LexOptions options_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> lex(std::string_view source, const std::string& origin, const LexOptions& options) {
  return Lexer(source, origin, options).run();
}

}  // namespace qtr::jinja
