// Scalar reference quantizers and dequantizers for the GGUF block formats (layouts: kernels/quant_blocks.hpp).
//
// quantize_row reproduces GGML's quantize_row_*_ref (ggml-quants.c, no importance matrix) bit for bit, so the bytes
// qtr writes are the bytes llama.cpp's reference quantizer writes. That takes float32 arithmetic in GGML's order:
//   * this file is compiled with -ffp-contract=off (kernels/CMakeLists.txt), so a*b+c is never fused;
//   * every expression keeps GGML's operand order and association ((w*l)*x is not w*(l*x));
//   * every rounding step is GGML's own: fp16 round-to-nearest-even, nearest_int's magic-number rounding (K-quants),
//     roundf (Q8_0), and C's truncating float -> int8/uint8 casts (Q4_0 .. Q5_1).
// Blocks are independent of one another, so a row is its blocks one after another; blocks are copied in and out
// with memcpy, so callers' buffers need no particular alignment.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "kernels/kernels.hpp"
#include "kernels/quant_blocks.hpp"
#include "qtr/error.hpp"
#include "qtr/tensor_type.hpp"

namespace qtr::quant {

// ---- fp16 / bf16 ------------------------------------------------------------------------------------------------

namespace {

// v >> shift (1 <= shift <= 31), rounded to nearest, ties to even.
uint32_t shift_right_round_even(uint32_t v, int shift) {
  const uint32_t quotient = v >> shift;
  const uint32_t remainder = v & ((1u << shift) - 1);
  const uint32_t half = 1u << (shift - 1);
  return quotient + ((remainder > half || (remainder == half && (quotient & 1))) ? 1 : 0);
}

}  // namespace

uint16_t fp32_to_fp16(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  const uint32_t magnitude = bits & 0x7FFFFFFF;
  if (magnitude > 0x7F800000) return sign | 0x7E00;   // NaN: the canonical quiet NaN, sign kept (as GGML)
  if (magnitude >= 0x477FF000) return sign | 0x7C00;  // >= 65520 (the tie above 65504 goes to even): inf
  if (magnitude >= 0x38800000) {
    // Normal half (>= 2^-14): rebias the exponent (127 -> 15) and drop 13 mantissa bits. A carry out of the
    // mantissa correctly bumps the exponent.
    return sign | static_cast<uint16_t>(shift_right_round_even(magnitude - (112u << 23), 13));
  }
  // Subnormal half (or zero), in units of 2^-24: the 24-bit significand (implicit bit included) shifted right by
  // 126 - exponent, i.e. by 14 .. 24 for float exponents 112 .. 102. Below 2^-25 the result is 0; exactly 2^-25
  // ties to the even 0; rounding 0x3FF up gives 0x400, the smallest normal half, as it should.
  const uint32_t exponent = magnitude >> 23;
  if (exponent < 102) return sign;
  const uint32_t significand = (magnitude & 0x7FFFFF) | 0x800000;
  return sign | static_cast<uint16_t>(shift_right_round_even(significand, static_cast<int>(126 - exponent)));
}

// The decoders have one implementation, the kernels' (kernels/scalar/convert__scalar.cpp, kernels/kernels.hpp).
float fp16_to_fp32(uint16_t h) { return kernels::fp16_to_fp32(h); }
float bf16_to_fp32(uint16_t b) { return kernels::bf16_to_fp32(b); }

uint16_t fp32_to_bf16(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  if ((bits & 0x7FFFFFFF) > 0x7F800000) return static_cast<uint16_t>((bits >> 16) | 64);  // NaN: force quiet
  // Round to nearest even on the dropped 16 bits; overflow carries into the exponent and gives inf.
  return static_cast<uint16_t>((bits + (0x7FFF + ((bits >> 16) & 1))) >> 16);
}

namespace {

// ---- GGML's rounding steps --------------------------------------------------------------------------------------

// GGML's nearest_int: adding 1.5 * 2^23 leaves round-to-nearest-even(v) in the low mantissa bits (for |v| < 2^22;
// GGML asserts that range, and outside it we return what its bit arithmetic returns).
int nearest_int(float v) {
  const float biased = v + 12582912.0f;
  return static_cast<int>(std::bit_cast<uint32_t>(biased) & 0x007FFFFF) - 0x00400000;
}

// C's float -> int conversion as GGML's x86-64 build performs it (cvttss2si): truncation toward zero, and
// INT32_MIN for NaN or out-of-range values (undefined in C, defined here). Such values reach it only from blocks
// holding inf / NaN or whose scale's inverse overflows; GGML's bytes then come from the low byte, 0.
int32_t truncate_to_int32(float v) {
  if (!(v >= -2147483648.0f && v < 2147483648.0f)) return INT32_MIN;
  return static_cast<int32_t>(v);
}
// GGML's (int8_t)v / (uint8_t)v casts: the int32 truncation above, keeping the low byte. Identical to the C cast
// whenever the result is in range, which it is for every finite block whose scale is a normal float.
int8_t truncate_to_int8(float v) { return static_cast<int8_t>(truncate_to_int32(v)); }
uint8_t truncate_to_uint8(float v) { return static_cast<uint8_t>(truncate_to_int32(v)); }

// ---- block scans ------------------------------------------------------------------------------------------------

// The element of largest magnitude (the first one on ties), sign kept; 0 for an all-zero block.
float signed_absmax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    if (a > amax) {
      amax = a;
      max = x[i];
    }
  }
  return max;
}

