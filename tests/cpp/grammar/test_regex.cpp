// Regex → GBNF compiler tests: each pattern is compiled, parsed with parse_gbnf and run on texts it must accept
// and reject (raw and json_string encodings, whole-text and search semantics), every error is checked by code,
// message and offset, and a batch of ASCII patterns is compared with std::regex (ECMAScript) on generated strings.
#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <string>
#include <vector>

#include "grammar/grammar.hpp"
#include "grammar/regex.hpp"
#include "qtr/error.hpp"

namespace qtr::grammar {
namespace {

RegexOptions opts(bool search, RegexEncoding encoding = RegexEncoding::raw) {
  RegexOptions o;
  o.search = search;
  o.encoding = encoding;
  return o;
}
const RegexOptions kFull = opts(false);
const RegexOptions kSearch = opts(true);
const RegexOptions kJson = opts(false, RegexEncoding::json_string);
const RegexOptions kJsonSearch = opts(true, RegexEncoding::json_string);

std::string compile(std::string_view pattern, const RegexOptions& o) {
  GbnfWriter w;
  w.set_root(regex_to_gbnf(pattern, o, w));
  return w.text();
}

struct Case {
  std::string pattern;
  RegexOptions options;
  std::vector<std::string> accept, reject;
};

void run_cases(const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    SCOPED_TRACE("pattern /" + c.pattern + "/ search=" + std::to_string(c.options.search) +
                 " json=" + std::to_string(c.options.encoding == RegexEncoding::json_string));
    std::string gbnf;
    Grammar g;
    try {
      gbnf = compile(c.pattern, c.options);
      g = parse_gbnf(gbnf);
    } catch (const Error& e) {
      ADD_FAILURE() << e.what() << "\n" << gbnf;
      continue;
    }
    for (const auto& t : c.accept) EXPECT_TRUE(grammar_accepts(g, t)) << "should accept '" << t << "'\n" << gbnf;
    for (const auto& t : c.reject) EXPECT_FALSE(grammar_accepts(g, t)) << "should reject '" << t << "'\n" << gbnf;
  }
}

TEST(RegexCompile, LiteralsClassesEscapes) {
  run_cases({
      {"abc", kFull, {"abc"}, {"", "ab", "abcd", "abd", "xabc"}},
      {"", kFull, {""}, {"a"}},
      {"()", kFull, {""}, {"a"}},
      {"a.c", kFull, {"abc", "a-c", "a\tc", "a\xC3\xA9""c", "a\xF0\x9F\x98\x80""c"}, {"ac", "a\nc", "a\rc",
                                                                              "a\xE2\x80\xA8""c", "abbc"}},
      {"[a-c]x", kFull, {"ax", "bx", "cx"}, {"dx", "x", "Ax"}},
      {"[^a-c]", kFull, {"d", "\n", "\xC3\xA9", "\xF0\x9F\x98\x80", "]"}, {"a", "b", "", "dd"}},
      {"a[]|b", kFull, {"b"}, {"a", ""}},
      {"[^]", kFull, {"\n", "x", "\xF0\x9F\x98\x80"}, {"", "xy"}},
      {"[-a]", kFull, {"-", "a"}, {"b"}},
      {"[a-]", kFull, {"-", "a"}, {"b"}},
      {"[\\]\\\\^\\-]", kFull, {"]", "\\", "^", "-"}, {"a"}},
      {"[a^]", kFull, {"a", "^"}, {"b"}},
      {"[[]", kFull, {"["}, {"]"}},
      {"\\d+", kFull, {"0", "0123456789"}, {"", "a", "\xD9\xA3"}},
      {"\\D", kFull, {"a", "\xC3\xA9"}, {"5"}},
      {"\\w+", kFull, {"aZ_09"}, {"-", "\xC3\xA9"}},
      {"\\W", kFull, {"-", "\xC3\xA9", " "}, {"a", "_"}},
      {"\\s", kFull, {" ", "\t", "\n", "\v", "\f", "\r", "\xC2\xA0", "\xEF\xBB\xBF", "\xE2\x80\x80", "\xE2\x80\x8A",
                      "\xE2\x80\xA8", "\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F", "\xE3\x80\x80", "\xE1\x9A\x80"},
       {"a", "\xE2\x80\x8B", "\x1F"}},
      {"\\S", kFull, {"a", "\xE2\x80\x8B"}, {" ", "\xC2\xA0"}},
      {"[\\d\\s]", kFull, {"1", " "}, {"a"}},
      {"[^\\d\\s]", kFull, {"a", "\xC3\xA9"}, {"1", " ", "\xE3\x80\x80"}},
      {"[\\w-.]+", kFull, {"a-b.c"}, {"a b"}},
      {"\\t\\n\\r\\f\\v\\0", kFull, {std::string("\t\n\r\f\v\0", 6)}, {"tnrfv0"}},
      {"\\x41\\u0042\\u{43}\\u{1F600}", kFull, {"ABC\xF0\x9F\x98\x80"}, {"x41"}},
      {"\\uD83D\\uDE00", kFull, {"\xF0\x9F\x98\x80"}, {}},
      {"\\cJ", kFull, {"\n"}, {"cJ"}},
      {"[\\b]", kFull, {"\b"}, {"b"}},
      {"\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\/\\\\\\-", kFull, {".*+?()[]{}|^$/\\-"}, {}},
      {"a{b", kFull, {"a{b"}, {"ab"}},      // Annex B: a { that starts no quantifier is a literal
      {"a{1,x}", kFull, {"a{1,x}"}, {"a"}},
      {"a}]", kFull, {"a}]"}, {}},
      {"\"q\"", kFull, {"\"q\""}, {"q"}},
      {"caf\xC3\xA9|\xF0\x9F\x98\x80+", kFull, {"caf\xC3\xA9", "\xF0\x9F\x98\x80\xF0\x9F\x98\x80"}, {"cafe", ""}},
      {"[\xC3\xA0-\xC3\xBF]", kFull, {"\xC3\xA9", "\xC3\xA0", "\xC3\xBF"}, {"e", "\xC4\x80"}},
      {"[\\u{1F600}-\\u{1F64F}]", kFull, {"\xF0\x9F\x98\x80", "\xF0\x9F\x99\x8F"}, {"\xF0\x9F\x99\x90"}},
  });
}

TEST(RegexCompile, QuantifiersGroupsAlternation) {
  run_cases({
      {"ab*c", kFull, {"ac", "abc", "abbbbc"}, {"abbd", "bc"}},
      {"ab+c", kFull, {"abc", "abbc"}, {"ac"}},
      {"ab?c", kFull, {"ac", "abc"}, {"abbc"}},
      {"a{3}", kFull, {"aaa"}, {"aa", "aaaa"}},
      {"a{2,4}", kFull, {"aa", "aaa", "aaaa"}, {"a", "aaaaa"}},
      {"a{2,}", kFull, {"aa", "aaaaaaa"}, {"a"}},
      {"a{0}b", kFull, {"b"}, {"ab"}},
      {"a{0,0}", kFull, {""}, {"a"}},
      {"(ab){2}", kFull, {"abab"}, {"ab", "aabb"}},
      {"(?:ab|c){1,2}d", kFull, {"abd", "cd", "abcd", "ccd"}, {"d", "abcabd"}},
      {"(?<year>\\d{4})-(?<m>\\d\\d)", kFull, {"2024-01"}, {"24-01"}},
      {"a*?b+?c??d{1,2}?", kFull, {"bd", "aabbcdd"}, {"ad"}},
      {"cat|dog|", kFull, {"cat", "dog", ""}, {"cow"}},
      {"a|b|c", kFull, {"a", "b", "c"}, {"ab"}},
      {"(a|bc)*", kFull, {"", "a", "bcabc", "aaa"}, {"b", "cb"}},
      {"x(a*)*y", kFull, {"xy", "xay", "xaaay"}, {"xby"}},
      {"x(a*b*)*y", kFull, {"xy", "xabbay", "xbbby"}, {"xcy"}},
      {"x(a?b?)+y", kFull, {"xy", "xabbay"}, {"xc"}},
      {"x(a*|b)+y", kFull, {"xy", "xabbay"}, {"xc"}},
      {"x(a?){3,5}y", kFull, {"xy", "xaaaaay"}, {"xaaaaaay"}},
      {"x(a?b?){2}y", kFull, {"xy", "xabay", "xababy", "xbby"}, {"xababay"}},
      {"x((a*)?)*y", kFull, {"xy", "xaaay"}, {"xb"}},
      {"x(|a)*y", kFull, {"xy", "xaay"}, {}},
      {"((a+)+)+", kFull, {"a", "aaaa"}, {""}},
      {"(a+)?", kFull, {"", "aa"}, {"b"}},
      {"(((a)))", kFull, {"a"}, {"aa"}},
  });
}

TEST(RegexCompile, AnchorsAndSearch) {
  run_cases({
      {"^abc$", kFull, {"abc"}, {"xabc"}},
      {"^^abc$$", kFull, {"abc"}, {}},
      {"abc", kSearch, {"abc", "xxabcyy", "ab\nabc\n"}, {"ab", "abx", ""}},
      {"^abc", kSearch, {"abc", "abcxyz"}, {"xabc"}},
      {"abc$", kSearch, {"abc", "xyzabc"}, {"abcx"}},
      {"^abc$", kSearch, {"abc"}, {"abcx", "xabc"}},
      {"^a|b$", kSearch, {"a", "axx", "xxb", "b"}, {"xa", "bx", ""}},
      {"^a$|b", kSearch, {"a", "b", "xbx"}, {"ax", "xa"}},
      {"^a|b$", kFull, {"a", "b"}, {"ab"}},
      {"a*", kSearch, {"", "xyz"}, {}},
      {"^$", kSearch, {""}, {"a"}},
      {"^[a-z]+$", kSearch, {"abc"}, {"ab1", ""}},
      {"\\d{3}", kSearch, {"tel 555 x", "123"}, {"12-3"}},
  });
}

TEST(RegexCompile, JsonStringEncoding) {
  run_cases({
      {"^a\"b$", kJson, {"a\\\"b"}, {"a\"b", "a\\\\\"b"}},
      {"^a\"b$", kJson, {}, {"a\\u0022b"}},  // documented: only short escapes for '"'
      {"^\\n$", kJson, {"\\n", "\\u000a", "\\u000A"}, {"\n", "n", "\\u00a"}},
      {"^\\\\$", kJson, {"\\\\"}, {"\\", "\\\\\\\\"}},
      {"^/$", kJson, {"/", "\\/"}, {"\\\\/"}},
      {"^[\\x00-\\x1f]$", kJson, {"\\u0000", "\\u001F", "\\u001f", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0009"},
       {"\\u0020", "\t", "\\u002"}},
      {"^\\x01\\x15$", kJson, {"\\u0001\\u0015"}, {"\\u0011\\u0005"}},
      {"^\\t$", kJson, {"\\t", "\\u0009"}, {"\t", "\\u0019"}},
      {"^.$", kJson, {"a", "\\\"", "\\\\", "\\/", "/", "\\t", "\\u0001", "\xC3\xA9", "\xF0\x9F\x98\x80"},
       {"\\n", "\\r", "\\u000a", "\\u000D", "\"", "\\", "\n", "\xE2\x80\xA8"}},
      {"^[^a]+$", kJson, {"b\\\"c\\\\d\\n"}, {"ba", "\"", "\\"}},
      {"^\\w+@\\w+\\.com$", kJson, {"me@x.com"}, {"me@x\\.com"}},
      {"caf\xC3\xA9", kJson, {"caf\xC3\xA9"}, {"caf\\u00e9"}},  // documented: non-ASCII raw only
      {"a\"", kJsonSearch, {"xa\\\"y", "a\\\"", "\\\\a\\\""}, {"a\"", "xa"}},
      {"^x", kJsonSearch, {"x", "x\\n\\\"\\u0000"}, {"\\nx", "x\n"}},
      {"\\d", kJsonSearch, {"abc1", "\\t1"}, {"abc", "\\u0031"}},
  });
}

struct ErrorCase {
  std::string pattern;
  Errc code;
  std::string message;
  RegexOptions options = kFull;
};

TEST(RegexErrors, CodesMessagesOffsets) {
  RegexOptions small = kFull;
  small.max_repeat = 10;
  RegexOptions tiny = kFull;
  tiny.max_pattern_bytes = 4;
  const std::vector<ErrorCase> cases = {
      {"ab(cd", Errc::invalid_argument, "regex: unbalanced parenthesis at offset 2"},
      {"abc)de", Errc::invalid_argument, "regex: unbalanced parenthesis at offset 3"},
      {"(a(b)", Errc::invalid_argument, "regex: unbalanced parenthesis at offset 0"},
      {"ab[cd", Errc::invalid_argument, "regex: unterminated character class at offset 2"},
      {"[z-a]", Errc::invalid_argument, "regex: range out of order in character class at offset 1"},
      {"*a", Errc::invalid_argument, "regex: nothing to repeat at offset 0"},
      {"a|+", Errc::invalid_argument, "regex: nothing to repeat at offset 2"},
      {"(?:*)", Errc::invalid_argument, "regex: nothing to repeat at offset 3"},
      {"a**", Errc::invalid_argument, "regex: nothing to repeat at offset 2"},
      {"a*??", Errc::invalid_argument, "regex: nothing to repeat at offset 3"},
      {"a{2}{3}", Errc::invalid_argument, "regex: nothing to repeat at offset 4"},
      {"{2}", Errc::invalid_argument, "regex: nothing to repeat at offset 0"},
      {"^*a", Errc::invalid_argument, "regex: nothing to repeat at offset 1"},
      {"a{3,2}", Errc::invalid_argument, "regex: numbers out of order in {} quantifier at offset 1"},
      {"a{11}", Errc::invalid_argument, "regex: repeat bound 11 exceeds the limit 10 at offset 2", small},
      {"a{1,99999999999999}", Errc::invalid_argument,
       "regex: repeat bound 99999999999999 exceeds the limit 1000 at offset 4"},
      {"abc\\", Errc::invalid_argument, "regex: trailing backslash at offset 3"},
      {"a\\q", Errc::invalid_argument, "regex: invalid escape \\q at offset 1"},
      {"\\xZZ", Errc::invalid_argument, "regex: invalid escape \\x at offset 0"},
      {"\\u12", Errc::invalid_argument, "regex: invalid escape \\u at offset 0"},
      {"\\u{110000}", Errc::invalid_argument, "regex: code point out of range in \\u{} at offset 0"},
      {"\\c1", Errc::invalid_argument, "regex: invalid escape \\c at offset 0"},
      {"(?<1a>x)", Errc::invalid_argument, "regex: invalid group name at offset 3"},
      {"(?x)", Errc::unsupported, "regex: inline flags at offset 0"},
      {"(?i:x)", Errc::unsupported, "regex: inline flags at offset 0"},
      {"(?*)", Errc::invalid_argument, "regex: invalid group at offset 0"},
      {"a\xFF", Errc::invalid_argument, "regex: invalid UTF-8 at offset 1"},
      {"[]", Errc::invalid_argument, "regex: the pattern matches no string"},
      {"[]a]", Errc::invalid_argument, "regex: the pattern matches no string"},  // ECMAScript: [] then "a]"
      {"a[^\\s\\S]", Errc::invalid_argument, "regex: the pattern matches no string"},
      {"abcde", Errc::invalid_argument, "regex: the pattern is 5 bytes, more than the limit of 4", tiny},
      {"(a{1000}){1000}(b{1000}){1000}", Errc::out_of_memory,
       "regex: the pattern expands past 1048576 grammar elements at offset 30"},
      {"(a{1000}){1000}|(b{1000}){1000}", Errc::out_of_memory,
       "regex: the pattern expands past 1048576 grammar elements at offset 31"},
      {"((a{1000}){1000}|(b{1000}){1000})", Errc::out_of_memory,
       "regex: the pattern expands past 1048576 grammar elements at offset 32"},
      {"((a{1000}){1000}){2}", Errc::out_of_memory,
       "regex: the pattern expands past 1048576 grammar elements at offset 17"},
      {std::string(300, '(') + std::string(300, ')'), Errc::invalid_argument,
       "regex: groups nested deeper than 256 at offset 256"},
      // What a grammar over the text cannot express.
      {"(a)\\1", Errc::unsupported, "regex: backreference \\1 at offset 3"},
      {"(?<n>a)\\k<n>", Errc::unsupported, "regex: backreference \\k at offset 7"},
      {"[\\1]", Errc::unsupported, "regex: octal escape \\1 at offset 1"},
      {"\\01", Errc::unsupported, "regex: octal escape at offset 0"},
      {"a(?=b)", Errc::unsupported, "regex: lookahead at offset 1"},
      {"a(?!b)", Errc::unsupported, "regex: lookahead at offset 1"},
      {"(?<=a)b", Errc::unsupported, "regex: lookbehind at offset 0"},
      {"(?<!a)b", Errc::unsupported, "regex: lookbehind at offset 0"},
      {"a\\bc", Errc::unsupported, "regex: word boundary \\b at offset 1"},
      {"a\\B", Errc::unsupported, "regex: word boundary \\B at offset 1"},
      {"[\\B]", Errc::invalid_argument, "regex: invalid escape \\B in character class at offset 1"},
      {"\\p{L}", Errc::unsupported, "regex: unicode property escape \\p at offset 0"},
      {"[\\P{L}]", Errc::unsupported, "regex: unicode property escape \\P at offset 1"},
      {"\\uD800", Errc::unsupported, "regex: lone surrogate escape at offset 0"},
      {"\\u{DC00}", Errc::unsupported, "regex: lone surrogate escape at offset 0"},
      {"a^b", Errc::unsupported, "regex: anchor ^ after the start of the pattern at offset 1"},
      {"a$b", Errc::unsupported, "regex: anchor $ before the end of the pattern at offset 1"},
      {"a$^", Errc::unsupported, "regex: anchor $ before the end of the pattern at offset 1"},
      {"(^a)", Errc::unsupported, "regex: anchor ^ inside a group at offset 1", kSearch},
      {"(a$)", Errc::unsupported, "regex: anchor $ inside a group at offset 2", kSearch},
      {"x(?:^a|b)", Errc::unsupported, "regex: anchor ^ inside a group at offset 4", kSearch},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("pattern /" + c.pattern + "/");
    try {
      GbnfWriter w;
      regex_to_gbnf(c.pattern, c.options, w);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), c.code) << e.what();
      EXPECT_EQ(std::string(e.what()), c.message);
    }
  }
}

