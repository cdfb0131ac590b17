// The sampler chain stage by stage on hand-made logits, the sampled distribution (chi-square), seeds, parameter
// errors, StopMatcher, and generate()'s stop reasons on a tiny random model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "qtr/error.hpp"
#include "qtr/generate.hpp"
#include "qtr/model.hpp"
#include "qtr/sampling.hpp"
#include "qtr/utf8.hpp"
#include "test_support.hpp"
#include "tiny_llama.hpp"

namespace qtr {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Parameters with every stage off, at temperature 1.
SamplingParams plain() {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  return p;
}

std::vector<TokenId> ids_of(const std::vector<TokenProb>& d) {
  std::vector<TokenId> ids;
  for (const TokenProb& t : d) ids.push_back(t.id);
  return ids;
}

std::vector<TokenProb> distribution(const SamplingParams& p, const std::vector<float>& logits,
                                    const std::vector<TokenId>& accepted = {}) {
  Sampler s(p);
  s.accept(accepted);
  std::vector<TokenProb> out;
  s.distribution(logits, out);
  return out;
}

// softmax(logits / t) in double, over all tokens.
std::vector<double> softmax(const std::vector<float>& logits, double t = 1.0) {
  const double m = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p(logits.size());
  double z = 0;
  for (size_t i = 0; i < p.size(); ++i) z += p[i] = std::exp((logits[i] - m) / t);
  for (double& x : p) x /= z;
  return p;
}

void expect_probs(const std::vector<TokenProb>& got, const std::vector<double>& want, double tol = 1e-6) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].id, static_cast<TokenId>(i));
    EXPECT_NEAR(got[i].p, want[i], tol) << "token " << i;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Stages one at a time

TEST(Sampling, GreedyTakesTheLargestLogitAndTheLowerIdOnTies) {
  SamplingParams p = plain();
  p.temperature = 0.0f;
  Sampler s(p);
  EXPECT_EQ(s.sample(std::vector<float>{0.1f, 3.0f, -2.0f, 2.9f}), 1);
  EXPECT_EQ(s.sample(std::vector<float>{1.0f, 5.0f, 5.0f, 5.0f}), 1);
  EXPECT_EQ(s.sample(std::vector<float>{-kInf, -7.0f}), 1);
  const auto d = distribution(p, {0.0f, 1.0f, 0.5f});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].id, 1);
  EXPECT_EQ(d[0].p, 1.0f);
}

TEST(Sampling, PlainDistributionIsTheSoftmax) {
  const std::vector<float> logits = {1.0f, -0.5f, 2.25f, 0.0f, 0.75f};
  expect_probs(distribution(plain(), logits), softmax(logits));
  SamplingParams p = plain();
  p.temperature = 0.6f;
  expect_probs(distribution(p, logits), softmax(logits, 0.6));
  p.temperature = 3.0f;
  expect_probs(distribution(p, logits), softmax(logits, 3.0));
}

TEST(Sampling, TopKKeepsExactlyKAndBreaksTiesByLowerId) {
  const std::vector<float> logits = {1.0f, 3.0f, 3.0f, 3.0f, 0.0f, 2.0f};
  SamplingParams p = plain();
  p.top_k = 2;
  EXPECT_EQ(ids_of(distribution(p, logits)), (std::vector<TokenId>{1, 2}));
  p.top_k = 3;
  EXPECT_EQ(ids_of(distribution(p, logits)), (std::vector<TokenId>{1, 2, 3}));
  p.top_k = 4;
  EXPECT_EQ(ids_of(distribution(p, logits)), (std::vector<TokenId>{1, 2, 3, 5}));
  p.top_k = 1;
  EXPECT_EQ(ids_of(distribution(p, logits)), (std::vector<TokenId>{1}));
  p.top_k = 100;  // more than the vocabulary: everything
  EXPECT_EQ(distribution(p, logits).size(), logits.size());
  // The kept tokens are renormalised among themselves.
  p.top_k = 4;
  const auto d = distribution(p, logits);
  const double e3 = std::exp(3.0), e2 = std::exp(2.0), z = 3 * e3 + e2;
  EXPECT_NEAR(d[0].p, e3 / z, 1e-6);
  EXPECT_NEAR(d[3].p, e2 / z, 1e-6);
}

