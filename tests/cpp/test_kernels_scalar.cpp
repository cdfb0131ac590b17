// Scalar reference kernels against straightforward double-precision arithmetic.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "kernels/kernels.hpp"

namespace qtr {
namespace {

TEST(ScalarKernels, Fp16ConversionIsExactForEveryValue) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = kernels::fp16_to_fp32(static_cast<uint16_t>(h));
    const uint32_t exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
    const double sign = (h & 0x8000) ? -1.0 : 1.0;
    if (exponent == 0x1F) {
      EXPECT_TRUE(mantissa ? std::isnan(f) : std::isinf(f)) << h;
      continue;
    }
    const double expected = exponent == 0 ? sign * std::ldexp(static_cast<double>(mantissa), -24)
                                          : sign * std::ldexp(1.0 + mantissa / 1024.0, static_cast<int>(exponent) - 15);
    ASSERT_EQ(static_cast<double>(f), expected) << "half bits " << h;
    ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << h;
  }
}

TEST(ScalarKernels, Bf16ConversionKeepsTheTopBits) {
  EXPECT_EQ(kernels::bf16_to_fp32(0x3F80), 1.0f);
  EXPECT_EQ(kernels::bf16_to_fp32(0xC000), -2.0f);
  EXPECT_TRUE(std::isinf(kernels::bf16_to_fp32(0x7F80)));
}

TEST(ScalarKernels, GemmF32MatchesDoublePrecisionOverEdgeShapes) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int64_t n_in : {1, 7, 8, 9, 31, 64, 257}) {
    for (int64_t n_tokens : {1, 3}) {
      const int64_t n_out = 5, x_stride = n_in + 3, y_stride = n_out + 2;
      std::vector<float> w(n_out * n_in), x(n_tokens * x_stride), y(n_tokens * y_stride, -7.0f);
      for (auto& v : w) v = u(rng);
      for (auto& v : x) v = u(rng);
      kernels::gemm_f32_f32__scalar(w.data(), n_in, 1, 4, x.data(), x_stride, y.data(), y_stride, n_tokens);
      for (int64_t t = 0; t < n_tokens; ++t) {
        for (int64_t r = 0; r < n_out; ++r) {
          if (r < 1 || r >= 4) {
            EXPECT_EQ(y[t * y_stride + r], -7.0f) << "row outside the range was written";
            continue;
          }
          double ref = 0, mag = 0;
          for (int64_t i = 0; i < n_in; ++i) {
            ref += static_cast<double>(w[r * n_in + i]) * x[t * x_stride + i];
            mag += std::fabs(static_cast<double>(w[r * n_in + i]) * x[t * x_stride + i]);
          }
          // float summation error bound: ~ n * eps * sum |terms|
          const double tol = static_cast<double>(n_in) * 1.2e-7 * mag + 1e-30;
          EXPECT_NEAR(y[t * y_stride + r], ref, tol) << "n_in " << n_in;
        }
      }
    }
  }
}

}  // namespace
}  // namespace qtr