struct MinMax {
  float min, max;
};
MinMax min_max(const float* x, int n) {
  MinMax r{3.40282347e+38f, -3.40282347e+38f};  // FLT_MAX, as GGML starts
  for (int i = 0; i < n; ++i) {
    if (x[i] < r.min) r.min = x[i];
    if (x[i] > r.max) r.max = x[i];
  }
  return r;
}

// ---- 32-element formats -----------------------------------------------------------------------------------------

// Q4_0: d = max / -8, so the largest-magnitude element becomes q = 0 (x = -8d); q = trunc(x/d + 8.5) <= 15.
void quantize_block(const float* x, block_q4_0& out) {
  const float max = signed_absmax(x, QK4_0);
  const float d = max / -8.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  out.d = fp32_to_fp16(d);
  for (int j = 0; j < QK4_0 / 2; ++j) {
    const auto q0 = static_cast<uint8_t>(std::min<int>(15, truncate_to_int8(x[j] * id + 8.5f)));
    const auto q1 = static_cast<uint8_t>(std::min<int>(15, truncate_to_int8(x[j + QK4_0 / 2] * id + 8.5f)));
    out.qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
  }
}

// Q4_1: d = (max - min) / 15, m = min; q = trunc((x - min)/d + 0.5) <= 15.
void quantize_block(const float* x, block_q4_1& out) {
  const MinMax mm = min_max(x, QK4_1);
  const float d = (mm.max - mm.min) / 15.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  out.d = fp32_to_fp16(d);
  out.m = fp32_to_fp16(mm.min);
  for (int j = 0; j < QK4_1 / 2; ++j) {
    const auto q0 = static_cast<uint8_t>(std::min<int>(15, truncate_to_int8((x[j] - mm.min) * id + 0.5f)));
    const auto q1 =
        static_cast<uint8_t>(std::min<int>(15, truncate_to_int8((x[j + QK4_1 / 2] - mm.min) * id + 0.5f)));
    out.qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
  }
}

// Writes the fifth bits of 32 five-bit values into qh (bit j of the little-endian u32 = bit 4 of value j).
void store_high_bits(const uint8_t (&q)[32], uint8_t (&qh)[4]) {
  uint32_t bits = 0;
  for (int j = 0; j < 32; ++j) bits |= static_cast<uint32_t>((q[j] >> 4) & 1) << j;
  for (int b = 0; b < 4; ++b) qh[b] = static_cast<uint8_t>(bits >> (8 * b));
}

// Q5_0: as Q4_0 with 32 levels: d = max / -16, q = trunc(x/d + 16.5) <= 31.
void quantize_block(const float* x, block_q5_0& out) {
  const float max = signed_absmax(x, QK5_0);
  const float d = max / -16.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  out.d = fp32_to_fp16(d);
  uint8_t q[QK5_0];
  for (int j = 0; j < QK5_0; ++j) {
    q[j] = static_cast<uint8_t>(std::min<int>(31, truncate_to_int8(x[j] * id + 16.5f)));
  }
  for (int j = 0; j < QK5_0 / 2; ++j) {
    out.qs[j] = static_cast<uint8_t>((q[j] & 0x0F) | ((q[j + QK5_0 / 2] & 0x0F) << 4));
  }
  store_high_bits(q, out.qh);
}

