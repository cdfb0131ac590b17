// The scalar reference quantizers (kernels/quant_blocks.hpp, kernels/scalar/quant_ref.cpp).
//
// Bit-exactness against GGML and gguf.quants is checked by tests/python/test_quant_reference.py; here: the fp16 /
// bf16 conversions exhaustively, dequantization against the layouts documented in quant_blocks.hpp (decoded
// independently from random block bytes), quantize -> dequantize error bounds, special blocks, sizes and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.hpp"
#include "kernels/quant_blocks.hpp"
#include "qtr/error.hpp"
#include "qtr/tensor_type.hpp"

namespace qtr {
namespace {

using quant::fp16_to_fp32;
using quant::fp32_to_fp16;
using T = TensorType;

float bits_to_float(uint32_t bits) { return std::bit_cast<float>(bits); }
uint32_t float_to_bits(float f) { return std::bit_cast<uint32_t>(f); }

const std::vector<T> kQuantizable = {T::F32,  T::F16,  T::BF16, T::Q4_0, T::Q4_1, T::Q5_0,
                                     T::Q5_1, T::Q8_0, T::Q4_K, T::Q5_K, T::Q6_K};

int64_t block_size(T type) { return tensor_type_info(type).block_size; }
std::string name(T type) { return tensor_type_name(type); }

// ---- fp16 -------------------------------------------------------------------------------------------------------

TEST(QuantFp16, EveryHalfRoundTripsThroughFloat) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const auto half = static_cast<uint16_t>(h);
    const float f = fp16_to_fp32(half);
    // One implementation: the kernels' decoder is the same function.
    ASSERT_EQ(float_to_bits(f), float_to_bits(kernels::fp16_to_fp32(half))) << h;
    const uint16_t back = fp32_to_fp16(f);
    if (std::isnan(f)) {
      EXPECT_EQ(back, (h & 0x8000) | 0x7E00) << "NaN " << h << " becomes the quiet NaN with its sign";
    } else {
      ASSERT_EQ(back, half) << "half bits " << h;
    }
  }
}

// Between every pair of adjacent halves of one sign: the midpoint goes to the even one, a float ulp either side goes
// to the nearer one. Covers subnormal ties, the subnormal/normal boundary and every exponent step.
TEST(QuantFp16, RoundsToNearestEvenBetweenEveryPairOfHalves) {
  for (uint32_t h = 0; h < 0x7BFF; ++h) {
    for (uint32_t sign : {0u, 0x8000u}) {
      const auto lo = static_cast<uint16_t>(sign | h), hi = static_cast<uint16_t>(sign | (h + 1));
      // The midpoint of two halves has at most 12 significant bits: exact in float.
      const float mid = static_cast<float>((static_cast<double>(fp16_to_fp32(lo)) + fp16_to_fp32(hi)) / 2);
      const float toward_lo = std::nextafter(mid, fp16_to_fp32(lo));
      const float toward_hi = std::nextafter(mid, fp16_to_fp32(hi));
      ASSERT_EQ(fp32_to_fp16(mid), (h & 1) ? hi : lo) << "tie between " << lo << " and " << hi;
      ASSERT_EQ(fp32_to_fp16(toward_lo), lo) << h;
      ASSERT_EQ(fp32_to_fp16(toward_hi), hi) << h;
    }
  }
}

