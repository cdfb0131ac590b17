// Constraints over a vocabulary: the token mask equals a brute-force reference (for each token, is the text with
// it still a prefix of some string in the language), end-of-generation tokens only in accept states, rollback,
// sharing one constraint between threads, and the budgets.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "grammar/grammar.hpp"
#include "qtr/constraint.hpp"
#include "qtr/error.hpp"
#include "qtr/tokenizer.hpp"

namespace qtr {
namespace {

// A SentencePiece-style vocabulary: control tokens, all 256 byte tokens, and multi-byte pieces that cross grammar
// element boundaries ("\":", "\"}", "ab", ...), so that any text can be written in many ways.
std::unique_ptr<Tokenizer> test_tokenizer() {
  Vocab v;
  v.model = "llama";
  auto add = [&](std::string piece, TokenType type) {
    v.tokens.push_back(std::move(piece));
    v.scores.push_back(-static_cast<float>(v.tokens.size()));
    v.types.push_back(type);
  };
  add("<unk>", TokenType::unknown);
  add("<s>", TokenType::control);
  add("</s>", TokenType::control);
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    add(name, TokenType::byte);
  }
  for (const char* p : {"a", "b", "c", "ab", "abc", "bc", "ca", "{", "}", "\"", "\":", "\"}", "\",", "{\"", ": ",
                        ", ", "1", "12", "123", "true", "tr", "ue", "false", "null", "yes", "no", "ye", "é", "\xC3",
                        "\xA9", "\xE2\x96\x81", "\xE2\x96\x81a", "[", "]", "[1", ",1", "x", "xy", "xyz", "yz"}) {
    add(p, TokenType::normal);
  }
  v.unk = 0;
  v.bos = 1;
  v.eos = 2;
  return Tokenizer::create(std::move(v));
}

struct Fixture {
  std::unique_ptr<Tokenizer> tok = test_tokenizer();
  std::shared_ptr<const TokenVocabulary> vocab = TokenVocabulary::build(*tok, std::vector<TokenId>{2});
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

bool bit(const std::vector<uint64_t>& m, size_t t) { return (m[t >> 6] >> (t & 63)) & 1; }

// Brute force over a finite language: t is allowed after `prefix` when prefix + piece(t) is a prefix of a string
// of the language; EOS when prefix itself is one.
void expect_mask_matches(const std::vector<std::string>& language, const std::string& prefix, ConstraintMatcher& m) {
  const TokenVocabulary& v = *fixture().vocab;
  std::vector<uint64_t> mask((v.n_vocab() + 63) / 64);
  m.fill_mask(mask);
  for (size_t t = 0; t < v.n_vocab(); ++t) {
    bool want = false;
    if (v.is_eog(static_cast<TokenId>(t))) {
      for (const auto& s : language) want = want || s == prefix;
    } else if (!v.piece(static_cast<TokenId>(t)).empty()) {
      const std::string text = prefix + v.piece(static_cast<TokenId>(t));
      for (const auto& s : language) want = want || s.compare(0, text.size(), text) == 0;
    }
    EXPECT_EQ(bit(mask, t), want) << "prefix '" << prefix << "' token " << t << " '" << v.piece(static_cast<TokenId>(t)) << "'";
  }
}

TEST(Constraint, MaskEqualsBruteForceOnFiniteLanguages) {
  const std::vector<std::vector<std::string>> languages = {
      {"yes", "no"},
      {"abc", "ab", "abcabc", "ca"},
      {"{\"a\": 1}", "{\"a\": 12}", "{\"b\": true}", "{}"},
      {"é", "éé", "\xE2\x96\x81"},
  };
  for (const auto& lang : languages) {
    auto c = Constraint::from_choices(lang, fixture().vocab);
    for (const std::string& target : lang) {
      // Walk to every prefix of `target` byte by byte, checking the mask at each.
      ConstraintMatcher m(c);
      for (size_t k = 0; k <= target.size(); ++k) {
        expect_mask_matches(lang, target.substr(0, k), m);
        if (k < target.size()) ASSERT_TRUE(m.accept_bytes(target.substr(k, 1)));
      }
      EXPECT_TRUE(m.accepting());
    }
  }
}

TEST(Constraint, GrammarMaskEqualsPerTokenRuns) {
  // For an infinite language, compare the trie walk with running each token's bytes separately.
  const char* gbnf = R"(root ::= "{" ws (pair ("," ws pair)*)? "}"
pair ::= "\"" [a-c]+ "\":" ws ([0-9]+ | "true" | "null" | "[" ([0-9] ("," [0-9])*)? "]")
ws ::= " "?)";
  auto c = Constraint::from_gbnf(gbnf, fixture().vocab);
  const auto g = grammar::parse_gbnf(gbnf);
  std::mt19937 rng(7);
  const TokenVocabulary& v = *fixture().vocab;
  std::vector<uint64_t> mask((v.n_vocab() + 63) / 64);
  for (int run = 0; run < 20; ++run) {
    ConstraintMatcher m(c);
    std::string text;
    for (int step = 0; step < 40 && !m.finished(); ++step) {
      m.fill_mask(mask);
      std::vector<TokenId> allowed;
      for (size_t t = 0; t < v.n_vocab(); ++t) {
        const bool want = v.is_eog(static_cast<TokenId>(t)) ? m.accepting() : m.allowed(static_cast<TokenId>(t));
        ASSERT_EQ(bit(mask, t), want) << "after '" << text << "' token " << t;
        if (want && !v.is_eog(static_cast<TokenId>(t))) allowed.push_back(static_cast<TokenId>(t));
      }
      if (allowed.empty()) break;
      const TokenId t = allowed[rng() % allowed.size()];
      ASSERT_TRUE(m.accept(t));
      text += v.piece(t);
    }
    if (m.accepting()) EXPECT_TRUE(grammar::grammar_accepts(g, text)) << text;
  }
}

// The shortcuts of the mask walk (the string slice with first-byte exceptions and length bounds, truncated
// states, looping subtrees) against running each token separately, on schemas with free strings, keys that must
// differ from the named ones, bounded strings and nesting.
TEST(Constraint, SchemaMasksEqualPerTokenRuns) {
  const char* schemas[] = {
      R"({"type": "object", "properties": {"ab": {"type": "string"}, "ca": {"type": "integer"}}})",
      R"({"type": "object", "properties": {"a": {"type": "string", "maxLength": 3}, "b": {"type": "string", "minLength": 2}},
          "required": ["a"], "additionalProperties": false})",
      R"({"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}})",
      R"({"type": "object", "additionalProperties": {"type": "string", "maxLength": 20}})",
  };
  const TokenVocabulary& v = *fixture().vocab;
  std::vector<uint64_t> mask((v.n_vocab() + 63) / 64);
  for (const char* schema : schemas) {
    auto c = Constraint::from_json_schema(schema, fixture().vocab);
    std::mt19937 rng(3);
    for (int run = 0; run < 12; ++run) {
      ConstraintMatcher m(c);
      std::string text;
      for (int step = 0; step < 30 && !m.finished(); ++step) {
        m.fill_mask(mask);
        std::vector<TokenId> allowed;
        for (size_t t = 0; t < v.n_vocab(); ++t) {
          const bool want = v.is_eog(static_cast<TokenId>(t)) ? m.accepting() : m.allowed(static_cast<TokenId>(t));
          ASSERT_EQ(bit(mask, t), want) << schema << "\n after '" << text << "' token " << t << " '" << v.piece(static_cast<TokenId>(t)) << "'";
          if (want && !v.is_eog(static_cast<TokenId>(t))) allowed.push_back(static_cast<TokenId>(t));
        }
        if (allowed.empty()) break;
        const TokenId t = allowed[rng() % allowed.size()];
        ASSERT_TRUE(m.accept(t));
        text += v.piece(t);
      }
    }
  }
}

