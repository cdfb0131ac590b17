// Automaton — a grammar run over bytes, determinised lazily.
//
// A configuration of the pushdown matcher is a stack: "match from position p to the end of its alternative, then
// continue with the stack below". Stacks are hash-consed nodes (position, rest), so equal stacks are one id and a
// set of stacks is a sorted vector of ids. A *state* is the set of stacks whose top is a byte set (plus "accept"
// when the root can be complete here); states are interned, so each set of stacks gets one id, and the
// transition on a byte is computed once and stored in the state's 256-entry row. The token-mask walk over the
// vocabulary trie then costs one table lookup per trie node once the rows are filled.
//
// Not thread-safe: the owner (Constraint) serialises access. Budgets bound the work: an expansion that visits too
// many stacks, or too many nodes or states in all, throws qtr::Error(out_of_memory) naming the budget.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "grammar/grammar.hpp"

namespace qtr::grammar {

struct AutomatonLimits {
  size_t max_stacks_per_state = 20000;  // an ambiguous grammar's live stacks after one byte
  size_t max_nodes = size_t{4} << 20;    // stack nodes in all
  size_t max_states = 200000;            // determinised states in all
};

class Automaton {
 public:
  static constexpr uint32_t kDead = 0;  // the empty state: nothing can follow

  Automaton(const Grammar& grammar, const AutomatonLimits& limits = {});

  uint32_t start() const { return start_; }
  uint32_t next(uint32_t state, uint8_t byte) {
    const uint32_t r = row_of_[state];
    if (r != kUnknown) {
      const uint32_t to = rows_[size_t{r} * 256 + byte];
      if (to != kUnknown) return to;
    }
    return compute(state, byte);
  }
  // Runs `bytes` from `state`; kDead as soon as one is refused.
  uint32_t run(uint32_t state, const uint8_t* bytes, size_t n) {
    for (size_t i = 0; i < n && state != kDead; ++i) state = next(state, bytes[i]);
    return state;
  }
  bool accepting(uint32_t state) const { return states_[state].accept; }
  // The same stacks cut below `depth` frames, an "unknown" bottom in place of what was cut (itself when no stack
  // is deeper). A walk from the cut state that never reaches the unknown bottom behaves exactly as one from the
  // full state would, whatever was cut: so its results can be shared by every state with the same top frames.
  uint32_t truncated(uint32_t state, int depth);
  // The expansion that made this state popped a stack into the unknown bottom of a cut state.
  bool reaches_unknown(uint32_t state) const { return states_[state].unknown; }
  // True when some byte may still follow (a stack is waiting for one).
  bool can_continue(uint32_t state) const { return !states_[state].stacks.empty(); }
  // True when every byte of `bytes` leads from `state` back to `state` (so any text of them keeps it there).
  bool loops_on(uint32_t state, const std::array<uint64_t, 4>& bytes) {
    const ByteSet& yes = states_[state].loop_yes;
    if (((bytes[0] & ~yes.bits[0]) | (bytes[1] & ~yes.bits[1]) | (bytes[2] & ~yes.bits[2]) | (bytes[3] & ~yes.bits[3])) == 0) {
      return true;
    }
    return loops_on_slow(state, bytes);
  }
  // JSON string text (characters U+0020 and above except '"' and '\\', as UTF-8) from `state`. `applies` when
  // the characters from `state` mostly lead to one state (those whose lead byte goes elsewhere are left out of
  // `first`), and from there every character leads to one next state, until a state that loops on all of them
  // (max_chars unbounded) or one that takes none (max_chars = the characters taken until then): then a token of
  // string text with an allowed first byte is allowed exactly when it has at most max_chars characters
  // (TokenVocabulary::string_slice).
  struct StringText {
    bool applies = false;
    ByteSet first;
    uint32_t max_chars = 0;  // kUnbounded for no limit
    uint32_t after_first = 0;  // the state one character from `state` leads to (for the bytes in `first`)
    bool first_loops = false;  // after_first loops on string text (the characters after the first change nothing)
  };
  static constexpr uint32_t kUnbounded = 0xFFFFFFFF;
  // max_chars when the countdown is longer than kStringChainLimit: tokens of up to that many characters are
  // allowed, longer ones must be checked one by one.
  static constexpr uint32_t kAtLeast = 0xFFFFFFFE;
  static constexpr uint32_t kStringChainLimit = 16;
  const StringText& string_text(uint32_t state);
  // Every string-text character leads from `state` back to `state`.
  bool loops_on_string_text(uint32_t state) { return uniform_next(state) == state; }
  // The bytes some stack of `state` accepts next.
  const ByteSet& first_bytes(uint32_t state) const { return states_[state].first; }

