// ops::matmul / matmul_many with two-term inputs (InputQuant::int8x2) against one term and against double
// precision: the second term must shrink the input rounding error by about two orders of magnitude, give the same
// bits for any thread count and ISA, and the fused matmul_many must equal separate matmuls.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/kernels.hpp"
#include "kernels/quant_blocks.hpp"
#include "ops/ops.hpp"

namespace qtr {
namespace {

using ops::InputQuant;

struct QuantizedWeights {
  std::vector<uint8_t> bytes;
  std::vector<double> dequant;  // [n_out][n_in]
  TensorView view;
};

QuantizedWeights make_weights(TensorType type, int64_t n_in, int64_t n_out, std::mt19937& rng) {
  QuantizedWeights w;
  const size_t row_bytes = quant::row_size(type, n_in);
  w.bytes.resize(row_bytes * static_cast<size_t>(n_out));
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> row(static_cast<size_t>(n_in)), back(static_cast<size_t>(n_in));
  for (int64_t r = 0; r < n_out; ++r) {
    for (auto& v : row) v = normal(rng);
    quant::quantize_row(type, row.data(), w.bytes.data() + r * row_bytes, n_in);
    quant::dequantize_row(type, w.bytes.data() + r * row_bytes, back.data(), n_in);
    w.dequant.insert(w.dequant.end(), back.begin(), back.end());
  }
  w.view.name = "w.weight";
  w.view.type = type;
  w.view.ne = {n_in, n_out};
  w.view.data = w.bytes;
  return w;
}

// Normalised activations with the outlier channels real models have after an RMSNorm.
std::vector<float> make_inputs(int64_t n_tokens, int64_t n_in, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n_tokens * n_in));
  for (size_t i = 0; i < x.size(); ++i) x[i] = normal(rng) * ((i % static_cast<size_t>(n_in)) % 37 == 5 ? 20.0f : 1.0f);
  return x;
}

ops::Matrix matrix(const QuantizedWeights& w, kernels::Isa isa, InputQuant inputs) {
  ops::WeightOptions options;
  options.isa = isa;
  options.inputs = inputs;
  return ops::Matrix::from_view(w.view, w.view.ne[0], w.view.ne[1], options, 1);
}

std::vector<float> run(const ops::Matrix& m, const std::vector<float>& x, int64_t n_tokens, int threads) {
  ops::Workspace ws;
  std::vector<float> y(static_cast<size_t>(n_tokens * m.n_out()), -1.0f);
  ops::matmul(m, x.data(), y.data(), n_tokens, threads, ws);
  return y;
}

// max over outputs of |y - exact| / sum_i |w_i x_i| (the error relative to the product's magnitude).
double max_relative_error(const QuantizedWeights& w, const std::vector<float>& x, const std::vector<float>& y,
                          int64_t n_in, int64_t n_out, int64_t n_tokens) {
  double worst = 0;
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t r = 0; r < n_out; ++r) {
      double exact = 0, magnitude = 0;
      for (int64_t i = 0; i < n_in; ++i) {
        const double term = w.dequant[static_cast<size_t>(r * n_in + i)] * x[static_cast<size_t>(t * n_in + i)];
        exact += term;
        magnitude += std::fabs(term);
      }
      worst = std::max(worst, std::fabs(y[static_cast<size_t>(t * n_out + r)] - exact) / magnitude);
    }
  }
  return worst;
}

kernels::Isa best_isa() { return kernels::select_isa(nullptr); }

TEST(MatmulInputs, TwoTermsShrinkTheInputRoundingErrorForEveryWeightType) {
  std::mt19937 rng(7);
  const int64_t n_in = 512, n_out = 37, n_tokens = 5;
  const auto x = make_inputs(n_tokens, n_in, rng);
  for (TensorType type : {TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0, TensorType::Q8_0, TensorType::Q4_K,
                          TensorType::Q5_K, TensorType::Q6_K}) {
    SCOPED_TRACE(tensor_type_name(type));
    const auto w = make_weights(type, n_in, n_out, rng);
    const double one = max_relative_error(w, x, run(matrix(w, best_isa(), InputQuant::int8), x, n_tokens, 2), n_in,
                                          n_out, n_tokens);
    const double two = max_relative_error(w, x, run(matrix(w, best_isa(), InputQuant::int8x2), x, n_tokens, 2), n_in,
                                          n_out, n_tokens);
    // One int8 term rounds each input by up to 1/254 of its block's largest value; the second term by 1/254 of
    // that again, leaving float rounding (~1e-6 relative) as the floor.
    // One int8 term rounds each input by up to 1/254 of its block's largest value (measured here: 4e-3 to 6e-3
    // of the product's magnitude); the second term rounds that remainder by 1/254 again (measured: ~2e-5).
    EXPECT_GT(one, 1e-3);
    EXPECT_LT(one, 1.0 / 127);
    EXPECT_LT(two, 1e-4);
    EXPECT_LT(two * 100, one);
  }
}

