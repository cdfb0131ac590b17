// Checks on a flattened grammar, run once at compile time:
//   - nullable rules (derive the empty string), needed by the two checks below;
//   - left recursion: a rule that can reach itself without consuming a byte would make the matcher's expansion
//     push frames forever. A reach through tail positions only (r ::= x r with x nullable) keeps the same
//     continuation and is safe (the expansion deduplicates it), so only cycles with a non-tail step are refused;
//   - a root that derives no finite string: no text can ever satisfy the constraint.
#include <algorithm>

#include "grammar/grammar_build.hpp"
#include "qtr/error.hpp"

namespace qtr::grammar {
namespace {

void compute_nullable(Grammar& g) {
  bool changed = true;
  while (changed) {
    changed = false;
    for (Rule& r : g.rules) {
      if (r.nullable) continue;
      for (uint32_t start : r.alternatives) {
        bool all = true;
        for (uint32_t p = start; g.symbols[p].kind != Symbol::end; ++p) {
          const Symbol& s = g.symbols[p];
          if (s.kind == Symbol::bytes || !g.rules[s.index].nullable) {
            all = false;
            break;
          }
        }
        if (all) {
          r.nullable = true;
          changed = true;
          break;
        }
      }
    }
  }
}

std::vector<char> compute_productive(const Grammar& g) {
  std::vector<char> productive(g.rules.size(), 0);
  bool changed = true;
  while (changed) {
    changed = false;
    for (size_t r = 0; r < g.rules.size(); ++r) {
      if (productive[r]) continue;
      for (uint32_t start : g.rules[r].alternatives) {
        bool all = true;
        for (uint32_t p = start; g.symbols[p].kind != Symbol::end; ++p) {
          const Symbol& s = g.symbols[p];
          if ((s.kind == Symbol::bytes && g.sets[s.index].empty()) || (s.kind == Symbol::rule && !productive[s.index])) {
            all = false;
            break;
          }
        }
        if (all) {
          productive[r] = 1;
          changed = true;
          break;
        }
      }
    }
  }
  return productive;
}

struct Edge {
  uint32_t to;
  bool tail;
};

// Tarjan's strongly connected components, iteratively (grammars can have many thousands of rules).
std::vector<uint32_t> components(const std::vector<std::vector<Edge>>& edges) {
  const size_t n = edges.size();
  constexpr uint32_t kNone = 0xFFFFFFFF;
  std::vector<uint32_t> index(n, kNone), low(n, 0), comp(n, kNone);
  std::vector<char> on_stack(n, 0);
  std::vector<uint32_t> stack;
  std::vector<std::pair<uint32_t, size_t>> call;  // (node, next edge)
  uint32_t counter = 0, n_comp = 0;
  for (uint32_t s = 0; s < n; ++s) {
    if (index[s] != kNone) continue;
    call.emplace_back(s, 0);
    index[s] = low[s] = counter++;
    stack.push_back(s);
    on_stack[s] = 1;
    while (!call.empty()) {
      auto& [v, e] = call.back();
      if (e < edges[v].size()) {
        const uint32_t w = edges[v][e++].to;
        if (index[w] == kNone) {
          index[w] = low[w] = counter++;
          stack.push_back(w);
          on_stack[w] = 1;
          call.emplace_back(w, 0);
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      const uint32_t done = v;
      call.pop_back();
      if (!call.empty()) low[call.back().first] = std::min(low[call.back().first], low[done]);
      if (low[done] == index[done]) {
        uint32_t w;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[w] = 0;
          comp[w] = n_comp;
        } while (w != done);
        ++n_comp;
      }
    }
  }
  return comp;
}

}  // namespace

void check_grammar(Grammar& g) {
  compute_nullable(g);
  std::vector<std::vector<Edge>> edges(g.rules.size());
  for (size_t r = 0; r < g.rules.size(); ++r) {
    for (uint32_t start : g.rules[r].alternatives) {
      for (uint32_t p = start; g.symbols[p].kind != Symbol::end; ++p) {
        const Symbol& s = g.symbols[p];
        if (s.kind == Symbol::bytes) break;
        edges[r].push_back({s.index, g.symbols[p + 1].kind == Symbol::end});
        if (!g.rules[s.index].nullable) break;
      }
    }
  }
  const std::vector<uint32_t> comp = components(edges);
  for (size_t r = 0; r < g.rules.size(); ++r) {
    for (const Edge& e : edges[r]) {
      if (!e.tail && comp[e.to] == comp[r]) {
        throw Error(Errc::invalid_argument, "grammar: rule '" + g.rules[r].name +
                                                "' is left-recursive (it can reach '" + g.rules[e.to].name +
                                                "' and itself without matching anything); rewrite it with repetition");
      }
    }
  }
  const std::vector<char> productive = compute_productive(g);
  if (!productive[g.root]) {
    throw Error(Errc::invalid_argument, "grammar: no text can match the root rule (its language is empty)");
  }
  // Drop the alternatives that can never complete, so that every stack the matcher keeps alive can still reach
  // an accept state: a token is then allowed exactly when the text stays a prefix of some complete string.
  for (Rule& r : g.rules) {
    std::erase_if(r.alternatives, [&](uint32_t start) {
      for (uint32_t p = start; g.symbols[p].kind != Symbol::end; ++p) {
        const Symbol& s = g.symbols[p];
        if ((s.kind == Symbol::bytes && g.sets[s.index].empty()) || (s.kind == Symbol::rule && !productive[s.index])) return true;
      }
      return false;
    });
  }
}

}  // namespace qtr::grammar