  size_t state_count() const { return states_.size(); }
  size_t node_count() const { return nodes_.size(); }

 private:
  static constexpr uint32_t kUnknown = 0xFFFFFFFF;
  static constexpr uint32_t kBottom = 0;   // node 0: the empty stack (the root is complete)
  static constexpr uint32_t kUnknown_ = 1; // node 1: what a truncated stack stood on

  struct Node {
    uint32_t pos;   // position in Grammar::symbols
    uint32_t rest;  // the stack below (a node id; kBottom when none)
  };
  struct State {
    std::vector<uint32_t> stacks;  // sorted node ids whose top is a byte set
    bool accept = false;
    bool unknown = false;          // reached the unknown bottom (states of truncated stacks only)
    uint32_t truncated = 0xFFFFFFFF;  // memo of truncated(state, depth) for truncated_depth_
    ByteSet first;                 // union of the tops' byte sets
    ByteSet loop_yes, loop_no;     // bytes known to lead back to this state, and known not to
    int8_t string_known = 0;       // string_text computed
    uint32_t uniform_next = 0xFFFFFFFE;  // memo of uniform_next(): kUnknown_state until computed
    StringText string;
  };

  uint32_t node(uint32_t pos, uint32_t rest);
  // Expands `from` (stacks to continue) to stacks topped by byte sets; returns the interned state.
  uint32_t close(const std::vector<uint32_t>& from);
  uint32_t compute(uint32_t state, uint8_t byte);
  uint32_t intern(const std::vector<uint32_t>& sorted_stacks, bool accept, bool unknown);
  bool loops_on_slow(uint32_t state, const std::array<uint64_t, 4>& bytes);
  // From `x`, every byte sequence of `rem` continuation bytes (the first in [lo, hi], the others 80-BF) ends in
  // `home`. Memoised for the full range in `memo`.
  bool continues_home(uint32_t x, int rem, uint8_t lo, uint8_t hi, uint32_t home,
                      std::unordered_map<uint64_t, bool>& memo);
  // The lead bytes of string text from `state` whose characters all end in `target`.
  ByteSet string_leads_to(uint32_t state, uint32_t target);
  // The one state every string character leads to from `state`; kDead when none is taken; kMixed otherwise.
  static constexpr uint32_t kMixed = 0xFFFFFFFD;
  uint32_t uniform_next(uint32_t state);
  // The state most ASCII string characters lead to from `state`, and how many do.
  uint32_t majority_next(uint32_t state, int& votes);
  std::vector<uint32_t> row_of_;  // [n_states] the state's transition row in rows_, or kUnknown
  std::vector<uint32_t> rows_;    // [n_rows * 256] next state per byte, kUnknown until computed
  uint32_t cut(uint32_t node, int depth);
  int truncated_depth_ = -1;

  const Grammar& g_;
  AutomatonLimits limits_;
  std::vector<Node> nodes_;
  std::unordered_map<uint64_t, uint32_t> node_ids_;
  std::vector<State> states_;
  std::unordered_map<uint64_t, std::vector<uint32_t>> state_ids_;  // hash of stacks+accept -> candidate ids
  uint32_t start_ = kDead;
  // Scratch for close().
  std::vector<uint32_t> work_, found_;
  std::vector<uint32_t> visited_mark_;
  uint32_t visit_epoch_ = 0;
};

}  // namespace qtr::grammar