TEST(QuantFp16, RoundingEdgeCases) {
  // ties in the normal range
  EXPECT_EQ(fp32_to_fp16(1.0f + std::ldexp(1.0f, -11)), 0x3C00);      // 1 + half an ulp: to even 1.0
  EXPECT_EQ(fp32_to_fp16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);  // 1 + 1.5 ulp: to even 1 + 2 ulp
  EXPECT_EQ(fp32_to_fp16(2047.0f + 0.5f), 0x6800);                    // 2047.5 -> 2048 (carry into the exponent)
  // subnormals
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -24)), 0x0001);        // smallest subnormal
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -25)), 0x0000);        // half of it: tie to even 0
  EXPECT_EQ(fp32_to_fp16(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
  EXPECT_EQ(fp32_to_fp16(-std::ldexp(1.0f, -25)), 0x8000);       // signed zero
  EXPECT_EQ(fp32_to_fp16(1.5f * std::ldexp(1.0f, -24)), 0x0002);  // 1.5 units: to even 2
  EXPECT_EQ(fp32_to_fp16(2.5f * std::ldexp(1.0f, -24)), 0x0002);  // 2.5 units: to even 2
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -14) - std::ldexp(1.0f, -25)), 0x0400);  // largest subnormal + 1/2 -> normal
  EXPECT_EQ(fp32_to_fp16(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(fp32_to_fp16(-0.0f), 0x8000);
  // overflow
  EXPECT_EQ(fp32_to_fp16(65504.0f), 0x7BFF);
  EXPECT_EQ(fp32_to_fp16(std::nextafter(65520.0f, 0.0f)), 0x7BFF);
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7C00);  // tie between 65504 and 2^16: to even, i.e. inf
  EXPECT_EQ(fp32_to_fp16(-65520.0f), 0xFC00);
  EXPECT_EQ(fp32_to_fp16(1e9f), 0x7C00);
  EXPECT_EQ(fp32_to_fp16(std::numeric_limits<float>::max()), 0x7C00);
  EXPECT_EQ(fp32_to_fp16(std::numeric_limits<float>::infinity()), 0x7C00);
  EXPECT_EQ(fp32_to_fp16(-std::numeric_limits<float>::infinity()), 0xFC00);
  // NaN: the quiet NaN, sign kept, payload dropped (GGML's choice)
  EXPECT_EQ(fp32_to_fp16(bits_to_float(0x7FC00000)), 0x7E00);
  EXPECT_EQ(fp32_to_fp16(bits_to_float(0xFFC00000)), 0xFE00);
  EXPECT_EQ(fp32_to_fp16(bits_to_float(0x7F800001)), 0x7E00);  // signalling, payload only in the low bits
  EXPECT_EQ(fp32_to_fp16(bits_to_float(0x7FC12345)), 0x7E00);
}

// ---- bf16 -------------------------------------------------------------------------------------------------------

TEST(QuantBf16, EveryBf16RoundTripsAndNaNsAreQuieted) {
  for (uint32_t b = 0; b < 65536; ++b) {
    const float f = quant::bf16_to_fp32(static_cast<uint16_t>(b));
    ASSERT_EQ(float_to_bits(f), b << 16);
    const bool nan = (b & 0x7F80) == 0x7F80 && (b & 0x007F) != 0;
    ASSERT_EQ(quant::fp32_to_bf16(f), nan ? (b | 0x0040) : b) << b;
  }
}

TEST(QuantBf16, RoundingEdgeCases) {
  EXPECT_EQ(quant::fp32_to_bf16(bits_to_float(0x3F808000)), 0x3F80);  // tie: to even
  EXPECT_EQ(quant::fp32_to_bf16(bits_to_float(0x3F818000)), 0x3F82);  // tie: to even (up)
  EXPECT_EQ(quant::fp32_to_bf16(bits_to_float(0x3F808001)), 0x3F81);
  EXPECT_EQ(quant::fp32_to_bf16(bits_to_float(0x00008000)), 0x0000);  // subnormal tie
  EXPECT_EQ(quant::fp32_to_bf16(std::numeric_limits<float>::max()), 0x7F80);  // overflow to inf
  EXPECT_EQ(quant::fp32_to_bf16(-std::numeric_limits<float>::max()), 0xFF80);
  EXPECT_EQ(quant::fp32_to_bf16(bits_to_float(0x7F800001)), 0x7FC0);  // signalling NaN made quiet
  EXPECT_EQ(quant::fp32_to_bf16(bits_to_float(0xFFC00000)), 0xFFC0);
}

