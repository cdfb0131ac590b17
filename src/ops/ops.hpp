// Ops — the numerical building blocks the model graphs are written in. They know tensors and threads; the kernels
// below them know only pointers and sizes.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kernels/matmul.hpp"
#include "qtr/tensor.hpp"

namespace qtr::ops {

// How a quantized matrix's float inputs are quantized for its integer kernel, per call:
//   int8:   one int8 term per block of 32 (scale max|x| / 127): llama.cpp's scheme, the least work;
//   int8x2: that term plus a second one quantizing its residual (kernels::quantize_activations_x2): inputs carried
//           to about 15 bits for twice the integer work (the weights are still read once).
enum class InputQuant { int8, int8x2 };

// How weights are prepared at load: which ISA's kernels, and whether to repack quantized weights into tiles.
struct WeightOptions {
  kernels::Isa isa = kernels::Isa::scalar;
  bool repack = true;  // false: quantized weights stay in the mapped GGUF rows, used by the in-place kernels
  bool release_mapped_source = false;  // the views come from a file mapping whose packed pages may be dropped
  InputQuant inputs = InputQuant::int8;

  // The same with one-term inputs: for the matmuls whose inputs int8 already serves well (attention output, output
  // head; docs/accuracy.md), where a second term would cost work and buy almost nothing.
  WeightOptions with_int8_inputs() const {
    WeightOptions o = *this;
    o.inputs = InputQuant::int8;
    return o;
  }
};

// Scratch memory reused across calls (owned by a Session), so a forward pass allocates nothing once warm.
struct Workspace {
  std::vector<kernels::ActBlock> act;    // quantized activations of the current matmul
  std::vector<float> terms;              // InputQuant::int8x2: the kernel's two results per token, before the sum
  std::vector<std::vector<float>> f32;   // activation buffers, by slot

  // Buffer `slot` with room for n floats (grown, never shrunk).
  float* buffer(size_t slot, size_t n) {
    if (f32.size() <= slot) f32.resize(slot + 1);
    if (f32[slot].size() < n) f32[slot].resize(n);
    return f32[slot].data();
  }
};

// A weight matrix of n_out rows of n_in elements, in the form its kernel reads:
//  - Q4_0, Q4_1, Q4_K, Q5_0, Q5_1, Q5_K, Q6_K, Q8_0: packed once into interleaved tiles for the chosen ISA's kernel
//    (the mapped original is not touched again);
//  - F32: used in place (zero-copy from the mapped file);
//  - F16 / BF16 / other dequantizable GGUF types: converted to F32 once (no integer kernel for them).
class Matrix {
 public:
  Matrix() = default;
  // Checks the view's shape is {n_in, n_out} and its type is supported; throws qtr::Error naming the tensor.
  static Matrix from_view(const TensorView& view, int64_t n_in, int64_t n_out, const WeightOptions& options,
                          int n_threads);

  int64_t n_in() const { return n_in_; }
  int64_t n_out() const { return n_out_; }
  const kernels::MatmulKernel* kernel() const { return kernel_; }  // nullptr: F32 path
  InputQuant inputs() const { return inputs_; }                     // (quantized matrices only)
  kernels::GemmF32Fn f32_kernel() const { return f32_kernel_; }
  const float* f32() const { return f32_; }
  const uint8_t* packed() const { return in_place_ ? in_place_ : packed_.get(); }
  size_t bytes() const;  // memory the weights occupy in their compute form

 private:
  struct FreeAligned {
    void operator()(uint8_t* p) const;
  };
  int64_t n_in_ = 0, n_out_ = 0;
  const kernels::MatmulKernel* kernel_ = nullptr;
  InputQuant inputs_ = InputQuant::int8;
  kernels::GemmF32Fn f32_kernel_ = nullptr;
  std::unique_ptr<uint8_t[], FreeAligned> packed_;
  const uint8_t* in_place_ = nullptr;  // the mapped GGUF rows, for in-place kernels
  size_t packed_bytes_ = 0;
  const float* f32_ = nullptr;
  std::vector<float> owned_;
};

// Row lookup in a token-embedding table of any supported type: out[0..n_embd) = row `token`, as floats.
class Embedding {
 public:
  Embedding() = default;
  static Embedding from_view(const TensorView& view, int64_t n_embd, int64_t n_vocab);
  void lookup(int32_t token, float* out) const;
  const TensorView& view() const { return view_; }

 private:
  TensorView view_;
  size_t row_bytes_ = 0;
};

// A vector of n floats (norm weights, biases), copied/converted to F32 at load.
std::vector<float> load_vector(const TensorView& view, int64_t n);

// y[t] = W x[t] for t in [0, n_tokens); x: [n_tokens][n_in], y: [n_tokens][n_out], rows split over threads.
void matmul(const Matrix& w, const float* x, float* y, int64_t n_tokens, int n_threads, Workspace& ws);

// Several matrices applied to the same input (Q/K/V, gate/up): the input is quantized once when they share a
// kernel, and the products run back to back in one parallel region, each thread on its share of every matrix.
struct MatmulOutput {
  const Matrix* w;
  float* y;  // [n_tokens][w->n_out()]
};
void matmul_many(std::span<const MatmulOutput> outputs, const float* x, int64_t n_tokens, int n_threads,
                 Workspace& ws);

// The model's head for the rows that want outputs: rows `rows` of x ([.][n_embd]) gathered into `scratch`
// ([rows.size()][n_embd]), normalised (rmsnorm ⊙ norm), copied to `hidden` when given, and projected by `output`
// into `logits` ([rows.size()][n_vocab]) when given.
void output_head(const float* x, std::span<const int64_t> rows, const float* norm, int64_t n_embd, float eps,
                 const Matrix& output, float* scratch, float* logits, float* hidden, int n_threads, Workspace& ws);

// y = x / rms(x) * weight, row by row over n_rows rows of n.
void rmsnorm(const float* x, const float* weight, float* y, int64_t n, int64_t n_rows, float eps);

// Rotary position embedding, GGML "normal" mode (adjacent pairs (x[2i], x[2i+1]) rotated), over the first n_rot
// dimensions of each of n_heads heads of head_dim, at position pos: pair i turns by
//   theta_i = pos * freq_scale * freq_base^(-2i/n_rot) / freq_factors[i]
// freq_scale < 1 is linear position interpolation (GGUF rope.scaling.type = linear: 1/factor); freq_factors
// ([n_rot/2], GGUF rope_freqs.weight; nullptr: all 1) stretch each frequency (Llama 3.1's "llama3" scaling).
void rope_normal(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float freq_base,
                 float freq_scale = 1.0f, const float* freq_factors = nullptr);

// The same over the two halves of each head (x[i], x[i + n_rot/2]): GGML's "neox" mode, HF's rotate_half.
void rope_neox(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float freq_base,
               float freq_scale = 1.0f, const float* freq_factors = nullptr);

// x[r][i] += b[i] for n_rows rows of n.
void add_rows(float* x, const float* b, int64_t n, int64_t n_rows);

// h[i] = silu(gate[i]) * up[i]
void silu_mul(const float* gate, const float* up, float* h, int64_t n, int n_threads = 1);

// h[i] = gelu(gate[i]) * up[i], GELU in its tanh approximation (GeGLU: Gemma's feed-forward)
void gelu_tanh_mul(const float* gate, const float* up, float* h, int64_t n, int n_threads = 1);

// x[i] *= s
void scale_inplace(float* x, float s, int64_t n);

// x[i] += y[i]
void add_inplace(float* x, const float* y, int64_t n);

}  // namespace qtr::ops