TEST(Sampling, TopPKeepsTheSmallestSetReachingP) {
  // Probabilities 0.5, 0.25, 0.15, 0.1 (token order shuffled).
  const std::vector<float> logits = {std::log(0.15f), std::log(0.5f), std::log(0.1f), std::log(0.25f)};
  SamplingParams p = plain();
  p.top_p = 0.45f;
  EXPECT_EQ(ids_of(distribution(p, logits)), (std::vector<TokenId>{1}));
  p.top_p = 0.7f;
  EXPECT_EQ(ids_of(distribution(p, logits)), (std::vector<TokenId>{1, 3}));
  p.top_p = 0.8f;
  EXPECT_EQ(ids_of(distribution(p, logits)), (std::vector<TokenId>{0, 1, 3}));
  p.top_p = 0.95f;
  EXPECT_EQ(ids_of(distribution(p, logits)), (std::vector<TokenId>{0, 1, 2, 3}));
  p.top_p = 0.8f;
  const auto d = distribution(p, logits);
  EXPECT_NEAR(d[0].p, 0.15 / 0.9, 1e-6);
  EXPECT_NEAR(d[1].p, 0.5 / 0.9, 1e-6);
  EXPECT_NEAR(d[2].p, 0.25 / 0.9, 1e-6);
}

TEST(Sampling, TopPOnALargeVocabularyMatchesAFullSort) {
  // 5000 tokens: the top-p run is found by sorting in growing steps; compare with a plain full sort.
  std::mt19937 gen(7);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> logits(5000);
  for (float& x : logits) x = normal(gen);
  const auto prob = softmax(logits);
  std::vector<size_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return prob[a] > prob[b]; });
  for (float top_p : {0.3f, 0.9f, 0.99f}) {
    double sum = 0;
    std::vector<TokenId> want;
    for (size_t i : order) {
      want.push_back(static_cast<TokenId>(i));
      if ((sum += prob[i]) >= top_p) break;
    }
    std::sort(want.begin(), want.end());
    SamplingParams p = plain();
    p.top_p = top_p;
    EXPECT_EQ(ids_of(distribution(p, logits)), want) << "top_p " << top_p;
  }
}

TEST(Sampling, MinPIsRelativeToTheLargestProbability) {
  const std::vector<float> logits = {std::log(0.15f), std::log(0.5f), std::log(0.1f), std::log(0.25f)};
  SamplingParams p = plain();
  p.min_p = 0.35f;  // threshold 0.175
  EXPECT_EQ(ids_of(distribution(p, logits)), (std::vector<TokenId>{1, 3}));
  p.min_p = 0.25f;  // threshold 0.125
  EXPECT_EQ(ids_of(distribution(p, logits)), (std::vector<TokenId>{0, 1, 3}));
  p.min_p = 0.1f;
  EXPECT_EQ(ids_of(distribution(p, logits)), (std::vector<TokenId>{0, 1, 2, 3}));
  p.min_p = 1.0f;
  EXPECT_EQ(ids_of(distribution(p, logits)), (std::vector<TokenId>{1}));
  // After the temperature: at t = 0.5 the probabilities are squared (0.25 : 0.0625 : 0.0225 : 0.01), so 0.1 of
  // the largest keeps only two tokens.
  p.min_p = 0.1f;
  p.temperature = 0.5f;
  EXPECT_EQ(ids_of(distribution(p, logits)), (std::vector<TokenId>{1, 3}));
}

TEST(Sampling, RepeatPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  const std::vector<float> logits = {2.0f, -1.0f, 0.5f, 3.0f, 0.0f};
  SamplingParams p = plain();
  p.repeat_penalty = 1.5f;
  // Token 0 seen twice, 1 and 4 once: repeat counts only presence.
  const auto d = distribution(p, logits, {0, 1, 0, 4});
  const std::vector<float> want = {2.0f / 1.5f, -1.0f * 1.5f, 0.5f, 3.0f, 0.0f};
  expect_probs(d, softmax(want));
}