// ---- dequantization against the documented layouts --------------------------------------------------------------

// Random block bytes with every fp16 scale field replaced by a finite half (|h| < 4).
std::vector<unsigned char> random_blocks(T type, int64_t n_blocks, std::mt19937& rng,
                                         const std::vector<size_t>& fp16_offsets) {
  const size_t bytes = tensor_type_info(type).type_size;
  std::vector<unsigned char> data(bytes * static_cast<size_t>(n_blocks));
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> scale(-4.0f, 4.0f);
  for (auto& v : data) v = static_cast<unsigned char>(byte(rng));
  for (int64_t b = 0; b < n_blocks; ++b) {
    for (size_t off : fp16_offsets) {
      const uint16_t h = fp32_to_fp16(scale(rng));
      std::memcpy(&data[static_cast<size_t>(b) * bytes + off], &h, 2);
    }
  }
  return data;
}

uint16_t u16_at(const unsigned char* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
float half_at(const unsigned char* p) { return fp16_to_fp32(u16_at(p)); }

// Decodes element i of one block straight from the comments in quant_blocks.hpp.
using ElementDecoder = float (*)(const unsigned char* block, int i);

float q4_0_element(const unsigned char* b, int i) {
  const int q = i < 16 ? (b[2 + i] & 15) : (b[2 + i - 16] >> 4);
  return static_cast<float>(q - 8) * half_at(b);
}
float q4_1_element(const unsigned char* b, int i) {
  const int q = i < 16 ? (b[4 + i] & 15) : (b[4 + i - 16] >> 4);
  return static_cast<float>(q) * half_at(b) + half_at(b + 2);
}
int q5_value(const unsigned char* qh, const unsigned char* qs, int i) {
  const uint32_t high = qh[0] | (qh[1] << 8) | (qh[2] << 16) | (static_cast<uint32_t>(qh[3]) << 24);
  const int low = i < 16 ? (qs[i] & 15) : (qs[i - 16] >> 4);
  return low | static_cast<int>(((high >> i) & 1) << 4);
}
float q5_0_element(const unsigned char* b, int i) {
  return static_cast<float>(q5_value(b + 2, b + 6, i) - 16) * half_at(b);
}
float q5_1_element(const unsigned char* b, int i) {
  return static_cast<float>(q5_value(b + 4, b + 8, i)) * half_at(b) + half_at(b + 2);
}
float q8_0_element(const unsigned char* b, int i) {
  return static_cast<float>(static_cast<int8_t>(b[2 + i])) * half_at(b);
}
void k_scale_min(const unsigned char* scales, int j, int& sc, int& mn) {
  if (j < 4) {
    sc = scales[j] & 63;
    mn = scales[j + 4] & 63;
  } else {
    sc = (scales[j + 4] & 15) | ((scales[j - 4] >> 6) << 4);
    mn = (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4);
  }
}
float q4_K_element(const unsigned char* b, int i) {
  const int j = i / 32, l = i % 32;
  int sc, mn;
  k_scale_min(b + 4, j, sc, mn);
  const unsigned char* qs = b + 16 + 32 * (j / 2);  // group j/2: sub-block 2g low nibbles, 2g+1 high
  const int q = j % 2 == 0 ? (qs[l] & 15) : (qs[l] >> 4);
  return half_at(b) * static_cast<float>(sc) * static_cast<float>(q) - half_at(b + 2) * static_cast<float>(mn);
}
float q5_K_element(const unsigned char* b, int i) {
  const int j = i / 32, l = i % 32;
  int sc, mn;
  k_scale_min(b + 4, j, sc, mn);
  const unsigned char* qh = b + 16;
  const unsigned char* qs = b + 48 + 32 * (j / 2);
  const int q = (j % 2 == 0 ? (qs[l] & 15) : (qs[l] >> 4)) | (((qh[l] >> j) & 1) << 4);
  return half_at(b) * static_cast<float>(sc) * static_cast<float>(q) - half_at(b + 2) * static_cast<float>(mn);
}
float q6_K_element(const unsigned char* b, int i) {
  const int h = i / 128, r = (i % 128) / 32, l = i % 32;
  const unsigned char* ql = b;
  const unsigned char* qh = b + 128;
  const auto* scales = reinterpret_cast<const int8_t*>(b + 192);
  const int low = (ql[64 * h + l + 32 * (r & 1)] >> (4 * (r >> 1))) & 15;
  const int high = (qh[32 * h + l] >> (2 * r)) & 3;
  const int sc = scales[8 * h + l / 16 + 2 * r];
  return half_at(b + 208) * static_cast<float>(sc) * static_cast<float>((low | (high << 4)) - 32);
}
float q8_K_element(const unsigned char* b, int i) {
  float d;
  std::memcpy(&d, b, 4);
  return d * static_cast<float>(static_cast<int8_t>(b[4 + i]));
}

struct LayoutCase {
  T type;
  ElementDecoder decode;
  std::vector<size_t> fp16_offsets;
};

TEST(QuantRef, DequantizeMatchesTheDocumentedLayouts) {
  const LayoutCase cases[] = {
      {T::Q4_0, q4_0_element, {0}},    {T::Q4_1, q4_1_element, {0, 2}}, {T::Q5_0, q5_0_element, {0}},
      {T::Q5_1, q5_1_element, {0, 2}}, {T::Q8_0, q8_0_element, {0}},    {T::Q4_K, q4_K_element, {0, 2}},
      {T::Q5_K, q5_K_element, {0, 2}}, {T::Q6_K, q6_K_element, {208}},  {T::Q8_K, q8_K_element, {}},
  };
  std::mt19937 rng(11);
  for (const LayoutCase& c : cases) {
    const int64_t n_blocks = 5, qk = block_size(c.type);
    std::vector<unsigned char> blocks = random_blocks(c.type, n_blocks, rng, c.fp16_offsets);
    if (c.type == T::Q8_K) {  // its scale is a float
      for (int64_t b = 0; b < n_blocks; ++b) {
        const float d = 0.01f * static_cast<float>(b + 1);
        std::memcpy(&blocks[static_cast<size_t>(b) * 292], &d, 4);
      }
    }
    std::vector<float> y(static_cast<size_t>(n_blocks * qk));
    quant::dequantize_row(c.type, blocks.data(), y.data(), n_blocks * qk);
    const size_t bytes = tensor_type_info(c.type).type_size;
    for (int64_t i = 0; i < n_blocks * qk; ++i) {
      const float expected = c.decode(&blocks[static_cast<size_t>(i / qk) * bytes], static_cast<int>(i % qk));
      ASSERT_EQ(float_to_bits(y[i]), float_to_bits(expected)) << name(c.type) << " element " << i;
    }
  }
}

// A few hand-worked blocks.
TEST(QuantRef, HandWorkedBlocks) {
  // Q4_0 of x = j - 16: the largest magnitude is -16, so d = -16 / -8 = 2 and q = trunc(x/2 + 8.5), clamped to 15.
  float x[32];
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16);
  quant::block_q4_0 q4;
  quant::quantize_row(T::Q4_0, x, &q4, 32);
  EXPECT_EQ(q4.d, fp32_to_fp16(2.0f));
  EXPECT_EQ(q4.qs[0], 0x80);   // low: x[0] = -16 -> 0; high: x[16] = 0 -> trunc(8.5) = 8
  EXPECT_EQ(q4.qs[1], 0x91);   // x[1] = -15 -> 1; x[17] = 1 -> 9
  EXPECT_EQ(q4.qs[15], 0xF8);  // x[15] = -1 -> 8; x[31] = 15 -> 16, clamped to 15
  // Q8_0 of the same: d = 16/127; q = roundf(x * 127/16) (half away from zero).
  quant::block_q8_0 q8;
  quant::quantize_row(T::Q8_0, x, &q8, 32);
  EXPECT_EQ(q8.d, fp32_to_fp16(16.0f / 127.0f));
  EXPECT_EQ(q8.qs[0], -127);
  EXPECT_EQ(q8.qs[16], 0);
  EXPECT_EQ(q8.qs[17], 8);     // 7.9375 -> 8
  EXPECT_EQ(q8.qs[31], 119);   // 119.0625 -> 119
}

