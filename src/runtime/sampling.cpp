// The sampler chain and StopMatcher (the order of the stages is documented in include/qtr/sampling.hpp).
#include "qtr/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "qtr/error.hpp"
#include "qtr/utf8.hpp"

namespace qtr {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

[[noreturn]] void bad_param(const char* name, const std::string& rule, double value) {
  std::ostringstream msg;
  msg << "sampling parameter " << name << " must be " << rule << ", got " << value;
  throw Error(Errc::invalid_argument, msg.str());
}

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// The canonical order of candidates: larger logit first, the lower id first on equal logits. A total order, so
// partial and full sorts agree on every platform.
template <typename C>
bool before(const C& a, const C& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

}  // namespace

void validate(const SamplingParams& p, size_t n_vocab) {
  if (!(p.temperature >= 0.0f) || !std::isfinite(p.temperature)) {
    bad_param("temperature", "a finite number >= 0", p.temperature);
  }
  if (p.top_k < 0) bad_param("top_k", ">= 0 (0 = off)", p.top_k);
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f)) bad_param("top_p", "in (0, 1] (1 = off)", p.top_p);
  if (!(p.min_p >= 0.0f && p.min_p <= 1.0f)) bad_param("min_p", "in [0, 1] (0 = off)", p.min_p);
  if (!(p.repeat_penalty > 0.0f) || !std::isfinite(p.repeat_penalty)) {
    bad_param("repeat_penalty", "a finite number > 0 (1 = off)", p.repeat_penalty);
  }
  if (p.penalty_last_n < -1) bad_param("penalty_last_n", ">= -1 (0 = off, -1 = all tokens)", p.penalty_last_n);
  if (!std::isfinite(p.presence_penalty)) bad_param("presence_penalty", "finite", p.presence_penalty);
  if (!std::isfinite(p.frequency_penalty)) bad_param("frequency_penalty", "finite", p.frequency_penalty);
  for (const LogitBias& b : p.logit_bias) {
    if (b.token < 0 || (n_vocab > 0 && static_cast<size_t>(b.token) >= n_vocab)) {
      throw Error(Errc::invalid_argument, "sampling parameter logit_bias: token id " + std::to_string(b.token) +
                                              " is outside the vocabulary" +
                                              (n_vocab > 0 ? " of " + std::to_string(n_vocab) + " tokens" : ""));
    }
    if (std::isnan(b.bias) || b.bias == kInf) {
      std::ostringstream msg;
      msg << "sampling parameter logit_bias for token " << b.token << " must be finite or -inf, got " << b.bias;
      throw Error(Errc::invalid_argument, msg.str());
    }
  }
}

