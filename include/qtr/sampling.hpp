// Sampling: the chain that turns a logit vector into the next token, and StopMatcher, which finds stop strings in
// generated text.
//
// Sampler::sample applies, in this order:
//   1. logit bias     logit[t] += bias[t]; a bias of -inf bans t
//   2. penalties      for each token t seen c > 0 times in the last penalty_last_n accepted tokens (llama.cpp):
//                       logit = logit > 0 ? logit / repeat_penalty : logit * repeat_penalty
//                       logit -= c * frequency_penalty + presence_penalty            (OpenAI)
//   3. greedy         temperature == 0: the largest logit (the lowest id on ties), nothing else below applies
//   4. top-k          keep the k largest logits (the lower id first on ties); 0 = off
//   5. temperature    logit /= temperature
//   6. softmax        p = exp(logit - max) / sum
//   7. top-p          keep the shortest run of tokens, by logit descending (lower id first on ties), whose p adds
//                     up to at least top_p; 1 = off
//   8. min-p          keep tokens with p >= min_p * (largest p); 0 = off
//   9. draw           u = (next 64-bit output >> 11) * 2^-53, a double in [0, 1); going through the kept tokens by
//                     ascending id, the token drawn is the first whose running sum of p exceeds u * (sum of kept p)
// Banned tokens (logit -inf after stage 2) are never drawn; if every token is banned, sample() throws.
// Stages 7 and 8 are computed together (min-p's test does not change when top-p renormalises), which gives the
// same result as running them one after the other.
// The random numbers come from xoshiro256** seeded by splitmix64(seed), so the same seed and inputs give the same
// tokens with every compiler and standard library. (The one platform-dependent step is std::exp, whose last bit
// may differ between C libraries; that can change a draw only when u falls within about 1e-7 of a boundary.)
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qtr/vocab.hpp"

namespace qtr {

struct TokenProb {
  TokenId id = kNoToken;
  float p = 0.0f;
};

struct LogitBias {
  TokenId token = kNoToken;
  float bias = 0.0f;  // finite, or -inf to ban the token
};

// Defaults are llama.cpp's. Each stage's "off" value is noted.
struct SamplingParams {
  float temperature = 0.8f;        // 0 = greedy (argmax)
  int32_t top_k = 40;              // 0 = off
  float top_p = 0.95f;             // in (0, 1]; 1 = off
  float min_p = 0.05f;             // in [0, 1]; 0 = off
  float repeat_penalty = 1.0f;     // > 0; 1 = off
  int32_t penalty_last_n = 64;     // window of accepted tokens the penalties look at; 0 = off, -1 = all of them
  float presence_penalty = 0.0f;   // 0 = off
  float frequency_penalty = 0.0f;  // 0 = off
  std::vector<LogitBias> logit_bias;
  uint64_t seed = 0;
};

// Throws qtr::Error(invalid_argument) naming the first bad parameter. With n_vocab > 0 the logit_bias ids are
// also checked against the vocabulary.
void validate(const SamplingParams& params, size_t n_vocab = 0);

// Index of the largest logit (the first one on ties).
TokenId argmax(std::span<const float> logits);

// xoshiro256** (Blackman & Vigna) seeded through splitmix64: portable, fast, 2^256 - 1 period.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1), 53 random bits

 private:
  std::array<uint64_t, 4> s_;
};

class Sampler {
 public:
  // Validates `params` (see validate); n_vocab > 0 also checks the logit_bias ids.
  explicit Sampler(SamplingParams params, size_t n_vocab = 0);

  // Records a token in the penalty window (generated tokens, and prompt tokens if they should be penalised too).
  void accept(TokenId token);
  void accept(std::span<const TokenId> tokens);
  // Runs the chain on `logits` ([n_vocab]). Throws qtr::Error(invalid_argument) for empty logits, a NaN logit, a
  // logit_bias id past the end of `logits`, or when every token is banned.
  TokenId sample(std::span<const float> logits);
  // Stages 1-8 without the draw: the tokens sample() could return, by ascending id, with the probabilities it
  // would draw them with (summing to 1; greedy gives one token with p = 1). Uses no random numbers.
  void distribution(std::span<const float> logits, std::vector<TokenProb>& out);
  // Forgets the accepted tokens and restarts the random sequence from the seed.
  void reset();

  const SamplingParams& params() const { return params_; }

 private:
  struct Candidate {
    TokenId id;
    float logit;  // after bias, penalties and temperature
    float p;      // exp(logit - max logit), not normalised
  };
  // Stages 1-8: leaves the tokens that may be drawn in candidates_, by ascending id; returns the sum of their p.
  double run_chain(std::span<const float> logits);
  void apply_penalties(std::span<float> logits);
  void top_k(size_t k);
  size_t top_p_prefix(double total);
  TokenId draw(double total);

  SamplingParams params_;
  Rng rng_;
  std::vector<TokenId> history_;  // penalty window: a ring of penalty_last_n tokens (grows when -1)
  size_t history_next_ = 0;       // ring position the next token overwrites once full
  // Scratch, kept between calls so that a warm sampler does not allocate.
  std::vector<float> logits_;
  std::vector<Candidate> candidates_;
  std::vector<int32_t> counts_;   // [n_vocab], zero outside apply_penalties
  std::vector<TokenId> touched_;  // ids whose count is non-zero
};

// Finds stop strings in generated text that arrives in pieces, a stop string possibly spanning several pieces.
// push() returns the text that is safe to show now: it holds back the longest end of the text that could still
// become a stop string. When a stop string is complete, the text before it is returned and the matcher is done;
// the stop string and anything after it are never returned. Matching is on bytes: fed complete UTF-8 text (as
// StreamingDecoder gives), it returns complete UTF-8 text, since stop strings must be valid UTF-8.
class StopMatcher {
 public:
  // Throws qtr::Error(invalid_argument) for an empty stop string or one that is not valid UTF-8.
  explicit StopMatcher(std::vector<std::string> stops);

  struct Result {
    std::string text;      // safe to emit now
    bool stopped = false;  // a stop string was hit (now or before)
  };
  Result push(std::string_view piece);
  // End of generation without a stop: returns the held-back text.
  std::string flush();

  bool stopped() const { return matched_ >= 0; }
  // The stop string that was hit ("" before that).
  std::string_view matched() const;
  const std::vector<std::string>& stops() const { return stops_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  int matched_ = -1;
};

}  // namespace qtr