// Q5_1: as Q4_1 with 32 levels: d = (max - min) / 31, q = trunc((x - min)/d + 0.5) (GGML does not clamp: the
// largest element lands on 31).
void quantize_block(const float* x, block_q5_1& out) {
  const MinMax mm = min_max(x, QK5_1);
  const float d = (mm.max - mm.min) / 31.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  out.d = fp32_to_fp16(d);
  out.m = fp32_to_fp16(mm.min);
  uint8_t q[QK5_1];
  for (int j = 0; j < QK5_1; ++j) q[j] = truncate_to_uint8((x[j] - mm.min) * id + 0.5f);
  for (int j = 0; j < QK5_1 / 2; ++j) {
    out.qs[j] = static_cast<uint8_t>((q[j] & 0x0F) | ((q[j + QK5_1 / 2] & 0x0F) << 4));
  }
  store_high_bits(q, out.qh);
}

// Q8_0: d = amax / 127, q = roundf(x/d) (half away from zero).
void quantize_block(const float* x, block_q8_0& out) {
  float amax = 0.0f;
  for (int j = 0; j < QK8_0; ++j) {
    const float a = std::fabs(x[j]);
    amax = amax > a ? amax : a;  // GGML's MAX(amax, a): a NaN element makes amax NaN
  }
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  out.d = fp32_to_fp16(d);
  for (int j = 0; j < QK8_0; ++j) out.qs[j] = truncate_to_int8(std::round(x[j] * id));
}

// ---- K-quant helpers --------------------------------------------------------------------------------------------

// The iterative (scale, min) search of GGML's make_qkx2_quants for one sub-block, with squared error (use_mad =
// false, the only mode Q4_K/Q5_K use). It fits x ~ scale * L - min with L in [0, nmax] and min >= 0 (GGML's
// "the_min"), trying nstep + 1 candidate scales (rmin + rdelta*is + nmax) / (max - min) around nmax / (max - min)
// and, for each, the weighted least-squares scale and offset for the levels that scale produces.
struct ScaleSearch {
  int nmax;
  float rmin, rdelta;
  int nstep;
};
constexpr ScaleSearch kQ4KSearch{15, -1.0f, 0.1f, 20};
constexpr ScaleSearch kQ5KSearch{31, -0.5f, 0.1f, 15};
constexpr int kSubBlock = 32;  // Q4_K / Q5_K sub-block

struct ScaleMin {
  float scale, min;
};

