// The attention loop, written once and compiled in each ISA's file with that file's flags (the compiler
// vectorises the head_dim loops and the softmax). Included only by kernels/*/attention__*.cpp; everything here has
// internal linkage, so each file keeps its own copy.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/attention.hpp"

namespace qtr::kernels {
namespace {

// exp(x) for x <= 0 (softmax arguments), to ~2 ulp, in plain arithmetic the compiler can vectorise:
// 2^(x log2 e) split into an integer power (exponent bits) and a degree-6 polynomial on [-0.5, 0.5].
inline float exp_nonpositive(float x) {
  x = x < -87.0f ? -87.0f : x;
  const float t = x * 1.44269504088896341f;
  const float n = (t + 12582912.0f) - 12582912.0f;  // round to nearest even (|t| < 2^22), vectorisable
  const float f = t - n;
  float p = 1.535336188319500e-4f;
  p = p * f + 1.339887440266574e-3f;
  p = p * f + 9.618437357674640e-3f;
  p = p * f + 5.550332471162809e-2f;
  p = p * f + 2.402264791363012e-1f;
  p = p * f + 6.931472028550421e-1f;
  p = p * f + 1.0f;
  int32_t bits;
  std::memcpy(&bits, &p, 4);
  bits += static_cast<int32_t>(n) << 23;
  std::memcpy(&p, &bits, 4);
  return p;
}

// Sums with L independent lanes, combined in a fixed order: the compiler vectorises these loops without
// reassociating floating-point additions (which it may not do on its own).
constexpr int64_t L = 16;

inline float dot(const float* a, const float* b, int64_t n) {
  float lanes[L] = {};
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    for (int64_t l = 0; l < L; ++l) lanes[l] += a[i + l] * b[i + l];
  }
  for (; i < n; ++i) lanes[i % L] += a[i] * b[i];
  for (int64_t w = L / 2; w > 0; w /= 2) {
    for (int64_t l = 0; l < w; ++l) lanes[l] += lanes[l + w];
  }
  return lanes[0];
}

inline void attention_rows(const AttentionArgs& a, int64_t row_begin, int64_t row_end) {
  const int64_t d = a.head_dim, q_row = a.n_head * d, kv_row = a.n_head_kv * d;
  const int64_t group = a.n_head / a.n_head_kv;
  float* scores = a.scratch;
  for (int64_t r = row_begin; r < row_end; ++r) {
    const int64_t t = r / a.n_head, h = r % a.n_head;
    const int64_t last = a.pos0 + t;  // the query's position
    const int64_t first = a.window > 0 && last >= a.window ? last - a.window + 1 : 0;
    const int64_t n_keys = last - first + 1;  // keys first .. last; scores[j] belongs to key first + j
    const float* qh = a.q + t * q_row + h * d;
    const float* kbase = a.k + first * kv_row + (h / group) * d;
    const float* vbase = a.v + first * kv_row + (h / group) * d;
    for (int64_t j = 0; j < n_keys; ++j) scores[j] = dot(qh, kbase + j * kv_row, d) * a.scale;
    float max_lanes[L];
    for (int64_t l = 0; l < L; ++l) max_lanes[l] = -INFINITY;
    for (int64_t j = 0; j < n_keys; ++j) max_lanes[j % L] = scores[j] > max_lanes[j % L] ? scores[j] : max_lanes[j % L];
    float max_score = max_lanes[0];
    for (int64_t l = 1; l < L; ++l) max_score = max_lanes[l] > max_score ? max_lanes[l] : max_score;
    float sum_lanes[L] = {};
    for (int64_t j = 0; j < n_keys; ++j) {
      scores[j] = exp_nonpositive(scores[j] - max_score);
      sum_lanes[j % L] += scores[j];
    }
    float sum = 0.0f;
    for (int64_t l = 0; l < L; ++l) sum += sum_lanes[l];
    float* oh = a.out + t * q_row + h * d;
    for (int64_t i = 0; i < d; ++i) oh[i] = 0.0f;
    for (int64_t j = 0; j < n_keys; ++j) {
      const float p = scores[j];
      const float* vj = vbase + j * kv_row;
      for (int64_t i = 0; i < d; ++i) oh[i] += p * vj[i];
    }
    const float inv = 1.0f / sum;
    for (int64_t i = 0; i < d; ++i) oh[i] *= inv;
  }
}

}  // namespace
}  // namespace qtr::kernels
