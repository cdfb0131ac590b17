#include "qtr/generate.hpp"

#include <algorithm>
#include <cmath>

#include "qtr/error.hpp"

namespace qtr {

TokenId argmax(std::span<const float> logits) {
  return static_cast<TokenId>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {
  if (!(params.temperature >= 0.0f) || !std::isfinite(params.temperature)) {
    throw Error(Errc::invalid_argument, "temperature must be a finite number >= 0");
  }
}

TokenId Sampler::sample(std::span<const float> logits) {
  if (logits.empty()) throw Error(Errc::invalid_argument, "cannot sample from empty logits");
  if (params_.temperature == 0.0f) return argmax(logits);
  const float max_logit = *std::max_element(logits.begin(), logits.end());
  probs_.resize(logits.size());
  double sum = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) {
    probs_[i] = std::exp((logits[i] - max_logit) / params_.temperature);
    sum += probs_[i];
  }
  // Inverse-CDF sampling with a 53-bit uniform draw: the same seed gives the same token on every platform.
  const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53 * sum;
  double acc = 0.0;
  for (size_t i = 0; i < probs_.size(); ++i) {
    acc += probs_[i];
    if (u < acc) return static_cast<TokenId>(i);
  }
  return argmax(logits);  // rounding left u at the very top
}

GenerateResult generate(Session& session, std::span<const TokenId> prompt, const GenerateOptions& options,
                        const std::function<bool(std::string_view)>& on_text) {
  if (prompt.empty()) throw Error(Errc::invalid_argument, "generate needs a non-empty prompt (at least BOS)");
  if (options.n_predict < 0) throw Error(Errc::invalid_argument, "n_predict must be >= 0");
  const Tokenizer& tokenizer = session.model().tokenizer();
  Sampler sampler(options.sampling);
  StreamingDecoder decoder(tokenizer);
  decoder.prime(prompt);

  GenerateResult result;
  std::span<const float> logits = session.eval(prompt);
  for (int64_t i = 0; i < options.n_predict; ++i) {
    const TokenId next = sampler.sample(logits);
    if (options.stop_at_eos && tokenizer.is_eog(next)) {
      result.stopped_at_eos = true;
      break;
    }
    result.tokens.push_back(next);
    const std::string text = decoder.push(next);
    if (!text.empty() && on_text && !on_text(text)) return result;
    if (i + 1 == options.n_predict) break;  // no need to run the last token
    if (session.n_past() >= session.n_ctx()) break;
    logits = session.eval(std::span<const TokenId>(&next, 1));
  }
  const std::string rest = decoder.flush();
  if (!rest.empty() && on_text) on_text(rest);
  return result;
}

}  // namespace qtr