ScaleMin search_scale_min(const float* x, const float* weights, const ScaleSearch& p, uint8_t* levels) {
  constexpr int n = kSubBlock;
  float min = x[0], max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    const float w = weights[i];
    sum_w += w;
    sum_x += w * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    std::fill_n(levels, n, uint8_t{0});
    return {0.0f, -min};
  }
  const auto nmax = static_cast<float>(p.nmax);
  float iscale = nmax / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    levels[i] = static_cast<uint8_t>(std::clamp(nearest_int(iscale * (x[i] - min)), 0, p.nmax));
    float diff = scale * levels[i] + min - x[i];
    diff = diff * diff;
    best_error += weights[i] * diff;
  }
  uint8_t trial[n];
  for (int is = 0; is <= p.nstep; ++is) {
    iscale = (p.rmin + p.rdelta * static_cast<float>(is) + nmax) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(nearest_int(iscale * (x[i] - min)), 0, p.nmax);
      trial[i] = static_cast<uint8_t>(l);
      const float w = weights[i];
      const auto lf = static_cast<float>(l);
      sum_l += w * lf;
      sum_l2 += w * lf * lf;
      sum_xl += w * lf * x[i];
    }
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (det > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float error = 0;
      for (int i = 0; i < n; ++i) {
        float diff = this_scale * trial[i] + this_min - x[i];
        diff = diff * diff;
        error += weights[i] * diff;
      }
      if (error < best_error) {
        std::copy_n(trial, n, levels);
        best_error = error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  return {scale, -min};
}

// The 12-byte Q4_K/Q5_K scale array: sub-block j's 6-bit scale and min (layout on block_q4_K).
void pack_scale_min(int j, uint8_t sc, uint8_t mn, uint8_t (&scales)[K_SCALE_SIZE]) {
  if (j < 4) {
    scales[j] = sc;
    scales[j + 4] = mn;
  } else {  // low 4 bits in byte j+4, high 2 bits in the top of bytes j-4 (scale) and j (min), written for j < 4
    scales[j + 4] = static_cast<uint8_t>((sc & 0x0F) | ((mn & 0x0F) << 4));
    scales[j - 4] |= static_cast<uint8_t>((sc >> 4) << 6);
    scales[j] |= static_cast<uint8_t>((mn >> 4) << 6);
  }
}
void unpack_scale_min(int j, const uint8_t (&scales)[K_SCALE_SIZE], uint8_t& sc, uint8_t& mn) {
  if (j < 4) {
    sc = scales[j] & 63;
    mn = scales[j + 4] & 63;
  } else {
    sc = static_cast<uint8_t>((scales[j + 4] & 0x0F) | ((scales[j - 4] >> 6) << 4));
    mn = static_cast<uint8_t>((scales[j + 4] >> 4) | ((scales[j] >> 6) << 4));
  }
}

// Everything Q4_K and Q5_K share: fit each sub-block, quantize its scale and min to 6 bits against the largest
// (d = max_scale / 63, dmin = max_min / 63, both fp16), then recompute every level against the quantized
// scales. A sub-block whose quantized scale is 0 keeps the levels of its fit. levels[i] in [0, nmax].
void quantize_k_superblock(const float* x, const ScaleSearch& search, uint16_t& d_out, uint16_t& dmin_out,
                           uint8_t (&scales_out)[K_SCALE_SIZE], uint8_t (&levels)[QK_K]) {
  constexpr int n_sub = QK_K / kSubBlock;
  float scales[n_sub], mins[n_sub];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < n_sub; ++j) {
    const float* xs = x + kSubBlock * j;
    // Weights: |x| plus the sub-block's RMS.
    float sum_x2 = 0;
    for (int l = 0; l < kSubBlock; ++l) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / kSubBlock);
    float weights[kSubBlock];
    for (int l = 0; l < kSubBlock; ++l) weights[l] = av_x + std::fabs(xs[l]);
    const ScaleMin fit = search_scale_min(xs, weights, search, levels + kSubBlock * j);
    scales[j] = fit.scale;
    mins[j] = fit.min;
    if (fit.scale > max_scale) max_scale = fit.scale;
    if (fit.min > max_min) max_min = fit.min;
  }

  const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
  for (int j = 0; j < n_sub; ++j) {
    // GGML stores nearest_int's int in a uint8_t before clamping.
    const auto sc = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_scale * scales[j])));
    const auto mn = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_min * mins[j])));
    pack_scale_min(j, sc, mn, scales_out);
  }
  d_out = fp32_to_fp16(max_scale / 63.0f);
  dmin_out = fp32_to_fp16(max_min / 63.0f);

  const float d_all = fp16_to_fp32(d_out), dmin_all = fp16_to_fp32(dmin_out);
  for (int j = 0; j < n_sub; ++j) {
    uint8_t sc, mn;
    unpack_scale_min(j, scales_out, sc, mn);
    const float d = d_all * sc;
    if (d == 0.0f) continue;
    const float dm = dmin_all * mn;
    for (int i = kSubBlock * j; i < kSubBlock * (j + 1); ++i) {
      levels[i] = static_cast<uint8_t>(std::clamp(nearest_int((x[i] + dm) / d), 0, search.nmax));
    }
  }
}

// Q4_K: levels 0..15; qs group g (32 bytes) holds sub-block 2g in its low nibbles and 2g+1 in its high nibbles.
void quantize_block(const float* x, block_q4_K& out) {
  uint8_t levels[QK_K];
  quantize_k_superblock(x, kQ4KSearch, out.d, out.dmin, out.scales, levels);
  for (int g = 0; g < 4; ++g) {
    for (int l = 0; l < 32; ++l) {
      out.qs[32 * g + l] = static_cast<uint8_t>(levels[64 * g + l] | (levels[64 * g + 32 + l] << 4));
    }
  }
}

