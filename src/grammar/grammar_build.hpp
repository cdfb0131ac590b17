// RuleSet — the grammar while it is being written: rules of alternatives of items (byte sets and rule references),
// named rules resolved by name, anonymous ones for groups, classes and repetition. finish() resolves, prunes,
// inlines, flattens and checks it into a Grammar. Used by the GBNF parser.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "grammar/grammar.hpp"

namespace qtr::grammar {

inline constexpr uint32_t kDuplicate = std::numeric_limits<uint32_t>::max();
inline constexpr uint32_t kUnbounded = std::numeric_limits<uint32_t>::max();

struct Item {
  enum Kind : uint8_t { set, rule_ref };
  Kind kind = set;
  uint32_t index = 0;  // set: into RuleSet::sets; ref: into RuleSet::rules
  static Item byte_set(uint32_t i) { return {set, i}; }
  static Item ref(uint32_t r) { return {rule_ref, r}; }
};

struct DraftRule {
  std::string name;                           // "" for anonymous rules
  std::vector<std::vector<Item>> alternatives;
  bool defined = false;                       // named rules: seen on the left of ::=
  bool anonymous = false;
  size_t position = 0;                        // definition, or first use while undefined (byte offset)
};

class RuleSet {
 public:
  explicit RuleSet(std::string_view source) : source_(source) {}

  // Starts the named rule; kDuplicate when it was defined already.
  uint32_t define(const std::string& name, size_t position);
  Item named_ref(const std::string& name, size_t position);
  uint32_t anonymous(const char* what, size_t position);
  Item literal_item(const std::vector<uint8_t>& bytes, size_t position);
  Item class_item(std::vector<std::pair<uint32_t, uint32_t>> ranges, bool negated);
  Item repeat(Item item, uint32_t min, uint32_t max, size_t position);  // max = kUnbounded for no bound
  size_t item_count() const { return items_; }

  Grammar finish(const GbnfLimits& limits);

  std::vector<DraftRule> rules;
  std::vector<ByteSet> sets;

 private:
  uint32_t intern_set(const ByteSet& set);
  [[noreturn]] void fail_at(size_t position, const std::string& message) const;

  std::string_view source_;
  std::unordered_map<std::string, uint32_t> by_name_;
  std::map<std::vector<std::pair<uint32_t, uint32_t>>, Item> classes_;  // normalised ranges -> item
  std::map<std::array<uint64_t, 4>, uint32_t> set_ids_;
  size_t items_ = 0;
};

// The checks on a flattened grammar (grammar_checks.cpp): fills Rule::nullable, throws for left recursion and for
// a root that derives no finite string. `names` gives the messages their rule names.
void check_grammar(Grammar& grammar);

}  // namespace qtr::grammar
