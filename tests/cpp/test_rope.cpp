// RoPE scaling in the rope ops: linear scaling (freq_scale) is rotation at a scaled position, per-frequency
// divisors (freq_factors, GGUF rope_freqs.weight) slow each pair's rotation, in both layouts; defaults change nothing.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "ops/ops.hpp"

namespace qtr::ops {
namespace {

using RopeFn = void (*)(float*, int64_t, int64_t, int64_t, int64_t, float, float, const float*);

std::vector<float> random_heads(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist;
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = dist(rng);
  return x;
}

constexpr int64_t kHeads = 3, kHeadDim = 16;

class RopeScaling : public ::testing::TestWithParam<RopeFn> {};

TEST_P(RopeScaling, DefaultArgumentsChangeNothing) {
  const RopeFn rope = GetParam();
  for (int64_t n_rot : {16, 8}) {
    auto a = random_heads(kHeads * kHeadDim, 1), b = a;
    rope(a.data(), kHeads, kHeadDim, n_rot, 37, 10000.0f, 1.0f, nullptr);
    const std::vector<float> ones(static_cast<size_t>(n_rot / 2), 1.0f);
    rope(b.data(), kHeads, kHeadDim, n_rot, 37, 10000.0f, 1.0f, ones.data());
    EXPECT_EQ(a, b);
  }
}

TEST_P(RopeScaling, LinearScaleIsAScaledPosition) {
  const RopeFn rope = GetParam();
  auto a = random_heads(kHeads * kHeadDim, 2), b = a;
  rope(a.data(), kHeads, kHeadDim, kHeadDim, 40, 10000.0f, 0.25f, nullptr);  // factor 4 at position 40
  rope(b.data(), kHeads, kHeadDim, kHeadDim, 10, 10000.0f, 1.0f, nullptr);   // = position 10
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6f) << i;
}

TEST_P(RopeScaling, UniformFactorsEqualLinearScale) {
  const RopeFn rope = GetParam();
  auto a = random_heads(kHeads * kHeadDim, 3), b = a;
  const std::vector<float> eights(kHeadDim / 2, 8.0f);
  rope(a.data(), kHeads, kHeadDim, kHeadDim, 123, 500000.0f, 1.0f, eights.data());
  rope(b.data(), kHeads, kHeadDim, kHeadDim, 123, 500000.0f, 0.125f, nullptr);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6f) << i;
}

TEST_P(RopeScaling, EachFactorDividesItsPairsAngle) {
  const RopeFn rope = GetParam();
  const bool neox = rope == static_cast<RopeFn>(&rope_neox);
  const int64_t n_rot = 8, pos = 5;  // partial rotation: dimensions 8.. of each head stay as they are
  const std::vector<float> factors = {1.0f, 2.0f, 3.5f, 8.0f};
  auto x = random_heads(kHeads * kHeadDim, 4);
  const auto before = x;
  rope(x.data(), kHeads, kHeadDim, n_rot, pos, 10000.0f, 1.0f, factors.data());
  for (int64_t h = 0; h < kHeads; ++h) {
    for (int64_t i = 0; i < n_rot / 2; ++i) {
      const double theta = pos * std::pow(10000.0, -2.0 * i / n_rot) / factors[static_cast<size_t>(i)];
      const int64_t d0 = h * kHeadDim + (neox ? i : 2 * i), d1 = h * kHeadDim + (neox ? i + n_rot / 2 : 2 * i + 1);
      const double x0 = before[d0], x1 = before[d1];
      EXPECT_NEAR(x[d0], x0 * std::cos(theta) - x1 * std::sin(theta), 1e-5) << h << " " << i;
      EXPECT_NEAR(x[d1], x0 * std::sin(theta) + x1 * std::cos(theta), 1e-5) << h << " " << i;
    }
    for (int64_t d = n_rot; d < kHeadDim; ++d) EXPECT_EQ(x[h * kHeadDim + d], before[h * kHeadDim + d]);
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, RopeScaling,
                         ::testing::Values(static_cast<RopeFn>(&rope_normal), static_cast<RopeFn>(&rope_neox)),
                         [](const ::testing::TestParamInfo<RopeFn>& info) {
                           return std::string(info.param == static_cast<RopeFn>(&rope_normal) ? "normal" : "neox");
                         });

}  // namespace
}  // namespace qtr::ops
