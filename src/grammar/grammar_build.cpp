// RuleSet: builds rules while the parser reads them, then finish() turns them into the flat Grammar the matcher
// runs. Anonymous rules with a single alternative (literals, plain groups) are inlined where they are used, so a
// literal costs its bytes and nothing more.
#include <functional>

#include "grammar/grammar_build.hpp"
#include "grammar/utf8_ranges.hpp"
#include "qtr/error.hpp"

namespace qtr::grammar {

void RuleSet::fail_at(size_t position, const std::string& message) const {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < position && i < source_.size(); ++i) {
    if (source_[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  throw Error(Errc::invalid_argument, "grammar:" + std::to_string(line) + ":" + std::to_string(col) + ": " + message);
}

uint32_t RuleSet::intern_set(const ByteSet& set) {
  auto [it, fresh] = set_ids_.emplace(set.bits, static_cast<uint32_t>(sets.size()));
  if (fresh) sets.push_back(set);
  return it->second;
}

uint32_t RuleSet::define(const std::string& name, size_t position) {
  auto it = by_name_.find(name);
  if (it != by_name_.end()) {
    DraftRule& r = rules[it->second];
    if (r.defined) return kDuplicate;
    r.defined = true;
    r.position = position;
    return it->second;
  }
  const auto id = static_cast<uint32_t>(rules.size());
  rules.push_back({name, {}, true, false, position});
  by_name_[name] = id;
  return id;
}

Item RuleSet::named_ref(const std::string& name, size_t position) {
  ++items_;
  auto it = by_name_.find(name);
  if (it != by_name_.end()) return Item::ref(it->second);
  const auto id = static_cast<uint32_t>(rules.size());
  rules.push_back({name, {}, false, false, position});
  by_name_[name] = id;
  return Item::ref(id);
}

uint32_t RuleSet::anonymous(const char* what, size_t position) {
  const auto id = static_cast<uint32_t>(rules.size());
  rules.push_back({what, {}, true, true, position});
  return id;
}

Item RuleSet::literal_item(const std::vector<uint8_t>& bytes, size_t position) {
  items_ += bytes.size();
  if (bytes.size() == 1) {
    ByteSet s;
    s.add(bytes[0]);
    return Item::byte_set(intern_set(s));
  }
  const uint32_t r = anonymous("literal", position);
  rules[r].alternatives.emplace_back();
  for (uint8_t b : bytes) {
    ByteSet s;
    s.add(b);
    rules[r].alternatives.back().push_back(Item::byte_set(intern_set(s)));
  }
  return Item::ref(r);
}

Item RuleSet::class_item(std::vector<std::pair<uint32_t, uint32_t>> ranges, bool negated) {
  ++items_;
  auto normal = normalize_ranges(std::move(ranges), negated);
  if (auto it = classes_.find(normal); it != classes_.end()) return it->second;
  std::vector<ByteRangeSeq> seqs;
  for (const auto& [lo, hi] : normal) utf8_sequences(lo, hi, seqs);
  ByteSet single;  // every one-byte sequence in one set
  std::vector<const ByteRangeSeq*> multi;
  for (const auto& seq : seqs) {
    if (seq.size() == 1) {
      single.add_range(seq[0].first, seq[0].second);
    } else {
      multi.push_back(&seq);
    }
  }
  Item item;
  if (multi.empty() && !single.empty()) {
    item = Item::byte_set(intern_set(single));
  } else {
    const uint32_t r = anonymous("class", 0);
    if (!single.empty()) rules[r].alternatives.push_back({Item::byte_set(intern_set(single))});
    for (const ByteRangeSeq* seq : multi) {
      std::vector<Item> alt;
      for (const auto& [lo, hi] : *seq) {
        ByteSet s;
        s.add_range(lo, hi);
        alt.push_back(Item::byte_set(intern_set(s)));
      }
      items_ += alt.size();
      rules[r].alternatives.push_back(std::move(alt));
    }
    if (rules[r].alternatives.empty()) {
      // A class that matches nothing ([^\x00-\U0010FFFF]): a rule without alternatives derives nothing.
    }
    item = Item::ref(r);
  }
  classes_.emplace(std::move(normal), item);
  return item;
}

Item RuleSet::repeat(Item item, uint32_t min, uint32_t max, size_t position) {
  const uint32_t r = anonymous("repeat", position);
  std::vector<Item> prefix(min, item);
  items_ += min + 2;
  if (max == kUnbounded) {
    // star ::= item star | ε  (right recursion: the matcher's expansion never loops on it)
    const uint32_t star = anonymous("star", position);
    rules[star].alternatives.push_back({item, Item::ref(star)});
    rules[star].alternatives.emplace_back();
    prefix.push_back(Item::ref(star));
  } else if (max > min) {
    // opt_k ::= item opt_{k-1} | ε, built from the innermost out
    uint32_t inner = anonymous("opt", position);
    rules[inner].alternatives.push_back({item});
    rules[inner].alternatives.emplace_back();
    for (uint32_t k = 1; k < max - min; ++k) {
      const uint32_t outer = anonymous("opt", position);
      rules[outer].alternatives.push_back({item, Item::ref(inner)});
      rules[outer].alternatives.emplace_back();
      inner = outer;
      items_ += 2;
    }
    prefix.push_back(Item::ref(inner));
  }
  rules[r].alternatives.push_back(std::move(prefix));
  return Item::ref(r);
}

Grammar RuleSet::finish(const GbnfLimits& limits) {
  for (const DraftRule& r : rules) {
    if (!r.defined) fail_at(r.position, "undefined rule '" + r.name + "'");
  }
  auto root_it = by_name_.find("root");
  if (root_it == by_name_.end()) throw Error(Errc::invalid_argument, "grammar: no rule named 'root'");

  // Reachability from root.
  std::vector<char> reached(rules.size(), 0);
  std::vector<uint32_t> work{root_it->second};
  reached[root_it->second] = 1;
  while (!work.empty()) {
    const uint32_t r = work.back();
    work.pop_back();
    for (const auto& alt : rules[r].alternatives) {
      for (const Item& it : alt) {
        if (it.kind == Item::rule_ref && !reached[it.index]) {
          reached[it.index] = 1;
          work.push_back(it.index);
        }
      }
    }
  }
  if (!limits.allow_unused_rules) {
    for (size_t r = 0; r < rules.size(); ++r) {
      if (!reached[r] && !rules[r].anonymous) fail_at(rules[r].position, "rule '" + rules[r].name + "' is never used");
    }
  }

  // Inlinable: anonymous, one alternative, not (transitively) containing itself.
  std::vector<int8_t> inline_state(rules.size(), 0);  // 0 unknown, 1 inline, 2 keep, 3 visiting
  std::function<bool(uint32_t)> inlinable = [&](uint32_t r) -> bool {
    if (inline_state[r] == 1) return true;
    if (inline_state[r] == 2) return false;
    if (inline_state[r] == 3) return false;  // a cycle: keep
    if (!rules[r].anonymous || rules[r].alternatives.size() != 1) {
      inline_state[r] = 2;
      return false;
    }
    inline_state[r] = 3;
    for (const Item& it : rules[r].alternatives[0]) {
      if (it.kind == Item::rule_ref && inline_state[it.index] == 3) {
        inline_state[r] = 2;
        return false;
      }
      if (it.kind == Item::rule_ref) inlinable(it.index);
    }
    inline_state[r] = 1;
    return true;
  };

  Grammar g;
  g.sets = sets;
  std::vector<uint32_t> new_id(rules.size(), kDuplicate);
  std::vector<uint32_t> order;
  for (size_t r = 0; r < rules.size(); ++r) {
    if (reached[r] && !inlinable(static_cast<uint32_t>(r))) {
      new_id[r] = static_cast<uint32_t>(g.rules.size());
      g.rules.push_back({rules[r].name, {}, false});
      order.push_back(static_cast<uint32_t>(r));
    }
  }
  std::function<void(const std::vector<Item>&)> emit = [&](const std::vector<Item>& alt) {
    for (const Item& it : alt) {
      if (it.kind == Item::set) {
        g.symbols.push_back({Symbol::bytes, it.index});
      } else if (new_id[it.index] == kDuplicate) {
        emit(rules[it.index].alternatives[0]);  // inlined
      } else {
        g.symbols.push_back({Symbol::rule, new_id[it.index]});
      }
      if (g.symbols.size() > limits.max_symbols) {
        throw Error(Errc::out_of_memory, "grammar: more than " + std::to_string(limits.max_symbols) + " symbols");
      }
    }
  };
  for (size_t k = 0; k < order.size(); ++k) {
    for (const auto& alt : rules[order[k]].alternatives) {
      g.rules[k].alternatives.push_back(static_cast<uint32_t>(g.symbols.size()));
      emit(alt);
      g.symbols.push_back({Symbol::end, 0});
    }
  }
  g.root = new_id[root_it->second];
  check_grammar(g);
  return g;
}

}  // namespace qtr::grammar