TEST(Sampling, PresenceAndFrequencyPenaltiesFollowOpenAI) {
  const std::vector<float> logits = {2.0f, -1.0f, 0.5f, 3.0f};
  SamplingParams p = plain();
  p.presence_penalty = 0.4f;
  p.frequency_penalty = 0.3f;
  const auto d = distribution(p, logits, {3, 0, 3, 3});
  // logit -= count * frequency + (count > 0) * presence
  const std::vector<float> want = {2.0f - 0.3f - 0.4f, -1.0f, 0.5f, 3.0f - 3 * 0.3f - 0.4f};
  expect_probs(d, softmax(want));
  // All three together: repeat first, then the OpenAI terms (llama.cpp's order).
  p.repeat_penalty = 2.0f;
  const std::vector<float> both = {2.0f / 2 - 0.3f - 0.4f, -1.0f, 0.5f, 3.0f / 2 - 3 * 0.3f - 0.4f};
  expect_probs(distribution(p, logits, {3, 0, 3, 3}), softmax(both));
}

TEST(Sampling, PenaltiesLookOnlyAtTheLastNTokens) {
  const std::vector<float> logits = {1.0f, 1.0f, 1.0f, 1.0f};
  SamplingParams p = plain();
  p.frequency_penalty = 1.0f;
  p.penalty_last_n = 3;
  // Window after 0,1,1,2,2: {1,2,2}.
  expect_probs(distribution(p, logits, {0, 1, 1, 2, 2}), softmax({1.0f, 0.0f, -1.0f, 1.0f}));
  p.penalty_last_n = -1;  // everything accepted
  expect_probs(distribution(p, logits, {0, 1, 1, 2, 2}), softmax({0.0f, -1.0f, -1.0f, 1.0f}));
  p.penalty_last_n = 0;  // off
  expect_probs(distribution(p, logits, {0, 1, 1, 2, 2}), softmax(logits));
  // Accepted ids past the end of the logits are ignored.
  p.penalty_last_n = 64;
  expect_probs(distribution(p, logits, {100, 3}), softmax({1.0f, 1.0f, 1.0f, 0.0f}));
}

TEST(Sampling, PenaltiesApplyBeforeGreedy) {
  SamplingParams p = plain();
  p.temperature = 0.0f;
  p.repeat_penalty = 1.5f;
  Sampler s(p);
  s.accept(0);
  EXPECT_EQ(s.sample(std::vector<float>{2.0f, 1.5f}), 1);  // 2 / 1.5 = 1.33 < 1.5
  Sampler negative(p);
  negative.accept(0);
  EXPECT_EQ(negative.sample(std::vector<float>{-1.0f, -1.4f}), 1);  // -1 * 1.5 = -1.5 < -1.4
}

TEST(Sampling, LogitBiasAddsAndMinusInfinityBans) {
  SamplingParams p = plain();
  p.logit_bias = {{2, 1.0f}, {0, -kInf}};
  const auto d = distribution(p, {3.0f, 1.0f, 0.5f});
  EXPECT_EQ(ids_of(d), (std::vector<TokenId>{1, 2}));
  EXPECT_NEAR(d[0].p, 1.0 / (1.0 + std::exp(0.5)), 1e-6);
  // Banned tokens are never drawn, greedy or not.
  p.temperature = 0.0f;
  EXPECT_EQ(Sampler(p).sample(std::vector<float>{3.0f, 1.0f, 0.5f}), 2);
  p.temperature = 5.0f;
  Sampler s(p);
  for (int i = 0; i < 2000; ++i) ASSERT_NE(s.sample(std::vector<float>{30.0f, 1.0f, 0.5f}), 0);
}