TEST(RegexCharSet, JsonEncodingForTheSchemaCompiler) {
  GbnfWriter w;
  EXPECT_EQ(char_set_to_gbnf({{'a', 'z'}}, RegexEncoding::raw, w), "[a-z]");
  EXPECT_EQ(char_set_to_gbnf({{'a', 'a'}}, RegexEncoding::json_string, w), "\"a\"");
  EXPECT_EQ(char_set_to_gbnf({{0, 0x10FFFF}}, RegexEncoding::raw, w), ".");
  EXPECT_EQ(char_set_to_gbnf({{'z', 'z'}, {'a', 'c'}, {'b', 'd'}}, RegexEncoding::raw, w), "[a-dz]");
  EXPECT_EQ(char_set_to_gbnf({{0, 0x10FFFF}}, RegexEncoding::raw, w), ".");
  EXPECT_EQ(char_set_to_gbnf({{'"', '"'}}, RegexEncoding::json_string, w), "\"\\\\\\\"\"");  // "\\\""
  EXPECT_EQ(char_set_to_gbnf({{'\\', '\\'}}, RegexEncoding::json_string, w), "\"\\\\\\\\\"");  // "\\\\"
  EXPECT_EQ(w.rule_count(), 0u);
  // Every JSON string character: one shared rule however often it is asked for.
  const std::string any = char_set_to_gbnf({{0, 0x10FFFF}}, RegexEncoding::json_string, w);
  EXPECT_EQ(char_set_to_gbnf({{0, 0xD7FF}, {0xE000, 0x10FFFF}}, RegexEncoding::json_string, w), any);
  EXPECT_EQ(w.rule_count(), 1u);
  w.set_root("\"\\\"\" " + any + "* \"\\\"\"");  // a whole JSON string
  const Grammar g = parse_gbnf(w.text());
  for (const char* ok : {"\"\"", "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u001F\\u0000\xC3\xA9\"", "\"/\""})
    EXPECT_TRUE(grammar_accepts(g, ok)) << ok << "\n" << w.text();
  for (const char* bad : {"\"a\"b\"", "\"\\\"", "\"\\x\"", "\"\n\"", "\"\\u0020\""})
    EXPECT_FALSE(grammar_accepts(g, bad)) << bad << "\n" << w.text();
  EXPECT_THROW(char_set_to_gbnf({}, RegexEncoding::raw, w), Error);
}