// ---- quantize -> dequantize -------------------------------------------------------------------------------------

// Largest |dequantized - x| over a block, as a fraction of the block's largest |x|: a bound per format (for the
// K-quants the block is the 256-element super-block). The 32-element formats' bounds follow from their step (Q4_0:
// 1/8, the clipped +8 level; Q4_1: range/30 <= 1/15; ...) plus fp16 rounding of the scales; the K-quant bounds
// are empirical, with margin.
double error_bound(T type) {
  switch (type) {
    case T::F32: return 0;
    case T::F16: return std::ldexp(1.0, -11);
    case T::BF16: return std::ldexp(1.0, -8);
    case T::Q4_0: return 0.127;
    case T::Q4_1: return 0.069;
    case T::Q5_0: return 0.064;
    case T::Q5_1: return 0.035;
    case T::Q8_0: return 0.0046;
    case T::Q4_K: return 0.14;
    case T::Q5_K: return 0.075;
    case T::Q6_K: return 0.035;
    default: return 0;
  }
}

std::vector<float> round_trip(T type, const std::vector<float>& x) {
  const auto n = static_cast<int64_t>(x.size());
  std::vector<unsigned char> blocks(quant::row_size(type, n));
  quant::quantize_row(type, x.data(), blocks.data(), n);
  std::vector<float> y(x.size());
  quant::dequantize_row(type, blocks.data(), y.data(), n);
  return y;
}