TEST(Sampling, EveryTokenBannedIsAnError) {
  for (float t : {0.0f, 1.0f}) {
    SamplingParams p = plain();
    p.temperature = t;
    p.logit_bias = {{0, -kInf}, {1, -kInf}};
    Sampler s(p);
    EXPECT_THROW(s.sample(std::vector<float>{1.0f, 2.0f}), Error);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The sampled distribution

// 0.999 quantiles of chi-square with 1..7 degrees of freedom.
constexpr double kChi2Critical999[] = {0, 10.828, 13.816, 16.266, 18.467, 20.515, 22.458, 24.322};

// Expected probabilities computed here, independently of the sampler: the chain written out in double precision.
std::vector<double> expected_distribution(const std::vector<float>& logits, double temp, size_t top_k, double top_p,
                                          double min_p) {
  const size_t n = logits.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return logits[a] > logits[b]; });
  if (top_k > 0 && top_k < n) order.resize(top_k);
  const double max_logit = logits[order[0]];
  std::vector<double> q(n, 0.0);
  double z = 0;
  for (size_t i : order) z += q[i] = std::exp((logits[i] - max_logit) / temp);
  std::vector<double> kept(n, 0.0);
  double cum = 0;
  for (size_t i : order) {
    if (q[i] >= min_p * 1.0) kept[i] = q[i];  // 1.0 = the largest q
    if ((cum += q[i] / z) >= top_p) break;
  }
  const double s = std::accumulate(kept.begin(), kept.end(), 0.0);
  for (double& x : kept) x /= s;
  return kept;
}

void expect_chi_square_fit(const SamplingParams& p, const std::vector<float>& logits, const std::vector<double>& want) {
  constexpr int kDraws = 200000;
  Sampler s(p);
  std::vector<int> counts(logits.size(), 0);
  for (int i = 0; i < kDraws; ++i) ++counts[static_cast<size_t>(s.sample(logits))];
  double chi2 = 0;
  int cells = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (want[i] == 0) {
      EXPECT_EQ(counts[i], 0) << "token " << i << " should have been cut";
      continue;
    }
    const double e = want[i] * kDraws;
    chi2 += (counts[i] - e) * (counts[i] - e) / e;
    ++cells;
  }
  ASSERT_GE(cells, 2);
  EXPECT_LT(chi2, kChi2Critical999[cells - 1]) << cells << " tokens kept";
}

const std::vector<float> kEightLogits = {2.0f, 1.5f, 1.2f, 0.9f, 0.4f, 0.0f, -0.5f, -1.5f};

TEST(Sampling, ChiSquareFitWithTemperature) {
  SamplingParams p = plain();
  p.temperature = 1.3f;
  p.seed = 1234;
  expect_chi_square_fit(p, kEightLogits, expected_distribution(kEightLogits, 1.3, 0, 1.0, 0.0));
}

TEST(Sampling, ChiSquareFitWithTopPAndMinP) {
  SamplingParams p = plain();
  p.temperature = 0.7f;
  p.top_p = 0.9f;
  p.min_p = 0.25f;
  p.seed = 99;
  const auto want = expected_distribution(kEightLogits, 0.7, 0, 0.9, 0.25);
  EXPECT_EQ(std::count_if(want.begin(), want.end(), [](double x) { return x > 0; }), 3);  // min-p cut one
  expect_chi_square_fit(p, kEightLogits, want);
}

TEST(Sampling, ChiSquareFitWithTopKAndTheDefaults) {
  SamplingParams p;  // llama.cpp's defaults: top-k 40, top-p 0.95, min-p 0.05, t 0.8
  p.seed = 7;
  expect_chi_square_fit(p, kEightLogits, expected_distribution(kEightLogits, 0.8, 40, 0.95, 0.05));
  p.top_k = 5;
  p.temperature = 1.1f;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  expect_chi_square_fit(p, kEightLogits, expected_distribution(kEightLogits, 1.1, 5, 1.0, 0.0));
}

// ---------------------------------------------------------------------------------------------------------------
// Seeds

