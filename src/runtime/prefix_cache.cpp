#include "qtr/prefix_cache.hpp"

#include <algorithm>

#include "qtr/error.hpp"

namespace qtr {

PrefixCache::PrefixCache(Context& context, size_t max_entries) : context_(context), max_entries_(max_entries) {
  if (max_entries == 0) throw Error(Errc::invalid_argument, "a prefix cache needs room for at least one entry");
}

PrefixCache::~PrefixCache() {
  for (const Entry& e : entries_) {
    if (context_.has_sequence(e.seq)) context_.remove_sequence(e.seq);
  }
}

namespace {
size_t common_prefix(std::span<const TokenId> a, std::span<const TokenId> b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}
}  // namespace

PrefixCache::Hit PrefixCache::acquire(std::span<const TokenId> tokens) {
  if (tokens.empty()) throw Error(Errc::invalid_argument, "prefix cache: acquire needs at least one token");
  // Entries by how much of `tokens` they hold, best first; one token must be left to evaluate.
  std::vector<std::pair<size_t, size_t>> candidates;  // (usable length, entry index)
  for (size_t i = 0; i < entries_.size(); ++i) {
    const size_t n = std::min(common_prefix(entries_[i].tokens, tokens), tokens.size() - 1);
    if (n > 0) candidates.emplace_back(n, i);
  }
  std::sort(candidates.begin(), candidates.end(), [](auto a, auto b) { return a.first > b.first; });
  for (const auto& [n, i] : candidates) {
    const SeqId seq = context_.fork_sequence(entries_[i].seq);
    try {
      if (static_cast<int64_t>(n) < context_.sequence_length(seq)) context_.truncate_sequence(seq, int64_t(n));
    } catch (const Error&) {  // window layers no longer hold the positions before n: try another entry
      context_.remove_sequence(seq);
      continue;
    }
    entries_[i].last_used = ++clock_;
    ++hits_;
    served_ += static_cast<int64_t>(n);
    return {seq, static_cast<int64_t>(n)};
  }
  return {context_.create_sequence(), 0};
}

void PrefixCache::store(SeqId seq, std::span<const TokenId> tokens) {
  if (tokens.empty()) return;
  if (context_.sequence_length(seq) < static_cast<int64_t>(tokens.size())) {
    throw Error(Errc::invalid_argument, "prefix cache: sequence " + std::to_string(seq) + " holds " +
                                            std::to_string(context_.sequence_length(seq)) + " positions, not the " +
                                            std::to_string(tokens.size()) + " tokens to store");
  }
  for (Entry& e : entries_) {
    if (common_prefix(e.tokens, tokens) == tokens.size()) {  // already held by an entry
      e.last_used = ++clock_;
      return;
    }
  }
  const SeqId copy = context_.fork_sequence(seq);
  try {
    if (context_.sequence_length(copy) > static_cast<int64_t>(tokens.size())) {
      context_.truncate_sequence(copy, static_cast<int64_t>(tokens.size()));
    }
  } catch (...) {
    context_.remove_sequence(copy);
    throw;
  }
  // Entries that are prefixes of the new one are superseded by it.
  std::erase_if(entries_, [&](const Entry& e) {
    const bool covered = common_prefix(e.tokens, tokens) == e.tokens.size();
    if (covered) context_.remove_sequence(e.seq);
    return covered;
  });
  entries_.push_back({std::vector<TokenId>(tokens.begin(), tokens.end()), copy, ++clock_});
  while (entries_.size() > max_entries_) evict_one();
}

bool PrefixCache::evict_one() {
  if (entries_.empty()) return false;
  const auto lru = std::min_element(entries_.begin(), entries_.end(),
                                    [](const Entry& a, const Entry& b) { return a.last_used < b.last_used; });
  context_.remove_sequence(lru->seq);
  entries_.erase(lru);
  return true;
}

std::span<const float> PrefixCache::decode(std::span<const BatchEntry> batch) {
  for (;;) {
    try {
      return context_.decode(batch);
    } catch (const Error& e) {
      if (e.code() != Errc::out_of_memory || !evict_one()) throw;
    }
  }
}

}  // namespace qtr