TokenId argmax(std::span<const float> logits) {
  return static_cast<TokenId>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

Rng::Rng(uint64_t seed) {
  uint64_t state = seed;
  for (uint64_t& word : s_) word = splitmix64(state);  // never all zero: splitmix64 is a bijection of distinct inputs
}

uint64_t Rng::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

Sampler::Sampler(SamplingParams params, size_t n_vocab) : params_(std::move(params)), rng_(params_.seed) {
  validate(params_, n_vocab);
  const size_t window = params_.penalty_last_n > 0 ? static_cast<size_t>(params_.penalty_last_n) : 0;
  history_.reserve(std::min<size_t>(window, size_t(1) << 16));
  touched_.reserve(std::min<size_t>(window, size_t(1) << 16));
  if (n_vocab > 0) {
    logits_.reserve(n_vocab);
    candidates_.reserve(n_vocab);
  }
}

void Sampler::accept(TokenId token) {
  if (token < 0) throw Error(Errc::invalid_argument, "Sampler::accept: negative token id " + std::to_string(token));
  const int32_t n = params_.penalty_last_n;
  if (n == 0) return;
  if (n < 0 || history_.size() < static_cast<size_t>(n)) {
    history_.push_back(token);
    return;
  }
  history_[history_next_] = token;
  history_next_ = (history_next_ + 1) % history_.size();
}

void Sampler::accept(std::span<const TokenId> tokens) {
  for (TokenId t : tokens) accept(t);
}

void Sampler::reset() {
  rng_ = Rng(params_.seed);
  history_.clear();
  history_next_ = 0;
}

void Sampler::apply_penalties(std::span<float> logits) {
  const bool active = params_.repeat_penalty != 1.0f || params_.presence_penalty != 0.0f ||
                      params_.frequency_penalty != 0.0f;
  if (!active || history_.empty()) return;
  if (counts_.size() != logits.size()) counts_.assign(logits.size(), 0);
  for (TokenId t : history_) {
    if (static_cast<size_t>(t) >= logits.size()) continue;  // accepted but not in this vocabulary
    if (counts_[t]++ == 0) touched_.push_back(t);
  }
  for (TokenId t : touched_) {
    float& logit = logits[t];
    logit = logit > 0.0f ? logit / params_.repeat_penalty : logit * params_.repeat_penalty;
    logit -= static_cast<float>(counts_[t]) * params_.frequency_penalty + params_.presence_penalty;
    counts_[t] = 0;
  }
  touched_.clear();
}

void Sampler::top_k(size_t k) {
  if (k == 0 || k >= candidates_.size()) return;
  std::nth_element(candidates_.begin(), candidates_.begin() + static_cast<std::ptrdiff_t>(k - 1), candidates_.end(),
                   before<Candidate>);
  candidates_.resize(k);
}

// Length of the shortest run of candidates in canonical order whose p adds up to top_p * total; the run is left
// sorted at the front. Sorts only as far as needed: 64, 256, ... candidates.
size_t Sampler::top_p_prefix(double total) {
  const double target = static_cast<double>(params_.top_p) * total;
  const size_t n = candidates_.size();
  double sum = 0.0;
  size_t sorted = 0, i = 0;
  while (sorted < n) {
    const size_t next = std::min(n, std::max<size_t>(64, sorted * 4));
    std::partial_sort(candidates_.begin() + static_cast<std::ptrdiff_t>(sorted),
                      candidates_.begin() + static_cast<std::ptrdiff_t>(next), candidates_.end(), before<Candidate>);
    sorted = next;
    for (; i < sorted; ++i) {
      sum += candidates_[i].p;
      if (sum >= target) return i + 1;
    }
  }
  return n;
}

TokenId Sampler::draw(double total) {
  const size_t n = candidates_.size();
  const double u = rng_.uniform() * total;
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    sum += candidates_[i].p;
    if (u < sum) return candidates_[i].id;
  }
  for (size_t i = n; i-- > 0;) {  // rounding left u at the very top: the last token that has any probability
    if (candidates_[i].p > 0.0f) return candidates_[i].id;
  }
  return candidates_[0].id;
}

TokenId Sampler::sample(std::span<const float> logits) {
  const double total = run_chain(logits);
  return params_.temperature == 0.0f ? candidates_[0].id : draw(total);
}

void Sampler::distribution(std::span<const float> logits, std::vector<TokenProb>& out) {
  const double total = run_chain(logits);
  out.clear();
  for (const Candidate& c : candidates_) out.push_back({c.id, static_cast<float>(c.p / total)});
}

