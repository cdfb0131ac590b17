// JSON Schema → GBNF: the string formats the compiler asserts, each written directly as GBNF from its RFC.
//
// date: RFC 3339 full-date, with month lengths and leap years (2021-02-29 and 1900-02-29 are rejected);
// time: RFC 3339 full-time with a required offset (Z/z or +hh:mm), a leap second only as 23:59:60 in UTC
// (Z or +/-00:00: offset-adjusted leap seconds are rejected, a subset); date-time: date [Tt] time;
// duration: RFC 3339 appendix A (P, then years/months/days with an optional T part, or a T part, or weeks alone);
// uuid: 8-4-4-4-12 hex digits, either case; ipv4: dotted quads 0-255 without leading zeros; ipv6: RFC 4291 /
// RFC 3986 IPv6address, with :: compression and an embedded ipv4 (no zone ids); hostname: RFC 1123 labels of
// 1-63 letters, digits and inner hyphens (the 253-character total is not checked); email: a practical subset,
// a dot-atom local part then @ and a hostname or [ipv4]; uri: a scheme, ':', then URI characters (unreserved,
// reserved, %XX; '/' also as \/), not the full RFC 3986 structure.
// Every other format is an annotation only (JSON Schema does not assert formats by default): any string.
// The characters of a format are matched raw, never as \uXXXX escapes.
#include <string>
#include <vector>

#include "grammar/json_schema_internal.hpp"

namespace qtr::grammar::schema_detail {
namespace {

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

}  // namespace

std::optional<std::string> format_expr(std::string_view format, Rules& rules) {
  auto q = [](const std::string& rule) { return "\"\\\"\" " + rule + " \"\\\"\""; };
  const std::string hex = "[0-9a-fA-F]";
  const std::string d2 = "[0-9] [0-9]";
  auto date = [&] {
    const std::string leap = rules.add("leap-year",
        "[0-9] [0-9] ([02468] [48] | [2468] \"0\" | [13579] [26]) | ([02468] [048] | [13579] [26]) \"00\"");
    return rules.add("date", "[0-9]{4} \"-\" ((\"0\" [13578] | \"1\" [02]) \"-\" (\"0\" [1-9] | [12] [0-9] | \"3\" [01]) | "
                             "(\"0\" [469] | \"11\") \"-\" (\"0\" [1-9] | [12] [0-9] | \"30\") | "
                             "\"02-\" (\"0\" [1-9] | \"1\" [0-9] | \"2\" [0-8])) | " + leap + " \"-02-29\"");
  };
  auto time = [&] {
    const std::string frac = "(\".\" [0-9]+)?";
    const std::string offset = "([+-] ([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9])";
    return rules.add("time", "([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9] \":\" [0-5] [0-9] " + frac + " ([zZ] | " + offset +
                                 ") | \"23:59:60\" " + frac + " ([zZ] | [+-] \"00:00\")");
  };
  auto ipv4 = [&] {
    const std::string oct = rules.add("dec-octet", "\"25\" [0-5] | \"2\" [0-4] [0-9] | \"1\" " + d2 + " | [1-9] [0-9] | [0-9]");
    return rules.add("ipv4", oct + " \".\" " + oct + " \".\" " + oct + " \".\" " + oct);
  };
  auto hostname = [&] {
    const std::string label = rules.add("label", "[a-zA-Z0-9] ([a-zA-Z0-9\\-]{0,61} [a-zA-Z0-9])?");
    return rules.add("hostname", label + " (\".\" " + label + ")*");
  };
  if (format == "date") return q(date());
  if (format == "time") return q(time());
  if (format == "date-time") return q(rules.add("date-time", date() + " [tT] " + time()));
  if (format == "duration") {
    const std::string n = "[0-9]+";
    const std::string sec = n + " \"S\"", min = n + " \"M\" (" + sec + ")?", hour = n + " \"H\" (" + min + ")?";
    const std::string t = rules.add("dur-time", "\"T\" (" + hour + " | " + min + " | " + sec + ")");
    const std::string day = n + " \"D\"", month = n + " \"M\" (" + day + ")?", year = n + " \"Y\" (" + month + ")?";
    return q(rules.add("duration", "\"P\" ((" + day + " | " + month + " | " + year + ") " + t + "? | " + t + " | " + n + " \"W\")"));
  }
  if (format == "uuid") {
    return q(rules.add("uuid", hex + "{8} \"-\" " + hex + "{4} \"-\" " + hex + "{4} \"-\" " + hex + "{4} \"-\" " + hex + "{12}"));
  }
  if (format == "ipv4") return q(ipv4());
  if (format == "ipv6") {
    const std::string h = rules.add("h16", hex + "{1,4}");
    const std::string ls32 = rules.add("ls32", h + " \":\" " + h + " | " + ipv4());
    auto reps = [&](int k) { return k == 0 ? std::string() : "(" + h + " \":\"){" + std::to_string(k) + "} "; };
    auto before = [&](int k) { return k == 0 ? h + "? " : "((" + h + " \":\"){0," + std::to_string(k) + "} " + h + ")? "; };
    std::vector<std::string> alts = {reps(6) + ls32, "\"::\" " + reps(5) + ls32};
    alts.push_back(before(0) + "\"::\" " + reps(4) + ls32);
    alts.push_back(before(1) + "\"::\" " + reps(3) + ls32);
    alts.push_back(before(2) + "\"::\" " + reps(2) + ls32);
    alts.push_back(before(3) + "\"::\" " + h + " \":\" " + ls32);
    alts.push_back(before(4) + "\"::\" " + ls32);
    alts.push_back(before(5) + "\"::\" " + h);
    alts.push_back(before(6) + "\"::\"");
    return q(rules.add("ipv6", join(alts, " | ")));
  }
  if (format == "hostname") return q(hostname());
  if (format == "email") {
    const std::string atext = "[a-zA-Z0-9!#$%&'*+/=?\\^_`{|}~\\-]+";
    return q(rules.add("email", atext + " (\".\" " + atext + ")* \"@\" (" + hostname() + " | \"[\" " + ipv4() + " \"]\")"));
  }
  if (format == "uri") {
    const std::string c = "[a-zA-Z0-9\\-._~:/?#\\[\\]@!$&'()*+,;=] | \"%\" " + hex + " " + hex + " | \"\\\\/\"";
    return q(rules.add("uri", "[a-zA-Z] [a-zA-Z0-9+.\\-]* \":\" (" + c + ")*"));
  }
  return std::nullopt;
}

}  // namespace qtr::grammar::schema_detail