TEST(Constraint, EndOfGenerationOnlyWhenComplete) {
  auto c = Constraint::from_choices(std::vector<std::string>{"ab", "abc"}, fixture().vocab);
  ConstraintMatcher m(c);
  EXPECT_FALSE(m.allowed(2));
  EXPECT_FALSE(m.accept(2));
  ASSERT_TRUE(m.accept_bytes("ab"));
  EXPECT_TRUE(m.accepting());
  EXPECT_FALSE(m.finished());  // "c" may still follow
  EXPECT_TRUE(m.allowed(2));
  ASSERT_TRUE(m.accept(2));
  EXPECT_TRUE(m.finished());
  EXPECT_FALSE(m.accept_bytes("c"));
  m.rollback(1);
  ASSERT_TRUE(m.accept_bytes("c"));
  EXPECT_TRUE(m.finished());  // nothing may follow "abc"
  std::vector<uint64_t> mask((fixture().vocab->n_vocab() + 63) / 64);
  m.fill_mask(mask);
  for (size_t t = 0; t < fixture().vocab->n_vocab(); ++t) EXPECT_EQ(bit(mask, t), t == 2) << t;
}

TEST(Constraint, RollbackRestoresEveryStep) {
  auto c = Constraint::from_gbnf(R"(root ::= [a-c]+ "x")", fixture().vocab);
  ConstraintMatcher m(c);
  const auto& v = *fixture().vocab;
  std::vector<std::vector<uint64_t>> masks;
  std::vector<uint64_t> mask((v.n_vocab() + 63) / 64);
  for (const char* piece : {"ab", "c", "abc", "ca"}) {
    m.fill_mask(mask);
    masks.push_back(mask);
    ASSERT_TRUE(m.accept(v.n_vocab() > 0 ? fixture().tok->find(piece) : 0)) << piece;
  }
  EXPECT_EQ(m.steps(), 4u);
  for (int k = 3; k >= 0; --k) {
    m.rollback(1);
    m.fill_mask(mask);
    EXPECT_EQ(mask, masks[static_cast<size_t>(k)]) << k;
  }
  EXPECT_THROW(m.rollback(1), Error);
  EXPECT_FALSE(m.accept(fixture().tok->find("x")));  // "x" needs a letter first
  EXPECT_EQ(m.steps(), 0u);
}