TEST(RegexCompile, RuleCountStaysSmall) {
  GbnfWriter w;
  const std::string a = regex_to_gbnf("^[a-z]+(-[a-z0-9]+)*@(\\w+\\.)+(com|org)$", kFull, w);
  EXPECT_EQ(w.rule_count(), 1u);
  const std::string b = regex_to_gbnf("^[a-z]+(-[a-z0-9]+)*@(\\w+\\.)+(com|org)$", kFull, w);
  EXPECT_EQ(a, b);  // identical bodies share one rule
  GbnfWriter j;
  regex_to_gbnf("^\\w+\\s\\w+\\s\\w+\\s.+$", kJson, j);
  EXPECT_LE(j.rule_count(), 3u);  // the pattern, plus a rule for each composite JSON character set
}

// An independent reference: std::regex (ECMAScript) on every string over a small alphabet up to length 5, and on
// random longer ones, for whole-text (regex_match) and search (regex_search) semantics.
TEST(RegexReference, AgreesWithStdRegex) {
  const std::vector<std::string> patterns = {
      "a", "ab|b", "a*b", "(ab)+", "a?b?a?", "[ab]{2,3}", "[^a]*", "a.b", "(a|b)*a(a|b)", "(a*b*)*-",
      "(a?){2,3}b", "\\d+", "\\w-\\W", "\\s", "(?:a|bb|)+1", "a{2}|b{1,}|-{0,1}", "^a|b$", "^(a|b)$", "a+$",
      "^-", "[a-]+1?", "(a|ab)(c|bcd)?", "[\\d-]", ".*1.*", "(a+|b)*", "b(a?|1)*b", "[^\\s\\d]+", "(?:-|1){0,2}a",
  };
  const std::string alphabet = "ab1- \n";
  std::vector<std::string> texts{""};
  for (size_t start = 0, len = 1; len <= 5; ++len) {
    const size_t end = texts.size();
    for (size_t k = start; k < end; ++k)
      for (char c : alphabet) texts.push_back(texts[k] + c);
    start = end;
  }
  std::mt19937 rng(7);
  for (int k = 0; k < 300; ++k) {
    std::string t;
    const size_t n = 6 + rng() % 10;
    for (size_t i = 0; i < n; ++i) t += alphabet[rng() % alphabet.size()];
    texts.push_back(t);
  }
  for (const auto& p : patterns) {
    const std::regex re(p, std::regex::ECMAScript);
    for (const bool search : {false, true}) {
      SCOPED_TRACE("pattern /" + p + "/ search=" + std::to_string(search));
      const std::string gbnf = compile(p, search ? kSearch : kFull);
      const Grammar g = parse_gbnf(gbnf);
      int mismatches = 0;
      for (const auto& t : texts) {
        const bool want = search ? std::regex_search(t, re) : std::regex_match(t, re);
        if (grammar_accepts(g, t) != want && ++mismatches <= 3)
          ADD_FAILURE() << "text '" << t << "': std::regex says " << want << "\n" << gbnf;
      }
    }
  }
}

