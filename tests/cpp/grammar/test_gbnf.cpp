// GBNF: the parser's dialect, its errors (line:column), and whole-string acceptance through the byte automaton.
#include <gtest/gtest.h>

#include "grammar/grammar.hpp"
#include "qtr/error.hpp"
#include "test_support.hpp"

namespace qtr::grammar {
namespace {

std::string fixture(const char* name) {
  return test::read_file(std::filesystem::path(QTR_SOURCE_DIR) / "tests/fixtures/grammars" / name);
}

struct Case {
  const char* gbnf;
  std::vector<std::string> accepted, rejected;
};

TEST(Gbnf, AcceptsAndRejects) {
  const std::vector<Case> cases = {
      {R"(root ::= "a" "b"* "c")", {"ac", "abc", "abbbbc"}, {"", "a", "abd", "acc"}},
      {R"(root ::= [a-c]+ ("x" | "yz")?)", {"a", "cbax", "abyz"}, {"", "x", "ay", "ad"}},
      {R"(root ::= "x"{2,3})", {"xx", "xxx"}, {"x", "xxxx"}},
      {R"(root ::= "x"{2,})", {"xx", "xxxxxx"}, {"x"}},
      {R"(root ::= "x"{,2} "y")", {"y", "xy", "xxy"}, {"xxxy"}},
      {R"(root ::= [^a]*)", {"", "bcd", "é€😀"}, {"a", "ba"}},
      {R"(root ::= . .)", {"ab", "éx", "😀😀"}, {"a", "abc", "\xff\xfe"}},
      {R"(root ::= "é" [α-ω])", {"éβ"}, {"éa", "e\xcc\x81β"}},
      {R"(root ::= "\x41\u00e9\U0001F600\n\t\\\"")", {"Aé😀\n\t\\\""}, {"A"}},
      {R"(root ::= a | b
a ::= "1" a | "1"
b ::= "2")", {"1", "111", "2"}, {"12", ""}},
      {"root ::= x\n     | y   # alternatives may continue on the next line\nx ::= \"x\"\ny ::= \"y\"", {"x", "y"}, {"xy"}},
      {R"(root ::= ("a"?)* "b")", {"b", "ab", "aaab"}, {"a"}},
      {R"(root ::= list
list ::= "[" (item ("," item)*)? "]"
item ::= [0-9]+ | list)", {"[]", "[1,2]", "[[1],[],[2,[3]]]"}, {"[", "[1,]", "[[1]"}},
      {R"(root ::= "" | "a")", {"", "a"}, {"b"}},
  };
  for (const Case& c : cases) {
    const Grammar g = parse_gbnf(c.gbnf);
    for (const auto& t : c.accepted) EXPECT_TRUE(grammar_accepts(g, t)) << c.gbnf << "\n  should accept: " << t;
    for (const auto& t : c.rejected) EXPECT_FALSE(grammar_accepts(g, t)) << c.gbnf << "\n  should reject: " << t;
  }
}

TEST(Gbnf, JsonFixture) {
  const Grammar g = parse_gbnf(fixture("json.gbnf"));
  for (const char* ok : {R"({})", R"({"a": 1})", R"({"a": [1, 2.5, -3e10, true, null], "b": {"c": "d\n\u00e9"}})",
                         "{\n  \"a\": 1\n}"}) {
    EXPECT_TRUE(grammar_accepts(g, ok)) << ok;
  }
  for (const char* bad : {R"([])", R"({"a": })", R"({"a": 01})", R"({"a": "x)", "{\"a\": \"\x01\"}", R"({'a': 1})"}) {
    EXPECT_FALSE(grammar_accepts(g, bad)) << bad;
  }
}

void expect_error(const char* gbnf, const char* words) {
  try {
    parse_gbnf(gbnf);
    ADD_FAILURE() << "no error for: " << gbnf;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what() << "\n  wanted: " << words;
  }
}

TEST(Gbnf, Errors) {
  expect_error("root ::= \"a", "grammar:1:10: unterminated string literal");
  expect_error("root ::= [a-", "grammar:1:10: unterminated character class");
  expect_error("root ::= a\n", "grammar:1:10: undefined rule 'a'");
  expect_error("root ::= \"a\"\nb ::= \"b\"", "grammar:2:1: rule 'b' is never used");
  expect_error("x ::= \"a\"", "no rule named 'root'");
  expect_error("root ::= root \"a\" | \"b\"", "left-recursive");
  expect_error("root ::= a\na ::= b \"x\"\nb ::= \"\" | a", "left-recursive");
  expect_error("root ::= \"a\" root", "no text can match");
  expect_error("root ::= \"a\"\nroot ::= \"b\"", "grammar:2:1: rule 'root' is defined twice");
  expect_error("root ::= (\"a\"", "expected ')'");
  expect_error("root ::= \"a\"{3,2}", "n < m");
  expect_error("root ::= \"a\"{99999999}", "above the limit");
  expect_error("root ::= [z-a]", "out of order");
  expect_error("root ::= \"\\q\"", "unknown escape");
  expect_error("root ::= \"\\uD800\"", "not a Unicode scalar value");
  expect_error("root ::= \"a\" ::=", "grammar:1:");
  expect_error("root ::= <think>", "token references");
}

TEST(Gbnf, Budgets) {
  std::string deep = "root ::= ";
  for (int i = 0; i < 300; ++i) deep += "(";
  deep += "\"a\"";
  for (int i = 0; i < 300; ++i) deep += ")";
  expect_error(deep.c_str(), "nest deeper");
  GbnfLimits small;
  small.max_symbols = 1000;
  try {
    parse_gbnf("root ::= \"abcdefghij\"{500}", small);
    ADD_FAILURE() << "no budget error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::out_of_memory) << e.what();
  }
}

}  // namespace
}  // namespace qtr::grammar