TEST(Constraint, OneConstraintManyThreads) {
  auto c = Constraint::from_gbnf(R"(root ::= ("a" | "b" | "c" | "{" | "}" | "1")+)", fixture().vocab);
  const auto& v = *fixture().vocab;
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      std::mt19937 rng(static_cast<unsigned>(k));
      std::vector<uint64_t> mask((v.n_vocab() + 63) / 64);
      for (int run = 0; run < 20; ++run) {
        ConstraintMatcher m(c);
        for (int step = 0; step < 30; ++step) {
          m.fill_mask(mask);
          std::vector<TokenId> allowed;
          for (size_t t = 0; t < v.n_vocab(); ++t) {
            if (bit(mask, t) && !v.is_eog(static_cast<TokenId>(t))) allowed.push_back(static_cast<TokenId>(t));
          }
          if (allowed.empty() || !m.accept(allowed[rng() % allowed.size()])) ++failures[static_cast<size_t>(k)];
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

TEST(Constraint, ErrorsAndBudgets) {
  auto expect_error = [](auto&& f, Errc code, const char* words) {
    try {
      f();
      ADD_FAILURE() << "no error, wanted: " << words;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  const auto& vocab = fixture().vocab;
  expect_error([&] { Constraint::from_gbnf("root ::= (", vocab); }, Errc::invalid_argument, "grammar:1:");
  expect_error([&] { Constraint::from_choices(std::vector<std::string>{}, vocab); }, Errc::invalid_argument, "empty");
  ConstraintOptions tight;
  tight.max_stacks = 4;
  // Ten ways to read one "a": the live stacks after it exceed the budget of 4.
  expect_error([&] { ConstraintMatcher(Constraint::from_gbnf(
                         "root ::= x x\nx ::= \"a\" | \"a\" \"a\" | \"a\" \"b\" | \"a\" \"c\" | \"a\" \"d\" | \"a\" \"e\"",
                         vocab, tight)); },
               Errc::out_of_memory, "budget");
  ConstraintOptions small;
  small.max_source_bytes = 10;
  expect_error([&] { Constraint::from_gbnf("root ::= \"aaaaaaaaaaaaaa\"", vocab, small); }, Errc::out_of_memory, "larger");
}

}  // namespace
}  // namespace qtr