TEST(Sampling, RngMatchesTheReferenceXoshiro256StarStar) {
  // Values from an independent Python implementation of splitmix64 seeding + xoshiro256** (the generator's
  // published test vector for the state {1, 2, 3, 4} is 11520, 0, 1509978240, 1215971899390074240).
  Rng zero(0);
  EXPECT_EQ(zero.next(), 0x99ec5f36cb75f2b4ull);
  EXPECT_EQ(zero.next(), 0xbf6e1f784956452aull);
  Rng r(42);
  EXPECT_EQ(r.next(), 0x15780b2e0c2ec716ull);
  EXPECT_EQ(r.next(), 0x6104d9866d113a7eull);
  EXPECT_EQ(r.next(), 0xae17533239e499a1ull);
  EXPECT_EQ(r.next(), 0xecb8ad4703b360a1ull);
  EXPECT_EQ(Rng(42).uniform(), static_cast<double>(0x15780b2e0c2ec716ull >> 11) * 0x1.0p-53);
}

std::vector<TokenId> draws(uint64_t seed, int n) {
  SamplingParams p;
  p.seed = seed;
  p.temperature = 1.5f;
  Sampler s(p);
  std::vector<TokenId> out;
  for (int i = 0; i < n; ++i) out.push_back(s.sample(kEightLogits));
  return out;
}

TEST(Sampling, SameSeedSameTokensDifferentSeedsDiffer) {
  EXPECT_EQ(draws(5, 500), draws(5, 500));
  EXPECT_NE(draws(5, 500), draws(6, 500));
  EXPECT_NE(draws(0, 500), draws(1, 500));
  // reset() restarts the sequence and forgets the penalty window.
  SamplingParams p;
  p.seed = 5;
  p.temperature = 1.5f;
  Sampler s(p);
  for (int i = 0; i < 37; ++i) s.sample(kEightLogits);
  s.reset();
  std::vector<TokenId> again;
  for (int i = 0; i < 500; ++i) again.push_back(s.sample(kEightLogits));
  EXPECT_EQ(again, draws(5, 500));
}

TEST(Sampling, FixedSeedGivesAFixedSequence) {
  // A golden sequence, also given by an independent Python model of the chain (double precision, same RNG and
  // draw): a change here means seeded output changes for users, and across platforms it must not.
  const std::vector<TokenId> got = draws(2024, 16);
  const std::vector<TokenId> golden = {0, 4, 0, 0, 3, 0, 1, 0, 2, 0, 3, 5, 5, 1, 3, 0};
  EXPECT_EQ(got, golden);
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

void expect_invalid(const SamplingParams& p, const std::string& name, size_t n_vocab = 0) {
  try {
    Sampler s(p, n_vocab);
    ADD_FAILURE() << "no error for bad " << name;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_argument);
    EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
  }
}

TEST(Sampling, BadParametersAreNamed) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto with = [](auto edit) {
    SamplingParams p;
    edit(p);
    return p;
  };
  expect_invalid(with([](SamplingParams& p) { p.temperature = -0.1f; }), "temperature");
  expect_invalid(with([&](SamplingParams& p) { p.temperature = nan; }), "temperature");
  expect_invalid(with([](SamplingParams& p) { p.temperature = kInf; }), "temperature");
  expect_invalid(with([](SamplingParams& p) { p.top_k = -1; }), "top_k");
  expect_invalid(with([](SamplingParams& p) { p.top_p = 0.0f; }), "top_p");
  expect_invalid(with([](SamplingParams& p) { p.top_p = 1.01f; }), "top_p");
  expect_invalid(with([&](SamplingParams& p) { p.top_p = nan; }), "top_p");
  expect_invalid(with([](SamplingParams& p) { p.min_p = -0.01f; }), "min_p");
  expect_invalid(with([](SamplingParams& p) { p.min_p = 1.5f; }), "min_p");
  expect_invalid(with([&](SamplingParams& p) { p.min_p = nan; }), "min_p");
  expect_invalid(with([](SamplingParams& p) { p.repeat_penalty = 0.0f; }), "repeat_penalty");
  expect_invalid(with([&](SamplingParams& p) { p.repeat_penalty = nan; }), "repeat_penalty");
  expect_invalid(with([](SamplingParams& p) { p.penalty_last_n = -2; }), "penalty_last_n");
  expect_invalid(with([&](SamplingParams& p) { p.presence_penalty = nan; }), "presence_penalty");
  expect_invalid(with([](SamplingParams& p) { p.frequency_penalty = -kInf; }), "frequency_penalty");
  expect_invalid(with([&](SamplingParams& p) { p.logit_bias = {{1, nan}}; }), "logit_bias");
  expect_invalid(with([](SamplingParams& p) { p.logit_bias = {{1, kInf}}; }), "logit_bias");
  expect_invalid(with([](SamplingParams& p) { p.logit_bias = {{-1, 1.0f}}; }), "logit_bias");
  expect_invalid(with([](SamplingParams& p) { p.logit_bias = {{8, 1.0f}}; }), "logit_bias", 8);
  EXPECT_NO_THROW(Sampler(with([](SamplingParams& p) { p.logit_bias = {{7, -kInf}}; }), 8));
}

