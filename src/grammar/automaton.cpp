// Automaton: hash-consed stacks, the expansion of stacks to byte-set tops (tail calls keep the continuation, so
// right recursion does not grow the stack), and interned states with lazily filled transition rows.
#include "grammar/automaton.hpp"

#include <algorithm>
#include <string>

#include "qtr/error.hpp"

namespace qtr::grammar {
namespace {

uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

[[noreturn]] void over_budget(const char* what, size_t limit) {
  throw Error(Errc::out_of_memory, std::string("grammar: the matcher needs more than ") + std::to_string(limit) + " " +
                                       what + " (a grammar too ambiguous or too deeply nested for the budget)");
}

}  // namespace

Automaton::Automaton(const Grammar& grammar, const AutomatonLimits& limits) : g_(grammar), limits_(limits) {
  nodes_.push_back({0xFFFFFFFF, 0});  // kBottom
  states_.emplace_back();             // kDead
  std::vector<uint32_t> from;
  for (uint32_t alt : g_.rules[g_.root].alternatives) from.push_back(node(alt, kBottom));
  start_ = close(from);
}

uint32_t Automaton::node(uint32_t pos, uint32_t rest) {
  const uint64_t key = (uint64_t{pos} << 32) | rest;
  auto [it, fresh] = node_ids_.emplace(key, static_cast<uint32_t>(nodes_.size()));
  if (fresh) {
    if (nodes_.size() >= limits_.max_nodes) over_budget("stack nodes", limits_.max_nodes);
    nodes_.push_back({pos, rest});
  }
  return it->second;
}

uint32_t Automaton::close(const std::vector<uint32_t>& from) {
  if (++visit_epoch_ == 0) {  // wrapped: clear the marks
    std::fill(visited_mark_.begin(), visited_mark_.end(), 0);
    visit_epoch_ = 1;
  }
  found_.clear();
  work_.assign(from.begin(), from.end());
  bool accept = false;
  size_t visited = 0;
  while (!work_.empty()) {
    const uint32_t n = work_.back();
    work_.pop_back();
    if (n >= visited_mark_.size()) visited_mark_.resize(std::max<size_t>(nodes_.size(), n + 1) * 2, 0);
    if (visited_mark_[n] == visit_epoch_) continue;
    visited_mark_[n] = visit_epoch_;
    if (++visited > limits_.max_stacks_per_state * 4) over_budget("expansion steps for one byte", limits_.max_stacks_per_state * 4);
    if (n == kBottom) {
      accept = true;
      continue;
    }
    const Node nd = nodes_[n];  // a copy: node() below may grow nodes_
    const Symbol sym = g_.symbols[nd.pos];
    switch (sym.kind) {
      case Symbol::bytes:
        found_.push_back(n);
        if (found_.size() > limits_.max_stacks_per_state) over_budget("live stacks", limits_.max_stacks_per_state);
        break;
      case Symbol::end: work_.push_back(nd.rest); break;
      case Symbol::rule: {
        const uint32_t ret = g_.symbols[nd.pos + 1].kind == Symbol::end ? nd.rest : node(nd.pos + 1, nd.rest);
        for (uint32_t alt : g_.rules[sym.index].alternatives) work_.push_back(node(alt, ret));
        break;
      }
    }
  }
  std::sort(found_.begin(), found_.end());
  uint64_t h = accept ? 0x9e3779b97f4a7c15ULL : 0;
  for (uint32_t id : found_) h = mix(h ^ id) + 0x632be59bd9b4e019ULL;
  auto& bucket = state_ids_[h];
  for (uint32_t id : bucket) {
    if (states_[id].accept == accept && states_[id].stacks == found_) return id;
  }
  if (found_.empty() && !accept) return kDead;
  if (states_.size() >= limits_.max_states) over_budget("states", limits_.max_states);
  const auto id = static_cast<uint32_t>(states_.size());
  State s;
  s.stacks = found_;
  s.accept = accept;
  for (uint32_t n : found_) {
    const ByteSet& set = g_.sets[g_.symbols[nodes_[n].pos].index];
    for (int w = 0; w < 4; ++w) s.first.bits[w] |= set.bits[w];
  }
  states_.push_back(std::move(s));
  bucket.push_back(id);
  return id;
}

uint32_t Automaton::compute(uint32_t state, uint8_t byte) {
  std::vector<uint32_t> from;
  uint32_t to = kDead;
  if (states_[state].first.has(byte)) {
    for (uint32_t n : states_[state].stacks) {
      const Node nd = nodes_[n];
      if (g_.sets[g_.symbols[nd.pos].index].has(byte)) from.push_back(node(nd.pos + 1, nd.rest));
    }
    to = close(from);
  }
  auto& row = states_[state].row;
  if (!row) {
    row = std::make_unique<std::array<uint32_t, 256>>();
    row->fill(kUnknown);
  }
  (*row)[byte] = to;
  return to;
}

bool grammar_accepts(const Grammar& grammar, std::string_view text) {
  Automaton a(grammar);
  const uint32_t s = a.run(a.start(), reinterpret_cast<const uint8_t*>(text.data()), text.size());
  return s != Automaton::kDead && a.accepting(s);
}

}  // namespace qtr::grammar
