// Kernel conformance: for every registered matmul kernel whose ISA this machine (or emulator) supports, over edge
// shapes (rows 1..2 tiles and odd counts, K of 1..many blocks, 1..17 tokens, strided outputs, partial tile ranges):
//  1. the kernel's output equals the scalar reference kernel's bit for bit (integer dot products are exact and the
//     float accumulation order is fixed, so equality is exact, not approximate);
//  2. the scalar reference agrees with a double-precision product of the dequantized weights and activations,
//     within n_blocks * 2^-22 * sum |terms|;
//  3. rows outside the requested tiles and padding lanes are never written;
//  4. a kernel's two-term form (gemm_x2), where it has one, equals gemm over the pairs of rows, each pair added.
// Prints one line per kernel and a closing "N passed, N failed"; exits non-zero on any failure.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/matmul.hpp"
#include "kernels/quant_blocks.hpp"

namespace {

using namespace qtr;
using namespace qtr::kernels;

struct Case {
  int64_t n_rows, k, n_tokens;
  int64_t tile_begin, tile_end;  // -1: all tiles
};

struct Buffers {
  std::vector<uint8_t> gguf;      // n_rows GGUF rows
  std::vector<float> dequant;     // [n_rows][k]
  std::vector<ActBlock> act;      // [n_tokens][k/32]
};

Buffers make_inputs(TensorType type, const Case& c, std::mt19937& rng) {
  Buffers b;
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const size_t row_bytes = quant::row_size(type, c.k);
  b.gguf.resize(row_bytes * static_cast<size_t>(c.n_rows));
  b.dequant.resize(static_cast<size_t>(c.n_rows * c.k));
  std::vector<float> row(static_cast<size_t>(c.k));
  for (int64_t r = 0; r < c.n_rows; ++r) {
    const float scale = r % 5 == 0 ? 100.0f : r % 3 == 0 ? 0.01f : 1.0f;
    for (auto& v : row) v = normal(rng) * scale;
    if (r % 7 == 3) std::fill(row.begin(), row.end(), 0.0f);  // an all-zero row (d = 0)
    quant::quantize_row(type, row.data(), b.gguf.data() + r * row_bytes, c.k);
    quant::dequantize_row(type, b.gguf.data() + r * row_bytes, b.dequant.data() + r * c.k, c.k);
  }
  std::vector<float> x(static_cast<size_t>(c.n_tokens * c.k));
  for (size_t i = 0; i < x.size(); ++i) x[i] = normal(rng) * (i % 97 == 0 ? 50.0f : 1.0f);
  b.act.resize(static_cast<size_t>(c.n_tokens * c.k / kActBlock));
  quantize_activations(x.data(), c.n_tokens, c.k, c.k, b.act.data());
  return b;
}

// y for tiles [tb, te) with a sentinel everywhere else; y_stride > n_rows to catch stray writes.
std::vector<float> run(const MatmulKernel& kernel, const Buffers& b, const Case& c, int64_t y_stride) {
  std::vector<uint8_t> packed(kernel.packed_size(c.n_rows, c.k) + 64);
  uint8_t* aligned = packed.data() + (64 - reinterpret_cast<uintptr_t>(packed.data()) % 64) % 64;
  const int64_t n_tiles = (c.n_rows + kernel.tile_rows - 1) / kernel.tile_rows;
  kernel.pack(b.gguf.data(), c.n_rows, c.k, aligned, 0, n_tiles);
  std::vector<float> y(static_cast<size_t>(c.n_tokens * y_stride), -12345.0f);
  // Case ranges count 16-row tiles; a kernel whose tile is smaller (in-place kernels: one row) scales them.
  const int64_t per = 16 / kernel.tile_rows;
  const int64_t tb = c.tile_begin < 0 ? 0 : c.tile_begin * per;
  const int64_t te = c.tile_end < 0 ? n_tiles : std::min(n_tiles, c.tile_end * per);
  kernel.gemm(aligned, c.n_rows, c.k, tb, te, b.act.data(), c.n_tokens, y.data(), y_stride);
  return y;
}

int failures = 0;

void fail(const std::string& what) {
  if (failures < 20) std::fprintf(stderr, "  FAIL %s\n", what.c_str());
  ++failures;
}

// gemm_x2 over n = tokens / 2 pairs of act rows must give, bit for bit, gemm over the 2n rows with each pair added
// (main first), and write nothing outside the requested rows.
void check_pairs(const MatmulKernel& kernel, const Buffers& b, const Case& c, int64_t y_stride, const std::string& label) {
  const int64_t n = c.n_tokens / 2;
  Case rows = c;
  rows.n_tokens = 2 * n;
  const auto terms = run(kernel, b, rows, y_stride);
  std::vector<uint8_t> packed(kernel.packed_size(c.n_rows, c.k) + 64);
  uint8_t* aligned = packed.data() + (64 - reinterpret_cast<uintptr_t>(packed.data()) % 64) % 64;
  const int64_t n_tiles = (c.n_rows + kernel.tile_rows - 1) / kernel.tile_rows;
  kernel.pack(b.gguf.data(), c.n_rows, c.k, aligned, 0, n_tiles);
  const int64_t per = 16 / kernel.tile_rows;
  const int64_t tb = c.tile_begin < 0 ? 0 : c.tile_begin * per;
  const int64_t te = c.tile_end < 0 ? n_tiles : std::min(n_tiles, c.tile_end * per);
  std::vector<float> y(static_cast<size_t>(n * y_stride), -12345.0f);
  kernel.gemm_x2(aligned, c.n_rows, c.k, tb, te, b.act.data(), n, y.data(), y_stride);
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t r = 0; r < y_stride; ++r) {
      const float main = terms[static_cast<size_t>(2 * t * y_stride + r)];
      const float residual = terms[static_cast<size_t>((2 * t + 1) * y_stride + r)];
      const bool inside = r < c.n_rows && r >= tb * kernel.tile_rows && r < te * kernel.tile_rows;
      const float want = inside ? main + residual : -12345.0f;
      const float got = y[static_cast<size_t>(t * y_stride + r)];
      if (std::memcmp(&got, &want, sizeof got) != 0) {
        fail(label + ": gemm_x2 differs from the summed pair at token " + std::to_string(t) + " row " +
             std::to_string(r));
        return;
      }
    }
  }
}

