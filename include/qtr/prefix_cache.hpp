// PrefixCache — keeps the KV cache of token prefixes that requests share (a long system prompt, few-shot examples)
// so that a later request starting with the same tokens forks them instead of computing them again. Entries are
// sequences of the Context that only the cache holds; their pages are shared copy-on-write with the requests
// forked from them, so a cached prefix costs its memory once. The least recently used entry goes first when the
// cache holds max_entries, or when the Context runs out of pages during decode().
//
//   qtr::PrefixCache cache(ctx);
//   auto hit = cache.acquire(prompt);        // hit.seq holds prompt[0 .. hit.n_cached)
//   ... decode prompt[hit.n_cached ..] into hit.seq, generate ...
//   cache.store(hit.seq, prompt);            // keep the prompt's KV for the next request
//   ctx.remove_sequence(hit.seq);
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "qtr/context.hpp"

namespace qtr {

class PrefixCache {
 public:
  explicit PrefixCache(Context& context, size_t max_entries = 8);
  ~PrefixCache();  // removes the cache's own sequences from the context
  PrefixCache(const PrefixCache&) = delete;
  PrefixCache& operator=(const PrefixCache&) = delete;

  struct Hit {
    SeqId seq;         // a new sequence of the context, owned by the caller
    int64_t n_cached;  // it already holds tokens[0 .. n_cached); always < tokens.size(), so one token remains
  };
  // The longest cached prefix of `tokens` (non-empty), forked into a new sequence; a fresh one when none matches.
  Hit acquire(std::span<const TokenId> tokens);

  // Keeps the first tokens.size() positions of `seq` (which must hold exactly these tokens, or more) as an entry.
  // A prefix already cached (or contained in an entry) is not stored twice.
  void store(SeqId seq, std::span<const TokenId> tokens);

  // Context::decode, evicting least recently used entries while the context is out of pages.
  std::span<const float> decode(std::span<const BatchEntry> batch);

  bool evict_one();  // drops the least recently used entry; false when there is none
  size_t size() const { return entries_.size(); }
  int64_t hits() const { return hits_; }
  int64_t cached_tokens_served() const { return served_; }

 private:
  struct Entry {
    std::vector<TokenId> tokens;
    SeqId seq;
    uint64_t last_used;
  };
  Context& context_;
  size_t max_entries_;
  std::vector<Entry> entries_;
  uint64_t clock_ = 0;
  int64_t hits_ = 0, served_ = 0;
};

}  // namespace qtr