TEST(MatmulInputs, TwoTermResultsAreTheSameBitsForAnyThreadCountAndIsa) {
  std::mt19937 rng(11);
  const int64_t n_in = 256;
  for (int64_t n_out : {1, 16, 45}) {
    for (int64_t n_tokens : {1, 2, 7, 9}) {
      SCOPED_TRACE("n_out " + std::to_string(n_out) + " tokens " + std::to_string(n_tokens));
      const auto w = make_weights(TensorType::Q4_0, n_in, n_out, rng);
      const auto x = make_inputs(n_tokens, n_in, rng);
      const auto want = run(matrix(w, kernels::Isa::scalar, InputQuant::int8x2), x, n_tokens, 1);
      for (kernels::Isa isa : {kernels::Isa::scalar, kernels::Isa::avx2, kernels::Isa::avx512vnni, kernels::Isa::neon}) {
        if (!kernels::isa_supported(isa)) continue;
        for (int threads : {1, 2, 3}) {
          const auto got = run(matrix(w, isa, InputQuant::int8x2), x, n_tokens, threads);
          EXPECT_EQ(0, std::memcmp(got.data(), want.data(), sizeof(float) * want.size()))
              << kernels::isa_name(isa) << ", " << threads << " threads";
        }
      }
    }
  }
}

TEST(MatmulInputs, MatmulManyEqualsSeparateMatmuls) {
  std::mt19937 rng(5);
  const int64_t n_in = 384, n_tokens = 6;
  for (InputQuant inputs : {InputQuant::int8, InputQuant::int8x2}) {
    const auto wa = make_weights(TensorType::Q8_0, n_in, 70, rng);
    const auto wb = make_weights(TensorType::Q8_0, n_in, 33, rng);
    const auto x = make_inputs(n_tokens, n_in, rng);
    const ops::Matrix a = matrix(wa, best_isa(), inputs), b = matrix(wb, best_isa(), inputs);
    std::vector<float> ya(static_cast<size_t>(n_tokens * 70)), yb(static_cast<size_t>(n_tokens * 33));
    ops::Workspace ws;
    const ops::MatmulOutput outputs[] = {{&a, ya.data()}, {&b, yb.data()}};
    ops::matmul_many(outputs, x.data(), n_tokens, 2, ws);
    const auto want_a = run(a, x, n_tokens, 1), want_b = run(b, x, n_tokens, 1);
    EXPECT_EQ(0, std::memcmp(ya.data(), want_a.data(), sizeof(float) * ya.size()));
    EXPECT_EQ(0, std::memcmp(yb.data(), want_b.data(), sizeof(float) * yb.size()));
  }
}

TEST(MatmulInputs, TwoTermsEqualTheKernelOverMainAndResidualRows) {
  // The definition, spelled out: quantize_activations_x2 rows through the kernel, each token's pair added.
  std::mt19937 rng(3);
  const int64_t n_in = 128, n_out = 20, n_tokens = 3;
  const auto w = make_weights(TensorType::Q4_1, n_in, n_out, rng);
  const auto x = make_inputs(n_tokens, n_in, rng);
  const ops::Matrix m = matrix(w, best_isa(), InputQuant::int8x2);
  std::vector<kernels::ActBlock> act(static_cast<size_t>(2 * n_tokens * n_in / kernels::kActBlock));
  kernels::quantize_activations_x2(x.data(), n_tokens, n_in, n_in, act.data());
  std::vector<float> terms(static_cast<size_t>(2 * n_tokens * n_out));
  m.kernel()->gemm(m.packed(), n_out, n_in, 0, (n_out + m.kernel()->tile_rows - 1) / m.kernel()->tile_rows,
                   act.data(), 2 * n_tokens, terms.data(), n_out);
  const auto got = run(m, x, n_tokens, 2);
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t r = 0; r < n_out; ++r) {
      const float want = terms[static_cast<size_t>(2 * t * n_out + r)] + terms[static_cast<size_t>((2 * t + 1) * n_out + r)];
      EXPECT_EQ(want, got[static_cast<size_t>(t * n_out + r)]);
    }
  }
}

}  // namespace
}  // namespace qtr