double Sampler::run_chain(std::span<const float> logits) {
  const size_t n_vocab = logits.size();
  if (n_vocab == 0) throw Error(Errc::invalid_argument, "cannot sample from empty logits");
  logits_.assign(logits.begin(), logits.end());
  for (size_t i = 0; i < n_vocab; ++i) {
    if (std::isnan(logits_[i]) || logits_[i] == kInf) {
      throw Error(Errc::invalid_argument, "logit of token " + std::to_string(i) + " is " +
                                              (std::isnan(logits_[i]) ? "NaN" : "+inf") + ": cannot sample");
    }
  }
  // 1. logit bias
  for (const LogitBias& b : params_.logit_bias) {
    if (static_cast<size_t>(b.token) >= n_vocab) {
      throw Error(Errc::invalid_argument, "sampling parameter logit_bias: token id " + std::to_string(b.token) +
                                              " is outside the vocabulary of " + std::to_string(n_vocab) + " tokens");
    }
    logits_[b.token] += b.bias;
  }
  // 2. penalties
  apply_penalties(logits_);
  // 3. greedy
  candidates_.clear();
  if (params_.temperature == 0.0f) {
    const TokenId best = argmax(logits_);
    if (logits_[best] == -kInf) throw Error(Errc::invalid_argument, "every token is banned: nothing to sample");
    candidates_.push_back({best, logits_[best], 1.0f});
    return 1.0;
  }
  for (size_t i = 0; i < n_vocab; ++i) {
    if (logits_[i] != -kInf) candidates_.push_back({static_cast<TokenId>(i), logits_[i], 0.0f});
  }
  if (candidates_.empty()) throw Error(Errc::invalid_argument, "every token is banned: nothing to sample");
  // 4. top-k
  top_k(static_cast<size_t>(params_.top_k));
  // 5. temperature, 6. softmax, left unnormalised (each stage below divides by the sum it needs). The largest
  // logit is subtracted before dividing by the temperature, so that a tiny temperature cannot overflow.
  float max_logit = -kInf;
  for (const Candidate& c : candidates_) max_logit = std::max(max_logit, c.logit);
  double total = 0.0;
  for (Candidate& c : candidates_) {
    c.logit = (c.logit - max_logit) / params_.temperature;
    c.p = std::exp(c.logit);
    total += c.p;
  }
  // 8. min-p (first: it only removes tokens from the far end of top-p's order; see the header)
  if (params_.min_p > 0.0f) {
    std::erase_if(candidates_, [&](const Candidate& c) { return c.p < params_.min_p; });  // largest p is 1
  }
  // 7. top-p, over the mass before min-p
  if (params_.top_p < 1.0f) candidates_.resize(top_p_prefix(total));
  // 9. (in sample) draw, by ascending id
  const auto by_id = [](const Candidate& a, const Candidate& b) { return a.id < b.id; };
  if (!std::is_sorted(candidates_.begin(), candidates_.end(), by_id)) {
    std::sort(candidates_.begin(), candidates_.end(), by_id);
  }
  double kept = 0.0;
  for (const Candidate& c : candidates_) kept += c.p;
  return kept;
}

// ---------------------------------------------------------------------------------------------------------------

StopMatcher::StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {
  for (const std::string& s : stops_) {
    if (s.empty()) throw Error(Errc::invalid_argument, "stop string is empty");
    if (!utf8::is_valid(s)) throw Error(Errc::invalid_argument, "stop string is not valid UTF-8");
  }
}

std::string_view StopMatcher::matched() const {
  return matched_ >= 0 ? std::string_view(stops_[static_cast<size_t>(matched_)]) : std::string_view();
}

StopMatcher::Result StopMatcher::push(std::string_view piece) {
  Result r;
  if (stopped()) {
    r.stopped = true;
    return r;
  }
  held_.append(piece);
  // The earliest complete stop string wins (the first listed on equal positions).
  size_t first = std::string::npos;
  for (size_t i = 0; i < stops_.size(); ++i) {
    const size_t at = held_.find(stops_[i]);
    if (at < first) {
      first = at;
      matched_ = static_cast<int>(i);
    }
  }
  if (first != std::string::npos) {
    r.text = held_.substr(0, first);
    r.stopped = true;
    held_.clear();
    return r;
  }
  // Hold back the longest end of the text that is the beginning of some stop string.
  size_t hold = 0;
  for (const std::string& s : stops_) {
    for (size_t k = std::min(s.size() - 1, held_.size()); k > hold; --k) {
      if (std::string_view(held_).substr(held_.size() - k) == std::string_view(s).substr(0, k)) {
        hold = k;
        break;
      }
    }
  }
  r.text = held_.substr(0, held_.size() - hold);
  held_.erase(0, held_.size() - hold);
  return r;
}

std::string StopMatcher::flush() {
  std::string out;
  out.swap(held_);
  return out;
}

}  // namespace qtr
