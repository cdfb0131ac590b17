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
  nodes_.push_back({0xFFFFFFFF, 1});  // kUnknown_
  states_.emplace_back();             // kDead
  row_of_.push_back(kUnknown);
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
  bool accept = false, unknown = false;
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
    if (n == kUnknown_) {
      unknown = true;
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
  return intern(found_, accept, unknown);
}

uint32_t Automaton::intern(const std::vector<uint32_t>& stacks, bool accept, bool unknown) {
  if (stacks.empty() && !accept && !unknown) return kDead;
  uint64_t h = (accept ? 0x9e3779b97f4a7c15ULL : 0) ^ (unknown ? 0x7f4a7c159e3779b9ULL : 0);
  for (uint32_t id : stacks) h = mix(h ^ id) + 0x632be59bd9b4e019ULL;
  auto& bucket = state_ids_[h];
  for (uint32_t id : bucket) {
    if (states_[id].accept == accept && states_[id].unknown == unknown && states_[id].stacks == stacks) return id;
  }
  if (states_.size() >= limits_.max_states) over_budget("states", limits_.max_states);
  const auto id = static_cast<uint32_t>(states_.size());
  State s;
  s.stacks = stacks;
  s.accept = accept;
  s.unknown = unknown;
  for (uint32_t n : stacks) {
    const ByteSet& set = g_.sets[g_.symbols[nodes_[n].pos].index];
    for (int w = 0; w < 4; ++w) s.first.bits[w] |= set.bits[w];
  }
  states_.push_back(std::move(s));
  row_of_.push_back(kUnknown);
  bucket.push_back(id);
  return id;
}

bool Automaton::loops_on_slow(uint32_t state, const std::array<uint64_t, 4>& bytes) {
  for (int w = 0; w < 4; ++w) {
    if (bytes[w] & ~states_[state].first.bits[w]) return false;  // a byte no stack takes
    if (bytes[w] & states_[state].loop_no.bits[w]) return false;
  }
  for (int w = 0; w < 4; ++w) {
    uint64_t todo = bytes[w] & ~states_[state].loop_yes.bits[w];
    while (todo) {
      const auto b = static_cast<uint8_t>(w * 64 + __builtin_ctzll(todo));
      todo &= todo - 1;
      const bool loops = next(state, b) == state;  // next() may grow states_: index again below
      if (loops) {
        states_[state].loop_yes.add(b);
      } else {
        states_[state].loop_no.add(b);
        return false;
      }
    }
  }
  return true;
}

uint32_t Automaton::cut(uint32_t n, int depth) {
  if (n == kBottom || n == kUnknown_) return n;
  if (depth == 0) return kUnknown_;
  const Node nd = nodes_[n];
  return node(nd.pos, cut(nd.rest, depth - 1));
}

uint32_t Automaton::truncated(uint32_t state, int depth) {
  if (state == kDead) return kDead;
  if (depth != truncated_depth_) {
    for (State& s : states_) s.truncated = 0xFFFFFFFF;
    truncated_depth_ = depth;
  }
  if (states_[state].truncated != 0xFFFFFFFF) return states_[state].truncated;
  std::vector<uint32_t> stacks;
  stacks.reserve(states_[state].stacks.size());
  for (uint32_t n : states_[state].stacks) stacks.push_back(cut(n, depth));
  std::sort(stacks.begin(), stacks.end());
  stacks.erase(std::unique(stacks.begin(), stacks.end()), stacks.end());
  const bool accept = states_[state].accept, unknown = states_[state].unknown;
  const uint32_t t = intern(stacks, accept, unknown);
  states_[state].truncated = t;
  return t;
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
  if (row_of_[state] == kUnknown) {
    row_of_[state] = static_cast<uint32_t>(rows_.size() / 256);
    rows_.resize(rows_.size() + 256, kUnknown);
  }
  rows_[size_t{row_of_[state]} * 256 + byte] = to;
  return to;
}

bool grammar_accepts(const Grammar& grammar, std::string_view text) {
  Automaton a(grammar);
  const uint32_t s = a.run(a.start(), reinterpret_cast<const uint8_t*>(text.data()), text.size());
  return s != Automaton::kDead && a.accepting(s);
}

}  // namespace qtr::grammar
