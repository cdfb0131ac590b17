// Constraint::Impl — what a compiled constraint holds: the grammar, its GBNF text, the vocabulary, and behind one
// mutex the lazily determinised automaton and the token masks already computed per automaton state.
#pragma once

#include <mutex>
#include <unordered_map>
#include <vector>

#include "grammar/automaton.hpp"
#include "grammar/grammar.hpp"
#include "qtr/constraint.hpp"

namespace qtr {

struct Constraint::Impl {
  std::string gbnf;
  std::vector<std::string> relaxed;
  grammar::Grammar grammar;
  std::shared_ptr<const TokenVocabulary> vocab;
  ConstraintOptions options;
  size_t mask_words = 0;  // (n_vocab + 63) / 64

  mutable std::mutex mu;
  mutable std::unique_ptr<grammar::Automaton> automaton;                       // guarded by mu
  mutable std::unordered_map<uint32_t, std::vector<uint64_t>> mask_cache;     // guarded by mu
  // The walk from a truncated state (Automaton::truncated), shared by every state with the same top frames: the
  // tokens allowed whatever lies below, and those whose fate depends on it (checked against the full state).
  struct BaseMask {
    std::vector<uint64_t> bits;
    std::vector<TokenId> uncertain;  // in trie order
  };
  mutable std::unordered_map<uint32_t, BaseMask> base_cache;                  // guarded by mu
  mutable std::vector<uint32_t> walk_states;                                   // scratch, guarded by mu
  mutable std::vector<char> walk_popped;                                       // scratch, guarded by mu

  // Frames kept when truncating a state for the shared walk.
  static constexpr int kTruncateDepth = 3;

  // The allowed-token bits of `state` (not counting end-of-generation tokens), computed or cached. Needs mu held.
  const std::vector<uint64_t>& mask_locked(uint32_t state) const;
  // The trie walk from `start`: allowed tokens into bits; with `uncertain`, tokens whose walk reached the unknown
  // bottom of a truncated state go there instead.
  void walk_locked(uint32_t start, std::vector<uint64_t>& bits, std::vector<TokenId>* uncertain) const;
  // The walk over trie nodes [begin, end) (whole subtrees) from `start`.
  void walk_range(const grammar::TokenTrie& trie, size_t begin, size_t end, uint32_t start, std::vector<uint64_t>& bits,
                  std::vector<TokenId>* uncertain) const;
};

}  // namespace qtr
