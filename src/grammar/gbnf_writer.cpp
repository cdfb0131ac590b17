// GbnfWriter: names rules uniquely, shares identical bodies, and escapes literals and classes.
#include "grammar/gbnf_writer.hpp"

#include <cstdio>

namespace qtr::grammar {
namespace {

// Appends code point `cp` as it may appear inside "..." (quote = true) or [...] (quote = false).
void append_escaped(std::string& out, uint32_t cp, bool quote) {
  char buf[16];
  if (cp == '\\') { out += "\\\\"; return; }
  if (quote && cp == '"') { out += "\\\""; return; }
  if (!quote && (cp == ']' || cp == '[' || cp == '-' || cp == '^')) { out += '\\'; out += static_cast<char>(cp); return; }
  if (cp == '\n') { out += "\\n"; return; }
  if (cp == '\r') { out += "\\r"; return; }
  if (cp == '\t') { out += "\\t"; return; }
  if (cp < 0x20 || cp == 0x7f) { std::snprintf(buf, sizeof buf, "\\x%02X", cp); out += buf; return; }
  if (cp < 0x80) { out += static_cast<char>(cp); return; }
  if (cp <= 0xFFFF) { std::snprintf(buf, sizeof buf, "\\u%04X", cp); out += buf; return; }
  std::snprintf(buf, sizeof buf, "\\U%08X", cp);
  out += buf;
}

// Decodes one UTF-8 sequence at s[i]; returns its length, or 0 when it is not valid UTF-8.
size_t decode_utf8(std::string_view s, size_t i, uint32_t& cp) {
  const auto b = static_cast<unsigned char>(s[i]);
  size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
  for (size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c >> 6) != 2) return 0;
    cp = (cp << 6) | (c & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

std::string rule_name(std::string_view hint) {
  std::string name;
  for (char c : hint) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    name += ok ? c : '-';
  }
  if (name.empty()) name = "r";
  if (name.size() > 48) name.resize(48);
  return name;
}

}  // namespace

std::string gbnf_literal(std::string_view bytes) {
  std::string out = "\"";
  for (size_t i = 0; i < bytes.size();) {
    uint32_t cp = 0;
    const size_t n = decode_utf8(bytes, i, cp);
    if (n == 0) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned char>(bytes[i]));
      out += buf;
      ++i;
      continue;
    }
    append_escaped(out, cp, true);
    i += n;
  }
  return out + "\"";
}

std::string gbnf_class(const std::vector<std::pair<uint32_t, uint32_t>>& ranges, bool negated) {
  std::string out = negated ? "[^" : "[";
  for (const auto& [lo, hi] : ranges) {
    append_escaped(out, lo, false);
    if (hi != lo) {
      out += '-';
      append_escaped(out, hi, false);
    }
  }
  return out + "]";
}

std::string GbnfWriter::add(std::string_view hint, std::string body) {
  if (auto it = by_body_.find(body); it != by_body_.end()) return it->second;
  const std::string base = rule_name(hint);
  std::string name = base;
  for (int k = 2; name == "root" || by_name_.count(name); ++k) name = base + "-" + std::to_string(k);
  by_name_[name] = rules_.size();
  bytes_ += name.size() + body.size() + 6;
  by_body_[body] = name;
  rules_.emplace_back(name, std::move(body));
  return name;
}

void GbnfWriter::set_root(std::string body) {
  bytes_ += body.size() + 9;
  root_ = std::move(body);
}

std::string GbnfWriter::text() const {
  std::string out = "root ::= " + root_ + "\n";
  for (const auto& [name, body] : rules_) out += name + " ::= " + body + "\n";
  return out;
}

}  // namespace qtr::grammar