// The json_string encoding against the same reference: std::regex decides on the decoded text, and the grammar
// must accept every JSON spelling of it (json.dumps style, and everything escapable escaped).
std::string json_encode(const std::string& text, bool escape_all) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') out += std::string("\\") + c;
    else if (c == '/' && escape_all) out += "\\/";
    else if (c == '\n' && !escape_all) out += "\\n";
    else if (c == '\t' && !escape_all) out += "\\t";
    else if (u < 0x20) out += std::string("\\u00") + kHex[u >> 4] + (escape_all ? "0123456789ABCDEF" : kHex)[u & 15];
    else out += c;
  }
  return out;
}

TEST(RegexReference, JsonStringAgreesWithStdRegex) {
  const std::vector<std::string> patterns = {"a\"", "[\"\\\\/]+", "\\W", ".+", "^[^\"]*$", "(a|\\n)*\\x01",
                                             "\\s", "^\\\\?a", "[^\\x01]$", "/{2}"};
  const std::string alphabet = std::string("a\"\\/\n\t\x01", 7);
  std::vector<std::string> texts{""};
  for (size_t start = 0, len = 1; len <= 4; ++len) {
    const size_t end = texts.size();
    for (size_t k = start; k < end; ++k)
      for (char c : alphabet) texts.push_back(texts[k] + c);
    start = end;
  }
  for (const auto& p : patterns) {
    const std::regex re(p, std::regex::ECMAScript);
    for (const bool search : {false, true}) {
      SCOPED_TRACE("pattern /" + p + "/ search=" + std::to_string(search));
      const std::string gbnf = compile(p, search ? kJsonSearch : kJson);
      const Grammar g = parse_gbnf(gbnf);
      int mismatches = 0;
      for (const auto& t : texts) {
        const bool want = search ? std::regex_search(t, re) : std::regex_match(t, re);
        for (const bool all : {false, true}) {
          const std::string encoded = json_encode(t, all);
          if (grammar_accepts(g, encoded) != want && ++mismatches <= 3)
            ADD_FAILURE() << "encoded '" << encoded << "': std::regex says " << want << "\n" << gbnf;
        }
      }
    }
  }
}

}  // namespace
}  // namespace qtr::grammar
