#include "sampling_args.hpp"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>

#include "qtr/error.hpp"
#include "qtr/utf8.hpp"

namespace qtr::cli {

namespace {

// "ID=BIAS", BIAS a finite number or -inf.
LogitBias parse_logit_bias(const std::string& text) {
  const auto bad = [&]() {
    return UsageError{"--logit-bias must be ID=BIAS (a token id, and a number or -inf), got '" + text + "'"};
  };
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) throw bad();
  const std::string id_text = text.substr(0, eq), bias_text = text.substr(eq + 1);
  errno = 0;
  char* end = nullptr;
  const long long id = std::strtoll(id_text.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE || id < 0 || id > std::numeric_limits<TokenId>::max()) throw bad();
  LogitBias b{static_cast<TokenId>(id), 0.0f};
  if (bias_text == "-inf") {
    b.bias = -std::numeric_limits<float>::infinity();
  } else {
    const double bias = std::strtod(bias_text.c_str(), &end);
    if (*end != '\0' || !std::isfinite(bias) || std::fabs(bias) > 1e30) throw bad();
    b.bias = static_cast<float>(bias);
  }
  return b;
}

}  // namespace

SamplingArgs parse_sampling_args(const Args& args) {
  SamplingArgs out;
  SamplingParams& p = out.params;
  p.temperature = static_cast<float>(args.number("--temp", p.temperature, 0.0, 1e6));
  p.top_k = static_cast<int32_t>(args.integer("--top-k", p.top_k, 0, std::numeric_limits<int32_t>::max()));
  p.top_p = static_cast<float>(args.number("--top-p", p.top_p, 0.0, 1.0));
  if (p.top_p <= 0.0f) {
    throw UsageError{"--top-p must be greater than 0 and at most 1, got '" + *args.string("--top-p") + "'"};
  }
  p.min_p = static_cast<float>(args.number("--min-p", p.min_p, 0.0, 1.0));
  p.repeat_penalty = static_cast<float>(args.number("--repeat-penalty", p.repeat_penalty, 0.0, 1e6));
  if (p.repeat_penalty <= 0.0f) {
    throw UsageError{"--repeat-penalty must be greater than 0, got '" + *args.string("--repeat-penalty") + "'"};
  }
  p.penalty_last_n =
      static_cast<int32_t>(args.integer("--repeat-last-n", p.penalty_last_n, -1, std::numeric_limits<int32_t>::max()));
  p.presence_penalty = static_cast<float>(args.number("--presence-penalty", 0.0, -1e6, 1e6));
  p.frequency_penalty = static_cast<float>(args.number("--frequency-penalty", 0.0, -1e6, 1e6));
  for (const std::string& b : args.strings("--logit-bias")) p.logit_bias.push_back(parse_logit_bias(b));
  out.random_seed = !args.has("--seed");
  p.seed = out.random_seed ? std::random_device{}()
                           : static_cast<uint64_t>(args.integer("--seed", 0, 0, std::numeric_limits<int64_t>::max()));
  for (const std::string& s : args.strings("--stop")) {
    if (s.empty()) throw UsageError{"--stop needs a non-empty text"};
    if (!utf8::is_valid(s)) throw UsageError{"--stop text is not valid UTF-8"};
    out.stop.push_back(s);
  }
  try {
    validate(p);  // everything above should already hold; this keeps the two in step
  } catch (const Error& e) {
    throw UsageError{e.what()};
  }
  return out;
}

}  // namespace qtr::cli
