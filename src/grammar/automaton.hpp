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
    std::array<uint32_t, 256>* row = states_[state].row.get();
    if (row) {
      const uint32_t to = (*row)[byte];
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
  // True when some byte may still follow (a stack is waiting for one).
  bool can_continue(uint32_t state) const { return !states_[state].stacks.empty(); }
  // The bytes some stack of `state` accepts next.
  const ByteSet& first_bytes(uint32_t state) const { return states_[state].first; }

  size_t state_count() const { return states_.size(); }
  size_t node_count() const { return nodes_.size(); }

 private:
  static constexpr uint32_t kUnknown = 0xFFFFFFFF;
  static constexpr uint32_t kBottom = 0;  // node 0: the empty stack (the root is complete)

  struct Node {
    uint32_t pos;   // position in Grammar::symbols
    uint32_t rest;  // the stack below (a node id; kBottom when none)
  };
  struct State {
    std::vector<uint32_t> stacks;  // sorted node ids whose top is a byte set
    bool accept = false;
    ByteSet first;                 // union of the tops' byte sets
    std::unique_ptr<std::array<uint32_t, 256>> row;
  };

  uint32_t node(uint32_t pos, uint32_t rest);
  // Expands `from` (stacks to continue) to stacks topped by byte sets; returns the interned state.
  uint32_t close(const std::vector<uint32_t>& from);
  uint32_t compute(uint32_t state, uint8_t byte);

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