// Q5_K: levels 0..31; low 4 bits as Q4_K, bit 4 of element 32j + l in bit j of qh[l].
void quantize_block(const float* x, block_q5_K& out) {
  uint8_t levels[QK_K];
  quantize_k_superblock(x, kQ5KSearch, out.d, out.dmin, out.scales, levels);
  std::memset(out.qh, 0, sizeof out.qh);
  for (int g = 0; g < 4; ++g) {
    for (int l = 0; l < 32; ++l) {
      const uint8_t lo = levels[64 * g + l], hi = levels[64 * g + 32 + l];
      out.qs[32 * g + l] = static_cast<uint8_t>((lo & 0x0F) | ((hi & 0x0F) << 4));
      out.qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * g)) | ((hi >> 4) << (2 * g + 1)));
    }
  }
}

// GGML's make_qx_quants with rmse_type 1 and no importance weights, for one 16-element Q6_K sub-block: levels l
// in [-nmax, nmax - 1] (stored as l + nmax) and a scale, chosen among 19 candidate inverse scales
// -(nmax + 0.1*is) / max (is = 0, then -9 .. 9) by the x^2-weighted least-squares fit (largest sumlx^2 / suml2).
constexpr float kGroupMaxEps = 1e-15f;  // GGML's GROUP_MAX_EPS

float search_symmetric_scale(const float* x, int n, int nmax, int8_t* levels) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    std::fill_n(levels, n, int8_t{0});
    return 0.0f;
  }
  const auto nmax_f = static_cast<float>(nmax);
  auto level = [&](float iscale, float v) { return std::clamp(nearest_int(iscale * v), -nmax, nmax - 1); };
  float iscale = -nmax_f / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = level(iscale, x[i]);
    levels[i] = static_cast<int8_t>(l + nmax);
    const float w = x[i] * x[i];
    const auto lf = static_cast<float>(l);
    sumlx += w * x[i] * lf;
    suml2 += w * lf * lf;
  }
  float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(nmax_f + 0.1f * static_cast<float>(is)) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      const auto lf = static_cast<float>(level(iscale, x[i]));
      const float w = x[i] * x[i];
      sumlx += w * x[i] * lf;
      suml2 += w * lf * lf;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) levels[i] = static_cast<int8_t>(level(iscale, x[i]) + nmax);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// Q6_K: 16 sub-blocks of 16 with int8 scales against one fp16 d = max_scale / -128; levels 0..63 (x = d * sc *
// (q - 32)). Packing (see block_q6_K): half h, row r = 0..3 of 32 elements: low nibbles in ql, 2 high bits in qh.
void quantize_block(const float* x, block_q6_K& out) {
  constexpr int n_sub = QK_K / 16;
  int8_t levels[QK_K];
  float scales[n_sub];
  float max_scale = 0, max_abs_scale = 0;
  for (int ib = 0; ib < n_sub; ++ib) {
    const float scale = search_symmetric_scale(x + 16 * ib, 16, 32, levels + 16 * ib);
    scales[ib] = scale;
    const float abs_scale = std::fabs(scale);
    if (abs_scale > max_abs_scale) {
      max_abs_scale = abs_scale;
      max_scale = scale;
    }
  }
  if (max_abs_scale < kGroupMaxEps) {
    std::memset(&out, 0, sizeof out);  // everything zero, d = +0
    return;
  }

  const float iscale = -128.0f / max_scale;
  out.d = fp32_to_fp16(1 / iscale);
  for (int ib = 0; ib < n_sub; ++ib) {
    out.scales[ib] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[ib])));
  }
  const float d_all = fp16_to_fp32(out.d);
  for (int j = 0; j < n_sub; ++j) {
    const float d = d_all * out.scales[j];
    if (d == 0.0f) continue;  // keeps the sub-block's search levels
    for (int i = 16 * j; i < 16 * (j + 1); ++i) {
      levels[i] = static_cast<int8_t>(std::clamp(nearest_int(x[i] / d), -32, 31) + 32);
    }
  }

  for (int h = 0; h < 2; ++h) {
    const int8_t* lv = levels + 128 * h;
    uint8_t* ql = out.ql + 64 * h;
    uint8_t* qh = out.qh + 32 * h;
    for (int l = 0; l < 32; ++l) {
      const int q0 = lv[l], q1 = lv[l + 32], q2 = lv[l + 64], q3 = lv[l + 96];
      ql[l] = static_cast<uint8_t>((q0 & 0x0F) | ((q2 & 0x0F) << 4));
      ql[l + 32] = static_cast<uint8_t>((q1 & 0x0F) | ((q3 & 0x0F) << 4));
      qh[l] = static_cast<uint8_t>((q0 >> 4) | ((q1 >> 4) << 2) | ((q2 >> 4) << 4) | ((q3 >> 4) << 6));
    }
  }
}

