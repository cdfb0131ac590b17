// Constrained decoding: a grammar, JSON Schema, regular expression or list of choices, compiled once for a
// vocabulary, then enforced token by token so that whatever the model writes stays inside the language.
//
//   auto vocab = model->token_vocabulary();                       // built once per model, shared
//   auto c = qtr::Constraint::from_json_schema(schema_text, vocab);  // immutable, shareable across threads
//   qtr::ConstraintMatcher m(c);                                  // one per sequence
//   m.apply(logits);  token = sample(logits);  m.accept(token);   // generate() does this when given `constraint`
//
// Every form is compiled to one internal grammar over bytes (GBNF is its text form; docs/structured-output.md).
// A token is allowed when its bytes keep the text a prefix of some string in the language; end-of-generation
// tokens only where the text so far is complete (an accept state); other control tokens never. Errors in the
// constraint are qtr::Error(invalid_argument) with what and where (GBNF line:column, a schema's JSON pointer);
// budgets on size, ambiguity and search are qtr::Error(out_of_memory), so a hostile constraint fails, never hangs.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qtr/vocab.hpp"

namespace qtr {

class Json;
class Tokenizer;
namespace grammar {
struct TokenTrie;
}

// The vocabulary as constraints see it: each token's bytes in a trie, and the end-of-generation ids. Immutable.
class TokenVocabulary {
 public:
  // `eog`: the ids that end generation (qtr::end_of_generation_tokens). Control tokens get no bytes.
  static std::shared_ptr<const TokenVocabulary> build(const Tokenizer& tokenizer, std::span<const TokenId> eog);
  ~TokenVocabulary();

  size_t n_vocab() const { return pieces_.size(); }
  const std::string& piece(TokenId id) const { return pieces_[static_cast<size_t>(id)]; }
  bool is_eog(TokenId id) const;
  const std::vector<TokenId>& eog() const { return eog_; }
  const grammar::TokenTrie& trie() const { return *trie_; }
  // Tokens that are plain JSON string text (whole UTF-8 characters from U+0020 on, no '"' or '\\'), as bits, and
  // the trie of all other tokens: a state that loops on all such characters allows the slice without a walk.
  const std::vector<uint64_t>& string_slice() const { return string_slice_; }
  const grammar::TokenTrie& rest_trie() const { return *rest_trie_; }
  // The tokens outside the slice, split: head_trie() those that do not start with string text, tail_trie() the
  // others keyed by what follows their string-text prefix (walked from a state that loops on string text).
  const grammar::TokenTrie& head_trie() const { return *head_trie_; }
  const grammar::TokenTrie& tail_trie() const { return *tail_trie_; }
  // The slice's tokens by first byte: slice_by_first()[slice_first_begin()[b] .. slice_first_begin()[b + 1]).
  const std::vector<uint32_t>& slice_first_begin() const { return slice_first_begin_; }
  const std::vector<TokenId>& slice_by_first() const { return slice_by_first_; }
  // The slice's tokens of at most L characters, for L < slice_upto().size(); longer ones need a walk.
  const std::vector<std::vector<uint64_t>>& slice_upto() const { return slice_upto_; }
  uint32_t slice_max_chars() const { return slice_max_chars_; }
  // The slice's tokens of more than slice_upto().size() - 1 characters.
  const std::vector<TokenId>& slice_long() const { return slice_long_; }
  // The full trie's node for the one-byte prefix b (0 when no token starts with b).
  const std::array<uint32_t, 256>& first_byte_node() const { return first_byte_node_; }

