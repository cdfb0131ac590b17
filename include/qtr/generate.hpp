// Sampling and the generation loop.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <string_view>
#include <vector>

#include "qtr/model.hpp"

namespace qtr {

struct SamplingParams {
  float temperature = 0.8f;  // 0 = greedy (argmax)
  uint64_t seed = 0;         // same seed, model and inputs -> same tokens
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);
  TokenId sample(std::span<const float> logits);

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<float> probs_;
};

// Index of the largest logit (the first one on ties).
TokenId argmax(std::span<const float> logits);

struct GenerateOptions {
  int64_t n_predict = 128;  // tokens to generate at most
  SamplingParams sampling;
  bool stop_at_eos = true;
};

struct GenerateResult {
  std::vector<TokenId> tokens;  // generated ids (the end-of-generation token not included)
  bool stopped_at_eos = false;
};

// Runs `prompt` (which must not be empty) through the session, then samples up to n_predict tokens. Each piece of
// newly complete UTF-8 text is passed to on_text; returning false from it stops the generation.
GenerateResult generate(Session& session, std::span<const TokenId> prompt, const GenerateOptions& options,
                        const std::function<bool(std::string_view)>& on_text);

}  // namespace qtr