// ---- dequantization (GGML's dequantize_row_*: the same float products, in the same order) -----------------------

void dequantize_block(const block_q4_0& b, float* y) {
  const float d = fp16_to_fp32(b.d);
  for (int j = 0; j < QK4_0 / 2; ++j) {
    y[j] = static_cast<float>((b.qs[j] & 0x0F) - 8) * d;
    y[j + QK4_0 / 2] = static_cast<float>((b.qs[j] >> 4) - 8) * d;
  }
}

void dequantize_block(const block_q4_1& b, float* y) {
  const float d = fp16_to_fp32(b.d), m = fp16_to_fp32(b.m);
  for (int j = 0; j < QK4_1 / 2; ++j) {
    y[j] = static_cast<float>(b.qs[j] & 0x0F) * d + m;
    y[j + QK4_1 / 2] = static_cast<float>(b.qs[j] >> 4) * d + m;
  }
}

// The 5-bit values of a Q5_0/Q5_1 block, 0..31.
void load_five_bit(const uint8_t (&qs)[16], const uint8_t (&qh)[4], int (&q)[32]) {
  const uint32_t bits = qh[0] | (qh[1] << 8) | (qh[2] << 16) | (static_cast<uint32_t>(qh[3]) << 24);
  for (int j = 0; j < 16; ++j) {
    q[j] = (qs[j] & 0x0F) | static_cast<int>(((bits >> j) & 1) << 4);
    q[j + 16] = (qs[j] >> 4) | static_cast<int>(((bits >> (j + 16)) & 1) << 4);
  }
}

void dequantize_block(const block_q5_0& b, float* y) {
  const float d = fp16_to_fp32(b.d);
  int q[QK5_0];
  load_five_bit(b.qs, b.qh, q);
  for (int j = 0; j < QK5_0; ++j) y[j] = static_cast<float>(q[j] - 16) * d;
}

void dequantize_block(const block_q5_1& b, float* y) {
  const float d = fp16_to_fp32(b.d), m = fp16_to_fp32(b.m);
  int q[QK5_1];
  load_five_bit(b.qs, b.qh, q);
  for (int j = 0; j < QK5_1; ++j) y[j] = static_cast<float>(q[j]) * d + m;
}

void dequantize_block(const block_q8_0& b, float* y) {
  const float d = fp16_to_fp32(b.d);
  for (int j = 0; j < QK8_0; ++j) y[j] = static_cast<float>(b.qs[j]) * d;
}

void dequantize_block(const block_q4_K& b, float* y) {
  const float d = fp16_to_fp32(b.d), dmin = fp16_to_fp32(b.dmin);
  for (int j = 0; j < QK_K / kSubBlock; ++j) {
    uint8_t sc, mn;
    unpack_scale_min(j, b.scales, sc, mn);
    const float dj = d * sc, mj = dmin * mn;
    const uint8_t* qs = b.qs + 32 * (j / 2);
    const int shift = 4 * (j % 2);
    for (int l = 0; l < 32; ++l) y[32 * j + l] = dj * static_cast<float>((qs[l] >> shift) & 0x0F) - mj;
  }
}

void dequantize_block(const block_q5_K& b, float* y) {
  const float d = fp16_to_fp32(b.d), dmin = fp16_to_fp32(b.dmin);
  for (int j = 0; j < QK_K / kSubBlock; ++j) {
    uint8_t sc, mn;
    unpack_scale_min(j, b.scales, sc, mn);
    const float dj = d * sc, mj = dmin * mn;
    const uint8_t* qs = b.qs + 32 * (j / 2);
    const int shift = 4 * (j % 2);
    for (int l = 0; l < 32; ++l) {
      const int q = ((qs[l] >> shift) & 0x0F) | (((b.qh[l] >> j) & 1) << 4);
      y[32 * j + l] = dj * static_cast<float>(q) - mj;
    }
  }
}