 private:
  TokenVocabulary() = default;
  std::vector<std::string> pieces_;  // [n_vocab] bytes; "" for control tokens
  std::vector<TokenId> eog_;         // sorted
  std::unique_ptr<grammar::TokenTrie> trie_;
  std::vector<uint64_t> string_slice_;  // [(n_vocab + 63) / 64]
  std::unique_ptr<grammar::TokenTrie> rest_trie_, head_trie_, tail_trie_;
  std::vector<uint32_t> slice_first_begin_;  // [257]
  std::vector<TokenId> slice_by_first_;
  std::array<uint32_t, 256> first_byte_node_{};
  std::vector<std::vector<uint64_t>> slice_upto_;  // [17][(n_vocab + 63) / 64]
  uint32_t slice_max_chars_ = 0;
  std::vector<TokenId> slice_long_;
};

struct ConstraintOptions {
  // JSON Schema: approximate what a grammar cannot express exactly (accepting a superset) instead of refusing it;
  // Constraint::relaxed() lists what was relaxed.
  bool lenient = false;
  // JSON: no whitespace at all (false: json.dumps spacing, plus up to json_whitespace optional whitespace
  // characters wherever JSON allows them).
  bool compact_json = false;
  int json_whitespace = 20;
  // JSON: free numbers of bounded length (16 digits in the integer part and the fraction, 3 in an exponent), as
  // llama.cpp's schema grammars have them: a small model cannot then write digits until the length limit. Off,
  // the language is exactly the schema's (qtr grammar, conformance); `qtr run`/`chat` turn it on.
  bool bounded_numbers = false;
  // GBNF: accept grammars with rules that nothing uses.
  bool allow_unused_rules = false;
  // Budgets.
  size_t max_source_bytes = size_t{16} << 20;   // GBNF text, schema or regex
  size_t max_symbols = size_t{8} << 20;         // grammar size after desugaring
  size_t max_stacks = 20000;                    // live parses after one byte (ambiguity)
  size_t max_states = 200000;                   // determinised matcher states kept
  size_t mask_cache_bytes = size_t{64} << 20;   // token masks remembered per matcher state
};

class Constraint {
 public:
  static std::shared_ptr<const Constraint> from_gbnf(std::string_view gbnf, std::shared_ptr<const TokenVocabulary> vocab,
                                                     const ConstraintOptions& options = {});
  // `schema`: JSON Schema text (draft 2020-12; draft-07 spellings accepted).
  static std::shared_ptr<const Constraint> from_json_schema(std::string_view schema,
                                                            std::shared_ptr<const TokenVocabulary> vocab,
                                                            const ConstraintOptions& options = {});
  // Any JSON value (an object at the top when `object_only`).
  static std::shared_ptr<const Constraint> json(std::shared_ptr<const TokenVocabulary> vocab, bool object_only,
                                                const ConstraintOptions& options = {});
  // The whole text matches the regular expression (ECMAScript subset, docs/structured-output.md).
  static std::shared_ptr<const Constraint> from_regex(std::string_view pattern,
                                                      std::shared_ptr<const TokenVocabulary> vocab,
                                                      const ConstraintOptions& options = {});
  // The text is exactly one of `choices`.
  static std::shared_ptr<const Constraint> from_choices(std::span<const std::string> choices,
                                                        std::shared_ptr<const TokenVocabulary> vocab,
                                                        const ConstraintOptions& options = {});
  ~Constraint();

  const std::string& gbnf() const;                   // the grammar it runs, as GBNF text
  const std::vector<std::string>& relaxed() const;   // lenient JSON Schema: what was approximated
  const TokenVocabulary& vocabulary() const;

  struct Impl;
  Impl& impl() const { return *impl_; }

 private:
  friend struct ConstraintFactory;
  explicit Constraint(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// One sequence's progress through a constraint: which tokens may come next, and rollback for speculation.
// Not thread-safe (one per sequence); many matchers may share one Constraint on many threads.
class ConstraintMatcher {
 public:
  explicit ConstraintMatcher(std::shared_ptr<const Constraint> constraint);

  // The allowed next tokens as bits (bit t % 64 of words[t / 64]); words.size() >= (n_vocab + 63) / 64.
  void fill_mask(std::span<uint64_t> words);
  // Sets the logits of disallowed tokens to -inf (logits.size() may exceed n_vocab: the rest are banned too).
  // Throws qtr::Error(invalid_argument) when no token is allowed (a constraint this vocabulary cannot continue).
  void apply(std::span<float> logits);
  bool allowed(TokenId token);
  // Advances by one token: false, changing nothing, when the token is not allowed. An end-of-generation token is
  // allowed only in an accept state, and finishes the matcher.
  bool accept(TokenId token);
  // Advances by raw bytes (e.g. a forced prefix); false, changing nothing, when they leave the language.
  bool accept_bytes(std::string_view bytes);
  // Undoes the last n accept/accept_bytes calls (n <= steps()).
  void rollback(size_t n);
  size_t steps() const { return history_.size() - 1; }
  void reset();

  bool accepting() const;  // the text so far is a complete string of the language
  bool finished() const;   // an end-of-generation token was accepted, or accepting and nothing may follow
  const Constraint& constraint() const { return *constraint_; }

 private:
  std::shared_ptr<const Constraint> constraint_;
  std::vector<uint32_t> history_;  // [steps + 1] automaton states; back() is the current one
  std::vector<char> ended_;        // [steps + 1] an end-of-generation token was accepted
  std::vector<uint64_t> scratch_;
};

}  // namespace qtr