bool check_kernel(const MatmulKernel& kernel, const MatmulKernel& reference) {
  const int before = failures;
  std::mt19937 rng(1234);
  // K at one block, just above, odd counts of blocks (a half-filled last pair of the tile stream), many blocks.
  // K-quants come in super-blocks of 256.
  const int64_t block = tensor_type_info(kernel.weight_type).block_size;
  const std::vector<int64_t> ks = block == 256 ? std::vector<int64_t>{256, 512, 768}
                                               : std::vector<int64_t>{32, 64, 96, 256, 288};
  std::vector<Case> cases;
  for (int64_t rows : {1, 2, 7, 15, 16, 17, 31, 33, 48}) {
    for (int64_t k : ks) {
      for (int64_t tokens : {1, 2, 3, 4, 5, 7, 8, 9, 17}) cases.push_back({rows, k, tokens, -1, -1});
    }
  }
  cases.push_back({50, 2048, 3, 1, 3});     // a partial tile range
  cases.push_back({40, 256, 8, 2, 3});      // only the last, partial tile
  for (const Case& c : cases) {
    const Buffers b = make_inputs(kernel.weight_type, c, rng);
    const int64_t y_stride = c.n_rows + 5;
    const auto got = run(kernel, b, c, y_stride);
    const auto want = run(reference, b, c, y_stride);
    const std::string label = std::string(kernel.name) + " rows=" + std::to_string(c.n_rows) + " k=" +
                              std::to_string(c.k) + " tokens=" + std::to_string(c.n_tokens);
    if (std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) != 0) {
      for (size_t i = 0; i < got.size(); ++i) {
        if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0) {
          fail(label + ": differs from the scalar reference at " + std::to_string(i) + " (" +
               std::to_string(got[i]) + " vs " + std::to_string(want[i]) + ")");
          break;
        }
      }
    }
    if (kernel.gemm_x2 && c.n_tokens >= 2) check_pairs(kernel, b, c, y_stride, label);
    if (&kernel != &reference) continue;
    // The reference against double precision, and the untouched-rows contract.
    const int64_t n_tiles = (c.n_rows + kernel.tile_rows - 1) / kernel.tile_rows;
    const int64_t tb = c.tile_begin < 0 ? 0 : c.tile_begin, te = c.tile_end < 0 ? n_tiles : c.tile_end;
    const int64_t nb = c.k / kActBlock;
    for (int64_t t = 0; t < c.n_tokens; ++t) {
      for (int64_t r = 0; r < y_stride; ++r) {
        const float y = got[static_cast<size_t>(t * y_stride + r)];
        const bool inside = r < c.n_rows && r >= tb * kernel.tile_rows && r < te * kernel.tile_rows;
        if (!inside) {
          if (y != -12345.0f) fail(label + ": wrote outside the requested rows at row " + std::to_string(r));
          continue;
        }
        // With a min (x = s q + m) the kernel forms s * dot and m * sum(a), which can be much larger than the
        // result they cancel to: bound them per block with |m| <= max|x| and |s q| <= 2 max|x|.
        const TensorType wt = kernel.weight_type;
        const bool has_min = wt == TensorType::Q4_1 || wt == TensorType::Q5_1 || wt == TensorType::Q4_K ||
                             wt == TensorType::Q5_K;
        double exact = 0, magnitude = 0;
        for (int64_t blk = 0; blk < nb; ++blk) {
          const ActBlock& a = b.act[static_cast<size_t>(t * nb + blk)];
          double block_max = 0, activation_sum = 0;
          for (int64_t i = blk * kActBlock; i < (blk + 1) * kActBlock; ++i) {
            const double w = b.dequant[static_cast<size_t>(r * c.k + i)];
            const double term = w * a.d * a.qs[i % kActBlock];
            exact += term;
            magnitude += std::fabs(term);
            block_max = std::max(block_max, std::fabs(w));
            activation_sum += std::fabs(static_cast<double>(a.d) * a.qs[i % kActBlock]);
          }
          if (has_min) magnitude += 3 * block_max * activation_sum;
        }
        const double tolerance = static_cast<double>(nb + 2) * std::ldexp(1.0, -22) * magnitude + 1e-30;
        if (std::fabs(y - exact) > tolerance) {
          fail(label + ": reference off by " + std::to_string(std::fabs(y - exact)) + " at row " + std::to_string(r));
        }
      }
    }
  }
  return failures == before;
}