// Checks the per-block bound; for F16/BF16 the bound is per element, relative to that element (plus half the
// smallest fp16 subnormal, for values that become fp16 subnormals).
void expect_within_bound(T type, const std::vector<float>& x, const std::string& what) {
  const std::vector<float> y = round_trip(type, x);
  const bool plain = type == T::F32 || type == T::F16 || type == T::BF16;
  const int64_t qk = plain ? 1 : block_size(type);
  const double absolute_floor = type == T::F16 ? std::ldexp(1.0, -25) : 0.0;
  for (size_t b = 0; b < x.size(); b += static_cast<size_t>(qk)) {
    double amax = 0, worst = 0;
    for (int64_t i = 0; i < qk; ++i) amax = std::max(amax, std::fabs(static_cast<double>(x[b + i])));
    for (int64_t i = 0; i < qk; ++i) worst = std::max(worst, std::fabs(static_cast<double>(y[b + i]) - x[b + i]));
    ASSERT_LE(worst, error_bound(type) * amax + absolute_floor) << name(type) << ", " << what << ", block at " << b;
  }
}

std::vector<float> random_row(int64_t n, int kind, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) {
    switch (kind) {
      case 0: v = normal(rng); break;
      case 1: v = 0.05f * uniform(rng); break;
      case 2: v = normal(rng) * normal(rng) * normal(rng); break;  // heavy tails
      default: v = uniform(rng) < -0.5f ? 0.0f : 300.0f * normal(rng); break;  // exact zeros mixed in
    }
  }
  return x;
}

TEST(QuantRef, RoundTripErrorIsBoundedPerBlock) {
  std::mt19937 rng(3);
  for (T type : kQuantizable) {
    for (int kind = 0; kind < 4; ++kind) {
      for (int trial = 0; trial < 8; ++trial) {
        expect_within_bound(type, random_row(1024, kind, rng), "distribution " + std::to_string(kind));
      }
    }
  }
}