TEST(Sampling, BadLogitsAreErrors) {
  Sampler s(SamplingParams{});
  EXPECT_THROW(s.sample(std::vector<float>{}), Error);
  EXPECT_THROW(s.sample(std::vector<float>{1.0f, std::numeric_limits<float>::quiet_NaN()}), Error);
  EXPECT_THROW(s.sample(std::vector<float>{1.0f, kInf}), Error);
  EXPECT_THROW(s.accept(-3), Error);
  // A bias id past the end of the logits (the vocabulary was not known when the sampler was made).
  SamplingParams p;
  p.logit_bias = {{4, 1.0f}};
  Sampler short_vocab(p);
  EXPECT_THROW(short_vocab.sample(std::vector<float>{1.0f, 2.0f}), Error);
}

// ---------------------------------------------------------------------------------------------------------------
// StopMatcher

// Feeds pieces; returns everything emitted (pushes, then flush unless stopped).
std::string feed(StopMatcher& m, const std::vector<std::string>& pieces) {
  std::string out;
  for (const auto& piece : pieces) {
    const auto r = m.push(piece);
    EXPECT_TRUE(utf8::is_valid(r.text)) << r.text;
    out += r.text;
    if (r.stopped) return out;
  }
  return out + m.flush();
}

TEST(StopMatcher, StopStringSpanningPieces) {
  StopMatcher m({"STOP"});
  auto r = m.push("Hello ST");
  EXPECT_EQ(r.text, "Hello ");
  EXPECT_FALSE(r.stopped);
  r = m.push("O");
  EXPECT_EQ(r.text, "");
  EXPECT_FALSE(r.stopped);
  r = m.push("P and more");
  EXPECT_EQ(r.text, "");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(m.matched(), "STOP");
  EXPECT_TRUE(m.push("later").stopped);
  EXPECT_EQ(m.flush(), "");

  StopMatcher two({"<end>"});
  EXPECT_EQ(feed(two, {"a <e", "nd> b"}), "a ");
  EXPECT_TRUE(two.stopped());
  StopMatcher three({"<end>"});
  EXPECT_EQ(feed(three, {"x<", "en", "d>y"}), "x");
}

TEST(StopMatcher, PartialMatchesThatAreNotStopsAreEmittedInFull) {
  StopMatcher m({"STOP"});
  EXPECT_EQ(m.push("ST").text, "");
  EXPECT_EQ(m.push("OX").text, "STOX");
  EXPECT_EQ(m.push(" STO").text, " ");
  EXPECT_EQ(m.flush(), "STO");  // the end of generation releases what was held
  EXPECT_FALSE(m.stopped());
  StopMatcher n({"STOP"});
  EXPECT_EQ(feed(n, {"S", "T", "O", "O", "P"}), "STOOP");
}