bool check_activation_quantization() {
  const int before = failures;
  std::vector<float> x(64);
  for (int i = 0; i < 64; ++i) x[i] = static_cast<float>(i - 31) * 0.37f;
  for (int i = 32; i < 64; ++i) x[i] = 0.0f;  // second block all zero
  std::vector<ActBlock> a(2);
  quantize_activations(x.data(), 1, 64, 64, a.data());
  int32_t sum = 0;
  for (int i = 0; i < 32; ++i) {
    const float q = std::nearbyint(x[i] / (a[0].d));
    if (std::fabs(q - a[0].qs[i]) > 1) fail("activation quantization off at " + std::to_string(i));
    sum += a[0].qs[i];
  }
  if (a[0].sum != sum) fail("activation block sum");
  if (std::fabs(a[0].d - 31 * 0.37f / 127.0f) > 1e-6f) fail("activation block scale");
  if (a[0].qs[0] != -127 || a[1].d != 0.0f || a[1].sum != 0) fail("activation extremes / zero block");
  return failures == before;
}

// quantize_activations_x2: the main rows are quantize_activations' bit for bit; each residual block quantizes
// x - d q (float, unfused) the same way, so what remains is at most half a residual step, 1/254^2 of the block's
// largest value.
bool check_two_term_quantization() {
  const int before = failures;
  std::mt19937 rng(99);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t n_tokens = 3, k = 256, nb = k / kActBlock;
  std::vector<float> x(static_cast<size_t>(n_tokens * k));
  for (size_t i = 0; i < x.size(); ++i) x[i] = normal(rng) * (i % 41 == 0 ? 30.0f : 1.0f);
  for (int i = 64; i < 96; ++i) x[static_cast<size_t>(i)] = 0.0f;                 // an all-zero block
  for (int i = 96; i < 128; ++i) x[static_cast<size_t>(i)] = (i % 2 ? 1 : -1) * 0.5f;  // exact in one term
  std::vector<ActBlock> one(static_cast<size_t>(n_tokens * nb)), two(static_cast<size_t>(2 * n_tokens * nb));
  quantize_activations(x.data(), n_tokens, k, k, one.data());
  quantize_activations_x2(x.data(), n_tokens, k, k, two.data());
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t b = 0; b < nb; ++b) {
      const ActBlock& o = one[static_cast<size_t>(t * nb + b)];
      const ActBlock& m = two[static_cast<size_t>(2 * t * nb + b)];
      const ActBlock& r = two[static_cast<size_t>((2 * t + 1) * nb + b)];
      const std::string at = "token " + std::to_string(t) + " block " + std::to_string(b);
      if (std::memcmp(&o, &m, sizeof o) != 0) fail("two-term main block differs from one term at " + at);
      if (!(r.d <= m.d / 254.0f * 1.0001f)) fail("residual scale above d / 254 at " + at);
      int32_t sum = 0;
      for (int i = 0; i < kActBlock; ++i) {
        const double v = x[static_cast<size_t>(t * k + b * kActBlock + i)];
        const double left = v - static_cast<double>(m.d) * m.qs[i] - static_cast<double>(r.d) * r.qs[i];
        if (std::fabs(left) > 0.5 * r.d * 1.001 + 1e-7 * std::fabs(v)) fail("two-term rounding too large at " + at);
        sum += r.qs[i];
      }
      if (sum != r.sum) fail("residual block sum at " + at);
    }
  }
  const ActBlock& zero_residual = two[static_cast<size_t>(nb + 2)];
  const ActBlock& exact_residual = two[static_cast<size_t>(nb + 3)];
  if (zero_residual.d != 0.0f || exact_residual.d != 0.0f) fail("residual of an exactly quantized block is not 0");
  return failures == before;
}

}  // namespace

int main() {
  int passed = 0, failed = 0;
  auto report = [&](bool ok, const std::string& what) {
    std::printf("%-44s %s\n", what.c_str(), ok ? "ok" : "FAILED");
    (ok ? passed : failed) += 1;
  };
  report(check_activation_quantization(), "quantize_activations");
  report(check_two_term_quantization(), "quantize_activations_x2");
  for (const MatmulKernel& kernel : all_matmul_kernels()) {
    if (!isa_supported(kernel.isa)) {
      std::printf("%-44s skipped (this CPU lacks %s)\n", std::string(kernel.name).c_str(), isa_name(kernel.isa));
      continue;
    }
    const MatmulKernel* reference = find_matmul_kernel(kernel.weight_type, Isa::scalar);
    if (!reference) {
      report(false, std::string(kernel.name) + " (no scalar reference)");
      continue;
    }
    report(check_kernel(kernel, *reference), std::string(kernel.name));
  }
  std::printf("kernel conformance: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