TEST(QuantRef, AllZeroBlocksStayZero) {
  for (T type : kQuantizable) {
    const std::vector<float> y = round_trip(type, std::vector<float>(512, 0.0f));
    for (float v : y) ASSERT_EQ(v, 0.0f) << name(type);
  }
}

// Every element comes back as the same value, within bf16 precision of the constant. (The constants keep the
// K-quants' fp16 super-block scales, c / 945 for Q4_K, out of the fp16 subnormal range, where GGML's result is
// coarser.)
TEST(QuantRef, ConstantBlocksAreReproducedUniformly) {
  for (T type : kQuantizable) {
    for (float c : {1.0f, -1.0f, 0.3f, -1234.5f, 7.0f}) {
      const std::vector<float> y = round_trip(type, std::vector<float>(512, c));
      for (float v : y) ASSERT_EQ(v, y[0]) << name(type) << " constant " << c;
      EXPECT_NEAR(y[0], c, std::fabs(c) * std::ldexp(1.0, -8)) << name(type) << " constant " << c;
    }
  }
}

TEST(QuantRef, OneHugeOutlierDominatesOnlyItsOwnBlock) {
  std::mt19937 rng(5);
  for (T type : kQuantizable) {
    const int64_t qk = std::max<int64_t>(block_size(type), 32);
    std::vector<float> x = random_row(4 * qk, 0, rng);
    x[static_cast<size_t>(qk + 7)] = 1.0e4f;   // block 1
    x[static_cast<size_t>(2 * qk + 3)] = -3.0e4f;  // block 2
    expect_within_bound(type, x, "outliers");
    const std::vector<float> y = round_trip(type, x);
    // The outliers themselves set their blocks' scales and come back to within bf16 precision.
    EXPECT_NEAR(y[static_cast<size_t>(qk + 7)], 1.0e4f, 1.0e4f * std::ldexp(1.0, -8)) << name(type);
    EXPECT_NEAR(y[static_cast<size_t>(2 * qk + 3)], -3.0e4f, 3.0e4f * std::ldexp(1.0, -8)) << name(type);
    // Blocks 0 and 3 keep their own resolution.
    for (int64_t b : {int64_t{0}, 3 * qk}) {
      std::vector<float> xb(x.begin() + b, x.begin() + b + qk);
      expect_within_bound(type, xb, "neighbour of an outlier");
    }
  }
}

TEST(QuantRef, NegativeOnlyBlocks) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(-3.0f, -1.0f);
  for (T type : kQuantizable) {
    std::vector<float> x(512);
    for (auto& v : x) v = u(rng);
    expect_within_bound(type, x, "negative only");
    for (float v : round_trip(type, x)) ASSERT_LT(v, 0.0f) << name(type);
  }
}

TEST(QuantRef, BlocksAreQuantizedIndependently) {
  std::mt19937 rng(13);
  for (T type : kQuantizable) {
    const int64_t qk = block_size(type), n = 4 * std::max<int64_t>(qk, 32);
    const std::vector<float> x = random_row(n, 0, rng);
    std::vector<unsigned char> whole(quant::row_size(type, n)), pieces(whole.size());
    quant::quantize_row(type, x.data(), whole.data(), n);
    const size_t piece_bytes = quant::row_size(type, n / 4);
    for (int p = 0; p < 4; ++p) {
      quant::quantize_row(type, x.data() + p * (n / 4), pieces.data() + p * piece_bytes, n / 4);
    }
    EXPECT_EQ(whole, pieces) << name(type);
  }
}

// ---- sizes and errors -------------------------------------------------------------------------------------------