TEST(StopMatcher, MultipleStopStringsTheEarliestWins) {
  StopMatcher m({"\n\n", "User:"});
  EXPECT_EQ(feed(m, {"Hi\nUs", "er: x\n\n"}), "Hi\n");
  EXPECT_EQ(m.matched(), "User:");
  StopMatcher n({"b", "a"});
  EXPECT_EQ(feed(n, {"xab"}), "x");
  EXPECT_EQ(n.matched(), "a");
}

TEST(StopMatcher, OverlappingPrefixes) {
  StopMatcher ab_abc({"abc", "ab"});
  EXPECT_EQ(ab_abc.push("xa").text, "x");
  const auto r = ab_abc.push("bc");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.text, "");
  EXPECT_EQ(ab_abc.matched(), "abc");  // both start at the same place: the first listed
  StopMatcher abc_abd({"abc", "abd"});
  EXPECT_EQ(feed(abc_abd, {"1a", "b", "d2"}), "1");
  EXPECT_EQ(abc_abd.matched(), "abd");
  StopMatcher abc({"abc"});
  EXPECT_EQ(feed(abc, {"a", "b", "x", "ab"}), "abxab");
  StopMatcher self_overlap({"aab"});
  EXPECT_EQ(feed(self_overlap, {"a", "a", "a", "b", "c"}), "a");
}

TEST(StopMatcher, Utf8Content) {
  StopMatcher m({"→end"});
  EXPECT_EQ(feed(m, {"été →", "en", "d!"}), "été ");
  StopMatcher cafe({"é"});
  EXPECT_EQ(feed(cafe, {"caf", "é au lait"}), "caf");
  // A held-back multi-byte prefix is released whole.
  StopMatcher held({"éx"});
  EXPECT_EQ(held.push("café").text, "caf");
  EXPECT_EQ(held.push("y").text, "éy");
  StopMatcher emoji({"🙂🙂"});
  EXPECT_EQ(feed(emoji, {"hi 🙂", " 🙂", "🙂 bye"}), "hi 🙂 ");
}

TEST(StopMatcher, AnySplitGivesTheTextBeforeTheFirstStop) {
  // Random texts over a small alphabet, random splits: the output is the text up to the earliest stop string.
  const std::vector<std::string> stops = {"aba", "bb", "cab"};
  std::mt19937 gen(3);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string text;
    const int len = static_cast<int>(gen() % 20);
    for (int i = 0; i < len; ++i) text += "abc"[gen() % 3];
    size_t first = std::string::npos;
    for (const auto& s : stops) first = std::min(first, text.find(s));
    const std::string want = first == std::string::npos ? text : text.substr(0, first);
    std::vector<std::string> pieces;
    for (size_t i = 0; i < text.size();) {
      const size_t n = std::min<size_t>(text.size() - i, gen() % 4);
      pieces.push_back(text.substr(i, n));
      i += n;
    }
    StopMatcher m(stops);
    EXPECT_EQ(feed(m, pieces), want) << text;
    EXPECT_EQ(m.stopped(), first != std::string::npos) << text;
  }
}

TEST(StopMatcher, BadStopStrings) {
  EXPECT_THROW(StopMatcher({"ok", ""}), Error);
  EXPECT_THROW(StopMatcher({"\xC3"}), Error);
  StopMatcher none({});
  EXPECT_EQ(feed(none, {"anything ", "at all"}), "anything at all");
}

// ---------------------------------------------------------------------------------------------------------------
// generate(): end-of-generation tokens and stop reasons on a tiny random model (vocabulary "<unk>", "<s>", "</s>",
// "▁t3" ... "▁t63")

TEST(EndOfGeneration, EosAndControlTokensNamedLikeAnEndOfTurn) {
  Vocab v = test::tiny_vocab(10);
  v.tokens[5] = "<|im_end|>";
  v.types[5] = TokenType::control;
  v.tokens[6] = "<|eot_id|>";
  v.types[6] = TokenType::normal;  // ordinary text that happens to look like a marker: not an end
  v.tokens[7] = "<end_of_turn>";
  v.types[7] = TokenType::user_defined;
  EXPECT_EQ(end_of_generation_tokens(v), (std::vector<TokenId>{2, 5, 7}));
  v.eos = kNoToken;
  EXPECT_EQ(end_of_generation_tokens(v), (std::vector<TokenId>{2, 5, 7}));  // "</s>" is control
}

