// Ops — the numerical building blocks the model graphs are written in. They know tensors and threads; the kernels
// below them know only pointers and sizes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "qtr/tensor.hpp"

namespace qtr::ops {

// A weight matrix of n_out rows of n_in elements, in the form its kernel reads. F32 tensors are used in place
// (zero-copy from the mapped file); F16/BF16 are converted to F32 once at load.
class Matrix {
 public:
  Matrix() = default;
  // Checks the view's shape is {n_in, n_out} and its type is supported; throws qtr::Error naming the tensor.
  static Matrix from_view(const TensorView& view, int64_t n_in, int64_t n_out);

  int64_t n_in() const { return n_in_; }
  int64_t n_out() const { return n_out_; }
  const float* row(int64_t r) const { return data_ + r * n_in_; }
  const float* data() const { return data_; }

 private:
  int64_t n_in_ = 0, n_out_ = 0;
  const float* data_ = nullptr;
  std::vector<float> owned_;
};

// A vector of n floats (norm weights, biases), copied/converted to F32 at load.
std::vector<float> load_vector(const TensorView& view, int64_t n);

// Throws "unsupported tensor type Q5_K in blk.0.ffn_down" unless `view.type` is one of F32/F16/BF16.
void require_float_type(const TensorView& view);

// y[t] = W x[t] for t in [0, n_tokens); x: [n_tokens][n_in], y: [n_tokens][n_out], rows split over threads.
void matmul(const Matrix& w, const float* x, float* y, int64_t n_tokens, int n_threads);

// y = x / rms(x) * weight, row by row over n_rows rows of n.
void rmsnorm(const float* x, const float* weight, float* y, int64_t n, int64_t n_rows, float eps);

// Rotary position embedding, GGML "normal" mode (adjacent pairs (x[2i], x[2i+1]) rotated), over the first n_rot
// dimensions of each of n_heads heads of head_dim, at position pos.
void rope_normal(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float freq_base);

// h[i] = silu(gate[i]) * up[i]
void silu_mul(const float* gate, const float* up, float* h, int64_t n);

// x[i] += y[i]
void add_inplace(float* x, const float* y, int64_t n);

}  // namespace qtr::ops
