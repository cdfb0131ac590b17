#include <algorithm>
#include <cmath>

#include "ops.hpp"

namespace qtr::ops {

void rmsnorm(const float* x, const float* weight, float* y, int64_t n, int64_t n_rows, float eps) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(xr[i]) * xr[i];
    const float scale = static_cast<float>(1.0 / std::sqrt(sum / static_cast<double>(n) + eps));
    for (int64_t i = 0; i < n; ++i) yr[i] = xr[i] * scale * weight[i];
  }
}

namespace {
// The angle pair i turns by at `pos` (see ops.hpp), in double so that long positions keep their precision.
double rope_theta(int64_t i, int64_t n_rot, int64_t pos, float freq_base, float freq_scale, const float* freq_factors) {
  const double inv_freq = std::pow(static_cast<double>(freq_base), -2.0 * static_cast<double>(i) / static_cast<double>(n_rot));
  const double factor = freq_factors ? static_cast<double>(freq_factors[i]) : 1.0;
  return static_cast<double>(pos) * static_cast<double>(freq_scale) * inv_freq / factor;
}
}  // namespace

void rope_normal(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float freq_base,
                 float freq_scale, const float* freq_factors) {
  for (int64_t i = 0; i < n_rot / 2; ++i) {
    const double theta = rope_theta(i, n_rot, pos, freq_base, freq_scale, freq_factors);
    const float c = static_cast<float>(std::cos(theta)), s = static_cast<float>(std::sin(theta));
    for (int64_t h = 0; h < n_heads; ++h) {
      float* p = x + h * head_dim + 2 * i;
      const float x0 = p[0], x1 = p[1];
      p[0] = x0 * c - x1 * s;
      p[1] = x0 * s + x1 * c;
    }
  }
}

void rope_neox(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float freq_base,
               float freq_scale, const float* freq_factors) {
  const int64_t half = n_rot / 2;
  for (int64_t i = 0; i < half; ++i) {
    const double theta = rope_theta(i, n_rot, pos, freq_base, freq_scale, freq_factors);
    const float c = static_cast<float>(std::cos(theta)), s = static_cast<float>(std::sin(theta));
    for (int64_t h = 0; h < n_heads; ++h) {
      float* p = x + h * head_dim;
      const float x0 = p[i], x1 = p[i + half];
      p[i] = x0 * c - x1 * s;
      p[i + half] = x0 * s + x1 * c;
    }
  }
}

void add_rows(float* x, const float* b, int64_t n, int64_t n_rows) {
  for (int64_t r = 0; r < n_rows; ++r) {
    for (int64_t i = 0; i < n; ++i) x[r * n + i] += b[i];
  }
}

namespace {

// f(i) for i in [0, n), split over n_threads when n is large enough to pay for waking them. Each element is
// computed the same way whichever thread computes it, so the results do not depend on the thread count.
template <class F>
void for_each_element(int64_t n, int n_threads, F f) {
  constexpr int64_t kMinPerThread = 4096;
  const int threads = static_cast<int>(std::min<int64_t>(n_threads, std::max<int64_t>(1, n / kMinPerThread)));
  if (threads <= 1) {
    for (int64_t i = 0; i < n; ++i) f(i);
    return;
  }
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t i = 0; i < n; ++i) f(i);
}

}  // namespace

void silu_mul(const float* gate, const float* up, float* h, int64_t n, int n_threads) {
  for_each_element(n, n_threads, [=](int64_t i) { h[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i]; });
}

void gelu_tanh_mul(const float* gate, const float* up, float* h, int64_t n, int n_threads) {
  // 0.5 g (1 + tanh(u)) = g / (1 + exp(-2u)): one expf instead of a tanhf (which is expm1f and more).
  constexpr float kTwoSqrt2OverPi = 2.0f * 0.7978845608028654f;
  for_each_element(n, n_threads, [=](int64_t i) {
    const float g = gate[i];
    h[i] = g / (1.0f + std::exp(-kTwoSqrt2OverPi * (g + 0.044715f * g * g * g))) * up[i];
  });
}

void scale_inplace(float* x, float s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] *= s;
}

void add_inplace(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

}  // namespace qtr::ops
