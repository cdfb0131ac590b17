// The sampling and stop-string options shared by the commands that generate text (run, and chat to come).
#pragma once

#include <array>
#include <cstddef>
#include <iterator>
#include <string>
#include <vector>

#include "args.hpp"
#include "qtr/sampling.hpp"

namespace qtr::cli {

inline constexpr OptionSpec kSamplingOptions[] = {
    {"--temp", "T", "sampling temperature; 0 = greedy (default 0.8)"},
    {"--top-k", "N", "keep only the N most likely tokens; 0 = off (default 40)"},
    {"--top-p", "P", "keep the most likely tokens whose probabilities add up to P; 1 = off (default 0.95)"},
    {"--min-p", "P", "drop tokens less likely than P times the most likely one; 0 = off (default 0.05)"},
    {"--repeat-penalty", "X", "divide positive, multiply negative logits of recent tokens by X; 1 = off (default 1)"},
    {"--repeat-last-n", "N", "how many recent tokens the penalties look at; 0 = off, -1 = all (default 64)"},
    {"--presence-penalty", "X", "subtract X from the logit of each recent token; 0 = off (default 0)"},
    {"--frequency-penalty", "X", "subtract X times its count from each recent token's logit; 0 = off (default 0)"},
    {"--seed", "S", "random seed (default: random, printed on stderr)"},
    {"--stop", "TEXT", "stop generating before TEXT, which is not printed; repeatable", true},
    {"--logit-bias", "ID=BIAS", "add BIAS (a number, or -inf to ban) to token ID's logit; repeatable", true},
};

// A command's own options followed by the sampling options, for its Command table.
template <size_t N>
constexpr std::array<OptionSpec, N + std::size(kSamplingOptions)> with_sampling_options(const OptionSpec (&own)[N]) {
  std::array<OptionSpec, N + std::size(kSamplingOptions)> all{};
  size_t i = 0;
  for (const OptionSpec& o : own) all[i++] = o;
  for (const OptionSpec& o : kSamplingOptions) all[i++] = o;
  return all;
}

struct SamplingArgs {
  SamplingParams params;
  std::vector<std::string> stop;
  bool random_seed = false;  // no --seed: params.seed came from std::random_device
};

// Reads the options of kSamplingOptions; throws UsageError naming the option for a bad value. Token ids of
// --logit-bias are checked against the vocabulary later, when the model is known.
SamplingArgs parse_sampling_args(const Args& args);

}  // namespace qtr::cli