void dequantize_block(const block_q6_K& b, float* y) {
  const float d = fp16_to_fp32(b.d);
  for (int h = 0; h < 2; ++h) {
    const uint8_t* ql = b.ql + 64 * h;
    const uint8_t* qh = b.qh + 32 * h;
    const int8_t* sc = b.scales + 8 * h;
    for (int r = 0; r < 4; ++r) {
      for (int l = 0; l < 32; ++l) {
        const int lo = (ql[l + 32 * (r & 1)] >> (4 * (r >> 1))) & 0x0F;
        const int hi = (qh[l] >> (2 * r)) & 3;
        const float scale = d * sc[l / 16 + 2 * r];
        y[128 * h + 32 * r + l] = scale * static_cast<float>((lo | (hi << 4)) - 32);
      }
    }
  }
}

void dequantize_block(const block_q8_K& b, float* y) {
  for (int j = 0; j < QK_K; ++j) y[j] = b.d * static_cast<float>(b.qs[j]);
}

// ---- rows and dispatch ------------------------------------------------------------------------------------------

struct Format {
  TensorType type;
  int64_t block_size;  // elements per block
  size_t block_bytes;
  bool quantize, dequantize;
};

using T = TensorType;
constexpr Format kFormats[] = {
    {T::F32, 1, 4, true, true},
    {T::F16, 1, 2, true, true},
    {T::BF16, 1, 2, true, true},
    {T::Q4_0, QK4_0, sizeof(block_q4_0), true, true},
    {T::Q4_1, QK4_1, sizeof(block_q4_1), true, true},
    {T::Q5_0, QK5_0, sizeof(block_q5_0), true, true},
    {T::Q5_1, QK5_1, sizeof(block_q5_1), true, true},
    {T::Q8_0, QK8_0, sizeof(block_q8_0), true, true},
    {T::Q8_1, QK8_1, sizeof(block_q8_1), false, false},  // geometry only (row_size)
    {T::Q4_K, QK_K, sizeof(block_q4_K), true, true},
    {T::Q5_K, QK_K, sizeof(block_q5_K), true, true},
    {T::Q6_K, QK_K, sizeof(block_q6_K), true, true},
    {T::Q8_K, QK_K, sizeof(block_q8_K), false, true},
};

const Format* find_format(TensorType type) {
  for (const Format& f : kFormats) {
    if (f.type == type) return &f;
  }
  return nullptr;
}

// The format of `type` for `what`, after checking that n is a whole number of its blocks.
const Format& checked_format(const char* what, TensorType type, int64_t n, bool Format::*supports) {
  const Format* f = find_format(type);
  if (f == nullptr || (supports != nullptr && !(f->*supports))) {
    throw Error(Errc::unsupported, std::string(what) + ": unsupported tensor type " + tensor_type_name(type));
  }
  if (n < 0 || n % f->block_size != 0) {
    throw Error(Errc::invalid_argument, std::string(what) + ": " + std::to_string(n) +
                                            " elements is not a multiple of " + tensor_type_name(type) + "'s block size " +
                                            std::to_string(f->block_size));
  }
  return *f;
}

template <typename Block>
void quantize_blocks(const float* x, void* dst, int64_t n, int64_t qk) {
  auto* out = static_cast<unsigned char*>(dst);
  for (int64_t b = 0; b < n / qk; ++b) {
    Block block;
    quantize_block(x + b * qk, block);
    std::memcpy(out + b * sizeof(Block), &block, sizeof(Block));
  }
}

template <typename Block>
void dequantize_blocks(const void* src, float* y, int64_t n, int64_t qk) {
  const auto* in = static_cast<const unsigned char*>(src);
  for (int64_t b = 0; b < n / qk; ++b) {
    Block block;
    std::memcpy(&block, in + b * sizeof(Block), sizeof(Block));
    dequantize_block(block, y + b * qk);
  }
}