class Generate : public ::testing::Test {
 protected:
  void SetUp() override {
    test::tiny_llama(test::TinyLlamaSpec{}).write(dir_ / "tiny.gguf");
    model_ = Model::load(dir_ / "tiny.gguf", LoadOptions{2});
  }
  GenerateResult run(const GenerateOptions& o, std::string* text = nullptr, int stop_after_pieces = -1,
                     int64_t n_ctx = 0) {
    Session s(model_, SessionOptions{n_ctx, 2});
    int pieces = 0;
    return generate(s, std::vector<TokenId>{1, 7}, o, [&](std::string_view piece) {
      if (text) *text += piece;
      return ++pieces != stop_after_pieces;
    });
  }
  GenerateOptions greedy(int64_t n) {
    GenerateOptions o;
    o.n_predict = n;
    o.sampling.temperature = 0.0f;
    o.sampling.logit_bias = {{2, -std::numeric_limits<float>::infinity()}};  // no early "</s>" from random weights
    return o;
  }
  test::TempDir dir_;
  std::shared_ptr<const Model> model_;
};

TEST_F(Generate, MaxTokens) {
  const auto r = run(greedy(6));
  EXPECT_EQ(r.tokens.size(), 6u);
  EXPECT_EQ(r.stop_reason, StopReason::max_tokens);
}

TEST_F(Generate, EndOfGenerationTokenStopsAndIsNotReturned) {
  GenerateOptions o = greedy(6);
  o.sampling.logit_bias = {{2, 1000.0f}};  // "</s>" always wins
  const auto r = run(o);
  EXPECT_TRUE(r.tokens.empty());
  EXPECT_EQ(r.stop_reason, StopReason::eog);
  o.stop_at_eog = false;
  const auto on = run(o);
  EXPECT_EQ(on.tokens, std::vector<TokenId>(6, 2));
  EXPECT_EQ(on.stop_reason, StopReason::max_tokens);
}

TEST_F(Generate, StopStringCutsTheText) {
  std::string full;
  const auto all = run(greedy(12), &full);
  ASSERT_GT(full.size(), 12u) << full;
  // Stop at the third word: everything before it is emitted, the stop string and what follows are not.
  const size_t at = full.find(' ', full.find(' ', 1) + 1);
  ASSERT_NE(at, std::string::npos) << full;
  const std::string stop = full.substr(at, 4);
  GenerateOptions o = greedy(12);
  o.stop = {"never there", stop};
  std::string text;
  const auto r = run(o, &text);
  EXPECT_EQ(r.stop_reason, StopReason::stop_string);
  EXPECT_EQ(r.stop_string, stop);
  EXPECT_EQ(text, full.substr(0, full.find(stop)));
  EXPECT_LT(r.tokens.size(), all.tokens.size());
}

TEST_F(Generate, CallbackCancels) {
  const auto r = run(greedy(12), nullptr, 3);
  EXPECT_EQ(r.stop_reason, StopReason::cancelled);
  EXPECT_EQ(r.tokens.size(), 3u);
}

TEST_F(Generate, ContextFull) {
  const auto r = run(greedy(50), nullptr, -1, 6);
  EXPECT_EQ(r.stop_reason, StopReason::context_full);
  EXPECT_EQ(r.tokens.size(), 5u);  // 2 prompt tokens + 4 evaluated + the last one sampled
}

TEST_F(Generate, BadOptionsFailBeforeAnyWork) {
  GenerateOptions o = greedy(4);
  o.sampling.logit_bias = {{64, 1.0f}};  // the vocabulary has 64 tokens
  EXPECT_THROW(run(o), Error);
  o = greedy(4);
  o.stop = {""};
  EXPECT_THROW(run(o), Error);
  o = greedy(4);
  o.sampling.top_p = 2.0f;
  EXPECT_THROW(run(o), Error);
}

}  // namespace
}  // namespace qtr
