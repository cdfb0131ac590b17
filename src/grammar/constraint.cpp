// Constraint: compiling each kind of constraint to the byte grammar (GBNF directly; JSON Schema and regex through
// their compilers, which write GBNF), and the token-mask walk over the vocabulary trie with its per-state cache.
#include <algorithm>

#include "grammar/constraint_impl.hpp"
#include "grammar/gbnf_writer.hpp"
#include "grammar/json_schema.hpp"
#include "grammar/regex.hpp"
#include "grammar/token_trie.hpp"
#include "qtr/error.hpp"
#include "qtr/json.hpp"

namespace qtr {
namespace {

grammar::GbnfLimits gbnf_limits(const ConstraintOptions& o, bool generated) {
  grammar::GbnfLimits l;
  l.max_source_bytes = generated ? std::max(o.max_source_bytes, size_t{64} << 20) : o.max_source_bytes;
  l.max_symbols = o.max_symbols;
  l.allow_unused_rules = generated || o.allow_unused_rules;
  return l;
}

std::shared_ptr<const Constraint> build(std::unique_ptr<Constraint::Impl> impl);

}  // namespace

Constraint::Constraint(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Constraint::~Constraint() = default;
const std::string& Constraint::gbnf() const { return impl_->gbnf; }
const std::vector<std::string>& Constraint::relaxed() const { return impl_->relaxed; }
const TokenVocabulary& Constraint::vocabulary() const { return *impl_->vocab; }

namespace {

std::unique_ptr<Constraint::Impl> make_impl(std::string gbnf, bool generated, std::shared_ptr<const TokenVocabulary> vocab,
                                            const ConstraintOptions& options) {
  if (!vocab) throw Error(Errc::invalid_argument, "constraint: no token vocabulary");
  auto impl = std::make_unique<Constraint::Impl>();
  impl->grammar = grammar::parse_gbnf(gbnf, gbnf_limits(options, generated));
  impl->gbnf = std::move(gbnf);
  impl->vocab = std::move(vocab);
  impl->options = options;
  impl->mask_words = (impl->vocab->n_vocab() + 63) / 64;
  return impl;
}

}  // namespace

struct ConstraintFactory {
  static std::shared_ptr<const Constraint> make(std::unique_ptr<Constraint::Impl> impl) {
    grammar::AutomatonLimits limits;
    limits.max_stacks_per_state = impl->options.max_stacks;
    limits.max_states = impl->options.max_states;
    impl->automaton = std::make_unique<grammar::Automaton>(impl->grammar, limits);
    std::shared_ptr<const Constraint> c(new Constraint(std::move(impl)));
    // A constraint no token sequence can even begin is refused now rather than at the first token.
    std::lock_guard<std::mutex> lock(c->impl().mu);
    const auto& mask = c->impl().mask_locked(c->impl().automaton->start());
    const bool any = std::any_of(mask.begin(), mask.end(), [](uint64_t w) { return w != 0; });
    if (!any && !c->impl().automaton->accepting(c->impl().automaton->start())) {
      throw Error(Errc::invalid_argument, "constraint: no token of this vocabulary can begin a text the constraint accepts");
    }
    return c;
  }
};

namespace {
std::shared_ptr<const Constraint> build(std::unique_ptr<Constraint::Impl> impl) { return ConstraintFactory::make(std::move(impl)); }
}  // namespace

std::shared_ptr<const Constraint> Constraint::from_gbnf(std::string_view gbnf, std::shared_ptr<const TokenVocabulary> vocab,
                                                        const ConstraintOptions& options) {
  return build(make_impl(std::string(gbnf), false, std::move(vocab), options));
}

std::shared_ptr<const Constraint> Constraint::from_json_schema(std::string_view schema,
                                                               std::shared_ptr<const TokenVocabulary> vocab,
                                                               const ConstraintOptions& options) {
  if (schema.size() > options.max_source_bytes) {
    throw Error(Errc::out_of_memory, "json-schema: the schema is larger than " + std::to_string(options.max_source_bytes) + " bytes");
  }
  const Json doc = parse_json(schema, "json-schema");
  grammar::JsonSchemaOptions o;
  o.compact = options.compact_json;
  o.max_whitespace = options.json_whitespace;
  o.lenient = options.lenient;
  o.bounded_numbers = options.bounded_numbers;
  grammar::JsonSchemaResult r = grammar::json_schema_to_gbnf(doc, o);
  auto impl = make_impl(std::move(r.gbnf), true, std::move(vocab), options);
  impl->relaxed = std::move(r.relaxed);
  return build(std::move(impl));
}

std::shared_ptr<const Constraint> Constraint::json(std::shared_ptr<const TokenVocabulary> vocab, bool object_only,
                                                   const ConstraintOptions& options) {
  return from_json_schema(object_only ? R"({"type": "object"})" : "true", std::move(vocab), options);
}

std::shared_ptr<const Constraint> Constraint::from_regex(std::string_view pattern, std::shared_ptr<const TokenVocabulary> vocab,
                                                         const ConstraintOptions& options) {
  grammar::RegexOptions ro;
  ro.max_pattern_bytes = std::min(ro.max_pattern_bytes, options.max_source_bytes);
  grammar::GbnfWriter w;
  w.set_root(grammar::regex_to_gbnf(pattern, ro, w));
  return build(make_impl(w.text(), true, std::move(vocab), options));
}

std::shared_ptr<const Constraint> Constraint::from_choices(std::span<const std::string> choices,
                                                           std::shared_ptr<const TokenVocabulary> vocab,
                                                           const ConstraintOptions& options) {
  if (choices.empty()) throw Error(Errc::invalid_argument, "choice: the list of choices is empty");
  std::string body;
  for (const std::string& c : choices) {
    if (!body.empty()) body += " | ";
    body += grammar::gbnf_literal(c);
  }
  grammar::GbnfWriter w;
  w.set_root(body);
  return build(make_impl(w.text(), true, std::move(vocab), options));
}

const std::vector<uint64_t>& Constraint::Impl::mask_locked(uint32_t state) const {
  if (auto it = mask_cache.find(state); it != mask_cache.end()) return it->second;
  const size_t budget_entries = std::max<size_t>(2, options.mask_cache_bytes / (mask_words * 8 + 1));
  if (mask_cache.size() + 1 > budget_entries) mask_cache.clear();
  if (base_cache.size() + 1 > budget_entries) base_cache.clear();
  grammar::Automaton& a = *automaton;
  const uint32_t cut = a.truncated(state, kTruncateDepth);
  std::vector<uint64_t>& bits = mask_cache[state];
  if (cut == state) {  // no stack deeper than the cut: the plain walk
    bits.assign(mask_words, 0);
    walk_locked(state, bits, nullptr);
    return bits;
  }
  auto base_it = base_cache.find(cut);
  if (base_it == base_cache.end()) {
    BaseMask base;
    base.bits.assign(mask_words, 0);
    walk_locked(cut, base.bits, &base.uncertain);
    base_it = base_cache.emplace(cut, std::move(base)).first;
  }
  const BaseMask& base = base_it->second;
  bits = base.bits;
  // The uncertain tokens against the full state; consecutive ones (trie order) share their common prefix's states.
  walk_states.resize(size_t{vocab->trie().max_depth} + 1);
  uint32_t* st = walk_states.data();
  st[0] = state;
  size_t valid = 0;  // st[0..valid] hold the states after the previous token's first bytes
  const std::string* prev = nullptr;
  for (TokenId t : base.uncertain) {
    const std::string& p = vocab->piece(t);
    size_t k = 0;
    if (prev) {
      const size_t limit = std::min({prev->size(), p.size(), valid});
      while (k < limit && (*prev)[k] == p[k]) ++k;
    }
    uint32_t s = st[k];
    while (k < p.size() && s != grammar::Automaton::kDead) {
      s = a.next(s, static_cast<uint8_t>(p[k]));
      st[++k] = s;
    }
    valid = k;
    prev = &p;
    if (s != grammar::Automaton::kDead) bits[static_cast<size_t>(t) >> 6] |= uint64_t{1} << (t & 63);
  }
  return bits;
}

void Constraint::Impl::walk_locked(uint32_t start, std::vector<uint64_t>& bits, std::vector<TokenId>* uncertain) const {
  grammar::Automaton& a = *automaton;
  // In JSON string text, most tokens are string text too: when the characters from `start` lead to one state that
  // loops on all of them, the string slice is allowed at once (but for tokens whose first character goes
  // elsewhere: a key that must differ from the named ones, say), and only the other tokens are walked.
  const grammar::Automaton::StringText st = a.string_text(start);
  if (!st.applies) {
    walk_range(vocab->trie(), 1, vocab->trie().size(), start, bits, uncertain);
    return;
  }
  const grammar::ByteSet& leads = st.first;
  const uint32_t limit = grammar::Automaton::kStringChainLimit;
  const bool at_least = st.max_chars == grammar::Automaton::kAtLeast;
  const auto& slice = st.max_chars >= vocab->slice_max_chars() && !at_least ? vocab->string_slice()
                                                                          : vocab->slice_upto()[std::min(st.max_chars, limit)];
  for (size_t w = 0; w < bits.size(); ++w) bits[w] |= slice[w];
  if (at_least) {  // the slice's tokens of more than `limit` characters, each against the automaton
    for (TokenId t : vocab->slice_long()) {
      const std::string& p = vocab->piece(t);
      if (!leads.has(static_cast<uint8_t>(p[0]))) continue;  // walked in full below
      if (a.run(start, reinterpret_cast<const uint8_t*>(p.data()), p.size()) != grammar::Automaton::kDead) {
        bits[static_cast<size_t>(t) >> 6] |= uint64_t{1} << (t & 63);
      }
    }
  }
  const grammar::TokenTrie& full = vocab->trie();
  if (st.max_chars == grammar::Automaton::kUnbounded && st.first_loops) {
    // Once a token's string-text prefix is read, the state is after_first (which loops), whatever the prefix:
    // walk the rests of such tokens from there, and tokens without such a prefix from `start`. Tokens whose first
    // character goes elsewhere are walked in full instead (their bits cleared first).
    walk_range(vocab->head_trie(), 1, vocab->head_trie().size(), start, bits, uncertain);
    walk_range(vocab->tail_trie(), 1, vocab->tail_trie().size(), st.after_first, bits, uncertain);
    for (unsigned b = 0; b < 256; ++b) {
      const uint32_t node = vocab->first_byte_node()[b];
      if (node == 0 || leads.has(static_cast<uint8_t>(b))) continue;
      for (uint32_t k = full.token_begin[node]; k < full.token_begin[full.subtree_end[node]]; ++k) {
        const auto t = static_cast<uint32_t>(full.tokens[k]);
        bits[t >> 6] &= ~(uint64_t{1} << (t & 63));
      }
      walk_range(full, node, full.subtree_end[node], start, bits, uncertain);
    }
    return;
  }
  const auto& begin = vocab->slice_first_begin();
  const auto& by_first = vocab->slice_by_first();
  for (unsigned b = 0; b < 256; ++b) {
    if (begin[b] == begin[b + 1] || leads.has(static_cast<uint8_t>(b))) continue;
    for (uint32_t k = begin[b]; k < begin[b + 1]; ++k) {
      const auto t = static_cast<uint32_t>(by_first[k]);
      bits[t >> 6] &= ~(uint64_t{1} << (t & 63));
    }
    const uint32_t node = vocab->first_byte_node()[b];  // walk the tokens starting with b in full
    walk_range(full, node, full.subtree_end[node], start, bits, uncertain);
  }
  walk_range(vocab->rest_trie(), 1, vocab->rest_trie().size(), start, bits, uncertain);
}

void Constraint::Impl::walk_range(const grammar::TokenTrie& trie, size_t begin, size_t n, uint32_t start,
                                  std::vector<uint64_t>& bits, std::vector<TokenId>* uncertain) const {
  grammar::Automaton& a = *automaton;
  walk_states.resize(size_t{trie.max_depth} + 1);
  walk_popped.resize(size_t{trie.max_depth} + 1);
  walk_states[0] = start;
  walk_popped[0] = 0;
  const uint8_t* byte = trie.byte.data();
  const uint16_t* depth = trie.depth.data();
  const uint32_t* end = trie.subtree_end.data();
  const uint32_t* tb = trie.token_begin.data();
  const TokenId* tokens = trie.tokens.data();
  uint32_t* states = walk_states.data();
  char* popped = walk_popped.data();
  const auto* subtree_bytes = trie.subtree_bytes.data();
  for (size_t i = begin; i < n;) {
    const size_t d = depth[i];
    const uint32_t parent = states[d - 1];
    if (end[i] - i > 4 && a.loops_on(parent, subtree_bytes[i])) {
      // Every path below stays in `parent`, a live state: the whole subtree is allowed.
      for (uint32_t k = tb[i]; k < tb[end[i]]; ++k) {
        const auto t = static_cast<uint32_t>(tokens[k]);
        bits[t >> 6] |= uint64_t{1} << (t & 63);
      }
      i = end[i];
      continue;
    }
    const uint32_t s = a.next(parent, byte[i]);
    if (s == grammar::Automaton::kDead) {
      // Refused by the frames we know; if a stack already left them on this path, the context decides.
      if (uncertain && popped[d - 1]) uncertain->insert(uncertain->end(), tokens + tb[i], tokens + tb[end[i]]);
      i = end[i];
      continue;
    }
    states[d] = s;
    popped[d] = static_cast<char>(popped[d - 1] || a.reaches_unknown(s));
    const bool live = a.can_continue(s) || a.accepting(s);
    for (uint32_t k = tb[i]; k < tb[i + 1]; ++k) {
      const auto t = static_cast<uint32_t>(tokens[k]);
      if (live) {
        bits[t >> 6] |= uint64_t{1} << (t & 63);
      } else if (uncertain) {
        uncertain->push_back(tokens[k]);
      }
    }
    ++i;
  }
}

}  // namespace qtr
