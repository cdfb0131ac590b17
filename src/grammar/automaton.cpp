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

bool Automaton::continues_home(uint32_t x, int rem, uint8_t lo, uint8_t hi, uint32_t home,
                               std::unordered_map<uint64_t, bool>& memo) {
  const bool full = lo == 0x80 && hi == 0xBF;
  const uint64_t key = (uint64_t{x} << 8) | static_cast<uint64_t>(rem);
  if (full) {
    if (auto it = memo.find(key); it != memo.end()) return it->second;
  }
  bool ok = x != kDead;
  for (unsigned c = lo; ok && c <= hi; ++c) {
    const uint32_t y = next(x, static_cast<uint8_t>(c));
    ok = rem == 1 ? y == home : continues_home(y, rem - 1, 0x80, 0xBF, home, memo);
  }
  if (full) memo[key] = ok;
  return ok;
}

ByteSet Automaton::string_leads_to(uint32_t state, uint32_t target) {
  ByteSet out;
  for (unsigned b = 0x20; b < 0x80; ++b) {
    if (b != '"' && b != '\\' && next(state, static_cast<uint8_t>(b)) == target) out.add(static_cast<uint8_t>(b));
  }
  std::unordered_map<uint64_t, bool> memo;
  struct Lead {
    uint8_t lo, hi;              // lead bytes
    int rem;                     // continuation bytes
    uint8_t first_lo, first_hi;  // range of the first continuation byte
  };
  static constexpr Lead kLeads[] = {{0xC2, 0xDF, 1, 0x80, 0xBF}, {0xE0, 0xE0, 2, 0xA0, 0xBF}, {0xE1, 0xEC, 2, 0x80, 0xBF},
                                    {0xED, 0xED, 2, 0x80, 0x9F}, {0xEE, 0xEF, 2, 0x80, 0xBF}, {0xF0, 0xF0, 3, 0x90, 0xBF},
                                    {0xF1, 0xF3, 3, 0x80, 0xBF}, {0xF4, 0xF4, 3, 0x80, 0x8F}};
  for (const Lead& l : kLeads) {
    for (unsigned b = l.lo; b <= l.hi; ++b) {
      if (continues_home(next(state, static_cast<uint8_t>(b)), l.rem, l.first_lo, l.first_hi, target, memo)) {
        out.add(static_cast<uint8_t>(b));
      }
    }
  }
  return out;
}

uint32_t Automaton::majority_next(uint32_t state, int& votes) {
  std::unordered_map<uint32_t, int> count;
  uint32_t best_state = kDead;
  votes = 0;
  for (unsigned b = 0x20; b < 0x80; ++b) {
    if (b == '"' || b == '\\') continue;
    const uint32_t to = next(state, static_cast<uint8_t>(b));
    if (to != kDead && ++count[to] > votes) {
      votes = count[to];
      best_state = to;
    }
  }
  return best_state;
}

uint32_t Automaton::uniform_next(uint32_t state) {
  if (states_[state].uniform_next != 0xFFFFFFFE) return states_[state].uniform_next;
  int votes = 0;
  const uint32_t y = majority_next(state, votes);
  uint32_t result = kMixed;
  if (votes == 0) {
    bool none = true;  // no ASCII string character: is any other one taken?
    for (unsigned b = 0xC2; b < 0xF5 && none; ++b) none = next(state, static_cast<uint8_t>(b)) == kDead;
    result = none ? kDead : kMixed;
  } else if (votes == 94) {  // every ASCII string character goes to y: and every other one?
    const ByteSet leads = string_leads_to(state, y);
    bool all = true;
    for (unsigned b = 0xC2; b < 0xF5 && all; ++b) all = leads.has(static_cast<uint8_t>(b));
    if (all) result = y;
  }
  states_[state].uniform_next = result;
  return result;
}

const Automaton::StringText& Automaton::string_text(uint32_t state) {
  if (states_[state].string_known) return states_[state].string;
  StringText r;
  int votes = 0;
  const uint32_t t1 = majority_next(state, votes);
  if (t1 != kDead && votes >= 32) {
    r.first = string_leads_to(state, t1);
    r.after_first = t1;
    r.first_loops = uniform_next(t1) == t1;
    uint32_t x = t1;
    for (uint32_t chars = 1;; ++chars) {
      if (chars > kStringChainLimit) {  // still counting down: at least this many characters are allowed
        r.applies = true;
        r.max_chars = kAtLeast;
        break;
      }
      const uint32_t u = uniform_next(x);
      if (u == kMixed) break;
      if (u == kDead) {  // x takes no more string characters
        r.applies = true;
        r.max_chars = chars;
        break;
      }
      if (u == x) {
        r.applies = true;
        r.max_chars = kUnbounded;
        break;
      }
      x = u;
    }
  }
  if (!r.applies) r.first = ByteSet{};
  states_[state].string = r;
  states_[state].string_known = 1;
  return states_[state].string;
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
  // Every byte that the same stacks take (and the same ones refuse) leads to the same state: compute the state
  // once and fill the row for that whole class of bytes. A state's row so costs one expansion per byte class
  // (string text, digits, ...), not one per byte.
  std::vector<uint32_t> from;
  std::array<uint64_t, 4> same{~uint64_t{0}, ~uint64_t{0}, ~uint64_t{0}, ~uint64_t{0}};
  for (uint32_t n : states_[state].stacks) {
    const Node nd = nodes_[n];
    const ByteSet& set = g_.sets[g_.symbols[nd.pos].index];
    const bool takes = set.has(byte);
    for (int w = 0; w < 4; ++w) same[w] &= takes ? set.bits[w] : ~set.bits[w];
    if (takes) from.push_back(node(nd.pos + 1, nd.rest));
  }
  const uint32_t to = from.empty() ? kDead : close(from);
  if (row_of_[state] == kUnknown) {
    row_of_[state] = static_cast<uint32_t>(rows_.size() / 256);
    rows_.resize(rows_.size() + 256, kUnknown);
  }
  uint32_t* row = &rows_[size_t{row_of_[state]} * 256];
  for (int w = 0; w < 4; ++w) {
    for (uint64_t m = same[w]; m; m &= m - 1) row[w * 64 + __builtin_ctzll(m)] = to;
  }
  row[byte] = to;
  return to;
}

bool grammar_accepts(const Grammar& grammar, std::string_view text) {
  Automaton a(grammar);
  const uint32_t s = a.run(a.start(), reinterpret_cast<const uint8_t*>(text.data()), text.size());
  return s != Automaton::kDead && a.accepting(s);
}

}  // namespace qtr::grammar