TEST(QuantRef, RowSizeAgreesWithTheTypeTable) {
  for (T type : {T::F32, T::F16, T::BF16, T::Q4_0, T::Q4_1, T::Q5_0, T::Q5_1, T::Q8_0, T::Q8_1, T::Q4_K, T::Q5_K,
                 T::Q6_K, T::Q8_K}) {
    const TensorTypeInfo& info = tensor_type_info(type);
    for (int64_t blocks : {0, 1, 7}) {
      EXPECT_EQ(quant::row_size(type, blocks * info.block_size), static_cast<size_t>(blocks) * info.type_size)
          << info.name;
    }
  }
  EXPECT_EQ(quant::row_size(T::Q4_K, 4096), 16u * 144u);
}

Errc error_code(auto&& call) {
  try {
    call();
  } catch (const Error& e) {
    return e.code();
  }
  ADD_FAILURE() << "no qtr::Error thrown";
  return Errc::internal;
}

TEST(QuantRef, SupportedTypes) {
  for (T type : kQuantizable) {
    EXPECT_TRUE(quant::can_quantize(type)) << name(type);
    EXPECT_TRUE(quant::can_dequantize(type)) << name(type);
  }
  EXPECT_FALSE(quant::can_quantize(T::Q8_K));
  EXPECT_TRUE(quant::can_dequantize(T::Q8_K));
  for (T type : {T::Q8_1, T::Q2_K, T::Q3_K, T::IQ2_XXS, T::IQ4_NL, T::I8, T::I32, T::F64, T::TQ1_0, T::MXFP4,
                 static_cast<T>(4), static_cast<T>(1000)}) {
    EXPECT_FALSE(quant::can_quantize(type)) << static_cast<uint32_t>(type);
    EXPECT_FALSE(quant::can_dequantize(type)) << static_cast<uint32_t>(type);
  }
}

TEST(QuantRef, BadArgumentsThrowInsteadOfAborting) {
  std::vector<float> x(512, 1.0f), y(512);
  std::vector<unsigned char> buf(4096);
  EXPECT_EQ(error_code([&] { quant::quantize_row(T::Q4_0, x.data(), buf.data(), 33); }), Errc::invalid_argument);
  EXPECT_EQ(error_code([&] { quant::quantize_row(T::Q4_K, x.data(), buf.data(), 32); }), Errc::invalid_argument);
  EXPECT_EQ(error_code([&] { quant::quantize_row(T::Q8_0, x.data(), buf.data(), -32); }), Errc::invalid_argument);
  EXPECT_EQ(error_code([&] { quant::dequantize_row(T::Q6_K, buf.data(), y.data(), 255); }), Errc::invalid_argument);
  EXPECT_EQ(error_code([&] { quant::row_size(T::Q5_1, 48); }), Errc::invalid_argument);
  EXPECT_EQ(error_code([&] { quant::quantize_row(T::Q2_K, x.data(), buf.data(), 256); }), Errc::unsupported);
  EXPECT_EQ(error_code([&] { quant::quantize_row(T::Q8_K, x.data(), buf.data(), 256); }), Errc::unsupported);
  EXPECT_EQ(error_code([&] { quant::dequantize_row(T::IQ2_XXS, buf.data(), y.data(), 256); }), Errc::unsupported);
  EXPECT_EQ(error_code([&] { quant::dequantize_row(static_cast<T>(4), buf.data(), y.data(), 32); }),
            Errc::unsupported);
  EXPECT_EQ(error_code([&] { quant::row_size(T::IQ4_XS, 256); }), Errc::unsupported);
  EXPECT_EQ(error_code([&] { quant::quantize_row(T::Q4_0, nullptr, buf.data(), 32); }), Errc::invalid_argument);
  // Messages name the type.
  try {
    quant::quantize_row(T::Q3_K, x.data(), buf.data(), 256);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Q3_K"), std::string::npos) << e.what();
  }
  try {
    quant::quantize_row(T::Q5_0, x.data(), buf.data(), 40);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Q5_0"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("40"), std::string::npos) << e.what();
  }
  // n = 0 is an empty row, not an error.
  EXPECT_NO_THROW(quant::quantize_row(T::Q4_K, x.data(), buf.data(), 0));
}

}  // namespace
}  // namespace qtr