// A 16-bit element at index i of an unaligned row.
void store_u16(void* dst, int64_t i, uint16_t v) { std::memcpy(static_cast<unsigned char*>(dst) + 2 * i, &v, 2); }
uint16_t load_u16(const void* src, int64_t i) {
  uint16_t v;
  std::memcpy(&v, static_cast<const unsigned char*>(src) + 2 * i, 2);
  return v;
}

}  // namespace

bool can_quantize(TensorType type) {
  const Format* f = find_format(type);
  return f != nullptr && f->quantize;
}

bool can_dequantize(TensorType type) {
  const Format* f = find_format(type);
  return f != nullptr && f->dequantize;
}

size_t row_size(TensorType type, int64_t n) {
  const Format& f = checked_format("row_size", type, n, nullptr);
  return static_cast<size_t>(n / f.block_size) * f.block_bytes;
}

void quantize_row(TensorType type, const float* x, void* blocks, int64_t n) {
  checked_format("quantize_row", type, n, &Format::quantize);
  if (n == 0) return;
  if (x == nullptr || blocks == nullptr) throw Error(Errc::invalid_argument, "quantize_row: null buffer");
  switch (type) {
    case T::F32: std::memcpy(blocks, x, static_cast<size_t>(n) * sizeof(float)); return;
    case T::F16:
      for (int64_t i = 0; i < n; ++i) store_u16(blocks, i, fp32_to_fp16(x[i]));
      return;
    case T::BF16:
      for (int64_t i = 0; i < n; ++i) store_u16(blocks, i, fp32_to_bf16(x[i]));
      return;
    case T::Q4_0: return quantize_blocks<block_q4_0>(x, blocks, n, QK4_0);
    case T::Q4_1: return quantize_blocks<block_q4_1>(x, blocks, n, QK4_1);
    case T::Q5_0: return quantize_blocks<block_q5_0>(x, blocks, n, QK5_0);
    case T::Q5_1: return quantize_blocks<block_q5_1>(x, blocks, n, QK5_1);
    case T::Q8_0: return quantize_blocks<block_q8_0>(x, blocks, n, QK8_0);
    case T::Q4_K: return quantize_blocks<block_q4_K>(x, blocks, n, QK_K);
    case T::Q5_K: return quantize_blocks<block_q5_K>(x, blocks, n, QK_K);
    case T::Q6_K: return quantize_blocks<block_q6_K>(x, blocks, n, QK_K);
    default: break;
  }
  throw Error(Errc::internal, "quantize_row: no quantizer for " + tensor_type_name(type));
}

void dequantize_row(TensorType type, const void* blocks, float* y, int64_t n) {
  checked_format("dequantize_row", type, n, &Format::dequantize);
  if (n == 0) return;
  if (blocks == nullptr || y == nullptr) throw Error(Errc::invalid_argument, "dequantize_row: null buffer");
  switch (type) {
    case T::F32: std::memcpy(y, blocks, static_cast<size_t>(n) * sizeof(float)); return;
    case T::F16:
      for (int64_t i = 0; i < n; ++i) y[i] = fp16_to_fp32(load_u16(blocks, i));
      return;
    case T::BF16:
      for (int64_t i = 0; i < n; ++i) y[i] = bf16_to_fp32(load_u16(blocks, i));
      return;
    case T::Q4_0: return dequantize_blocks<block_q4_0>(blocks, y, n, QK4_0);
    case T::Q4_1: return dequantize_blocks<block_q4_1>(blocks, y, n, QK4_1);
    case T::Q5_0: return dequantize_blocks<block_q5_0>(blocks, y, n, QK5_0);
    case T::Q5_1: return dequantize_blocks<block_q5_1>(blocks, y, n, QK5_1);
    case T::Q8_0: return dequantize_blocks<block_q8_0>(blocks, y, n, QK8_0);
    case T::Q4_K: return dequantize_blocks<block_q4_K>(blocks, y, n, QK_K);
    case T::Q5_K: return dequantize_blocks<block_q5_K>(blocks, y, n, QK_K);
    case T::Q6_K: return dequantize_blocks<block_q6_K>(blocks, y, n, QK_K);
    case T::Q8_K: return dequantize_blocks<block_q8_K>(blocks, y, n, QK_K);
    default: break;
  }
  throw Error(Errc::internal, "dequantize_row: no dequantizer for " + tensor_type_name(type));
}

}  // namespace qtr::quant
