// The scalar paged attention kernels (kernels/attention_paged.hpp) against attention computed in double precision
// with explicit scores and softmax, over the edge cases of the conformance program (tests/kernels): 1 key, page
// boundaries, windows of 1 / page_size / wider than the context with released (null) pages below them, GQA ratios
// 1, 4 and 8, head_dim 32 .. 256, decode and 7-token prefill. Also the KV row conversions (kernels/kv_store.hpp),
// page-size invariance, and the paged f32 kernel against today's contiguous attention_f32__scalar.
//
// Tolerances per query row, u = 2^-24, S = max over visible keys of scale * sum_x |q_x k_x|, V = max |v|:
//   f32 arithmetic:  tol32 = 2 V (2 (d + 2) u S + 2 (n_keys + 16) u)   (reassociated dots, exp, the weighted sum)
//   f16 storage:     each element is off by at most 2^-11 of itself (round to nearest), so a score by S 2^-11 and
//                    the output by 2 V S 2^-11 (softmax weights) + V 2^-11 (values); tol = that + tol32
//   q8_0 storage:    element x of a block with max |x| = a is off by at most a/254 (rounding q) + a 2^-11 (the fp16
//                    scale, times |q| <= 127 steps of a/127); so a score by scale * sum_x |q_x| e_x, the output by
//                    twice the largest of those times V plus the largest value error; tol = that + tol32.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "../kernels/paged_kv_fixture.hpp"
#include "kernels/attention.hpp"
#include "kernels/attention_paged.hpp"
#include "kernels/kv_store.hpp"
#include "kernels/quant_blocks.hpp"
#include "qtr/error.hpp"

namespace qtr {
namespace {

using kernels::KvType;
using kernels::PagedAttentionArgs;
using kernels::testing::make_paged_kv;
using kernels::testing::naive_attention_row;
using kernels::testing::PagedKvFixture;

struct Case {
  int64_t head_dim, n_head, n_head_kv, n_tokens, n_keys, window;
  std::string label() const {
    return "d=" + std::to_string(head_dim) + " heads=" + std::to_string(n_head) + "/" + std::to_string(n_head_kv) +
           " tokens=" + std::to_string(n_tokens) + " keys=" + std::to_string(n_keys) +
           " window=" + std::to_string(window);
  }
};

std::vector<Case> edge_cases() {
  struct Scenario {
    int64_t n_tokens, n_keys, window;
  };
  const Scenario scenarios[] = {{1, 1, 0},   {1, 15, 0},  {1, 16, 0},  {1, 17, 0},  {1, 50, 1},  {1, 50, 16},
                                {1, 50, 40}, {1, 20, 1000}, {7, 7, 0}, {7, 40, 0}, {7, 40, 16}, {7, 33, 5}};
  std::vector<Case> cases;
  for (int64_t d : {32, 64, 128, 256}) {
    for (int64_t ratio : {1, 4, 8}) {
      const int64_t n_head_kv = ratio == 8 ? 1 : 2;
      for (const Scenario& s : scenarios) cases.push_back({d, n_head_kv * ratio, n_head_kv, s.n_tokens, s.n_keys, s.window});
    }
  }
  return cases;
}

struct Problem {
  Case c;
  PagedKvFixture kv;
  std::vector<float> q;
  PagedAttentionArgs args;
};

Problem make_problem(KvType type, const Case& c, int64_t page_size, uint32_t seed) {
  std::mt19937 rng(seed);
  Problem p;
  p.c = c;
  const int64_t pos0 = c.n_keys - c.n_tokens;
  p.kv = make_paged_kv(type, page_size, c.n_head_kv, c.head_dim, c.n_keys,
                       kernels::testing::first_visible_key(pos0, c.window), rng);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  p.q.resize(static_cast<size_t>(c.n_tokens * c.n_head * c.head_dim));
  for (auto& x : p.q) x = normal(rng);
  p.args.q = p.q.data();
  p.args.out = nullptr;
  p.args.n_tokens = c.n_tokens;
  p.args.pos0 = pos0;
  p.args.n_head = c.n_head;
  p.args.n_head_kv = c.n_head_kv;
  p.args.head_dim = c.head_dim;
  p.args.scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  p.args.window = c.window;
  p.args.kv = p.kv.view();
  return p;
}

std::vector<float> run_scalar(const Problem& p) {
  std::vector<float> out(p.q.size(), -12345.0f);
  PagedAttentionArgs args = p.args;
  args.out = out.data();
  kernels::find_paged_attention(kernels::Isa::scalar, p.kv.type)(args, 0, p.c.n_tokens * p.c.n_head);
  return out;
}

// The tolerance of query row (t, h) against double-precision attention over the rows as written (see the top).
double row_tolerance(const Problem& p, int64_t t, int64_t h) {
  const int64_t d = p.c.head_dim, kv_dim = p.c.n_head_kv * d, g = h / (p.c.n_head / p.c.n_head_kv);
  const int64_t last = p.args.pos0 + t, first = kernels::testing::first_visible_key(last, p.c.window);
  const float* q = p.q.data() + (t * p.c.n_head + h) * d;
  const double u = std::ldexp(1.0, -24), half_ulp = std::ldexp(1.0, -11);
  double s_max = 0, v_max = 0, score_error = 0, value_error = 0;
  for (int64_t j = first; j <= last; ++j) {
    const float* k = p.kv.k.data() + j * kv_dim + g * d;
    const float* v = p.kv.v.data() + j * kv_dim + g * d;
    double s = 0, e = 0;
    for (int64_t b = 0; b < d; b += 32) {
      double k_amax = 0, v_amax = 0;
      for (int64_t x = b; x < b + 32 && x < d; ++x) {
        k_amax = std::max(k_amax, static_cast<double>(std::fabs(k[x])));
        v_amax = std::max(v_amax, static_cast<double>(std::fabs(v[x])));
      }
      for (int64_t x = b; x < b + 32 && x < d; ++x) {
        const double qk = std::fabs(static_cast<double>(q[x]) * k[x]);
        s += qk;
        v_max = std::max(v_max, static_cast<double>(std::fabs(v[x])));
        if (p.kv.type == KvType::f16) {
          e += qk * half_ulp;
          value_error = std::max(value_error, std::fabs(v[x]) * half_ulp);
        } else if (p.kv.type == KvType::q8_0) {
          e += std::fabs(q[x]) * k_amax * (1.0 / 254 + half_ulp) * 1.001;
          value_error = std::max(value_error, v_amax * (1.0 / 254 + half_ulp) * 1.001);
        }
      }
    }
    s_max = std::max(s_max, s * p.args.scale);
    score_error = std::max(score_error, e * p.args.scale);
  }
  const double tol32 = 2 * v_max * (2 * static_cast<double>(d + 2) * u * s_max +
                                    2 * static_cast<double>(last - first + 1 + 16) * u);
  return tol32 + 2 * score_error * v_max + value_error;
}

void expect_matches_double(KvType type) {
  uint32_t seed = 1;
  for (const Case& c : edge_cases()) {
    const Problem p = make_problem(type, c, 16, seed++);
    const auto out = run_scalar(p);
    double worst = 0;
    for (int64_t t = 0; t < c.n_tokens; ++t) {
      for (int64_t h = 0; h < c.n_head; ++h) {
        // Against the rows as written (not as cached): the difference is the format's rounding plus f32's.
        const auto exact = naive_attention_row(p.q.data(), p.kv.k, p.kv.v, t, h, p.args.pos0, c.n_head, c.n_head_kv,
                                               c.head_dim, p.args.scale, c.window);
        const double tol = row_tolerance(p, t, h);
        for (int64_t x = 0; x < c.head_dim; ++x) {
          const double got = out[static_cast<size_t>((t * c.n_head + h) * c.head_dim + x)];
          const double diff = std::fabs(got - exact[static_cast<size_t>(x)]);
          worst = std::max(worst, diff / tol);
          ASSERT_LE(diff, tol) << kernels::kv_type_name(type) << " " << c.label() << " token " << t << " head " << h
                               << " element " << x;
        }
      }
    }
    EXPECT_LE(worst, 1.0);
  }
}

TEST(PagedAttention, ScalarF32MatchesDoublePrecision) { expect_matches_double(KvType::f32); }
TEST(PagedAttention, ScalarF16MatchesDoublePrecisionWithinHalfRounding) { expect_matches_double(KvType::f16); }
TEST(PagedAttention, ScalarQ8_0MatchesDoublePrecisionWithinBlockRounding) { expect_matches_double(KvType::q8_0); }

// The f32 paged kernel and the contiguous kernel compute the same attention (one pass with online softmax versus
// two passes over explicit scores): they agree to the f32 tolerance.
TEST(PagedAttention, F32PagedAgreesWithContiguousAttention) {
  uint32_t seed = 100;
  for (const Case& c : edge_cases()) {
    const Problem p = make_problem(KvType::f32, c, 16, seed++);
    const auto paged = run_scalar(p);
    std::vector<float> out(p.q.size()), scratch(static_cast<size_t>(c.n_keys));
    kernels::AttentionArgs a;
    a.q = p.q.data();
    a.k = p.kv.k.data();
    a.v = p.kv.v.data();
    a.out = out.data();
    a.scratch = scratch.data();
    a.n_tokens = c.n_tokens;
    a.pos0 = p.args.pos0;
    a.n_head = c.n_head;
    a.n_head_kv = c.n_head_kv;
    a.head_dim = c.head_dim;
    a.scale = p.args.scale;
    a.window = c.window;
    kernels::attention_f32__scalar(a, 0, c.n_tokens * c.n_head);
    for (int64_t t = 0; t < c.n_tokens; ++t) {
      for (int64_t h = 0; h < c.n_head; ++h) {
        const double tol = row_tolerance(p, t, h);
        for (int64_t x = 0; x < c.head_dim; ++x) {
          const size_t i = static_cast<size_t>((t * c.n_head + h) * c.head_dim + x);
          ASSERT_LE(std::fabs(static_cast<double>(paged[i]) - out[i]), tol) << c.label() << " element " << i;
        }
      }
    }
  }
}

// Online-softmax blocks are aligned to absolute key positions, so the page size does not change a single bit.
TEST(PagedAttention, ResultDoesNotDependOnThePageSize) {
  for (KvType type : {KvType::f32, KvType::f16, KvType::q8_0}) {
    for (const Case& c : {Case{64, 8, 2, 1, 50, 0}, Case{128, 4, 1, 7, 40, 16}, Case{32, 2, 2, 7, 33, 5}}) {
      const auto reference = run_scalar(make_problem(type, c, 16, 7));
      for (int64_t page_size : {1, 5, 7, 32, 64}) {
        const auto out = run_scalar(make_problem(type, c, page_size, 7));
        ASSERT_EQ(0, std::memcmp(out.data(), reference.data(), out.size() * sizeof(float)))
            << kernels::kv_type_name(type) << " " << c.label() << " page_size " << page_size;
      }
    }
  }
}

TEST(PagedAttention, EveryIsaAndTypeHasANamedKernel) {
  for (auto isa : {kernels::Isa::scalar, kernels::Isa::avx2, kernels::Isa::avx512vnni, kernels::Isa::neon}) {
    for (KvType type : {KvType::f32, KvType::f16, KvType::q8_0}) {
      EXPECT_NE(kernels::find_paged_attention(isa, type), nullptr);
      EXPECT_NE(std::string(kernels::paged_attention_name(isa, type)).find(kernels::kv_type_name(type)),
                std::string::npos);
    }
  }
  EXPECT_STREQ(kernels::paged_attention_name(kernels::Isa::scalar, KvType::f16), "attention_paged_f16__scalar");
}

TEST(KvStore, RowsMatchTheReferenceConverters) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(96);
  for (size_t i = 0; i < x.size(); ++i) x[i] = normal(rng) * (i % 32 == 5 ? 300.0f : 1.0f);
  x[40] = 0.0f;
  x[41] = 65520.0f;  // rounds to inf in f16
  std::vector<uint8_t> got(kernels::kv_row_bytes(KvType::q8_0, 96)), want(got.size());
  kernels::kv_store_row(KvType::q8_0, x.data(), got.data(), 96);
  quant::quantize_row(TensorType::Q8_0, x.data(), want.data(), 96);
  EXPECT_EQ(got, want);
  std::vector<uint8_t> half(2 * 96);
  kernels::kv_store_row(KvType::f16, x.data(), half.data(), 96);
  std::vector<float> back(96);
  kernels::kv_load_row(KvType::f16, half.data(), back.data(), 96);
  for (size_t i = 0; i < x.size(); ++i) {
    uint16_t h;
    std::memcpy(&h, half.data() + 2 * i, 2);
    ASSERT_EQ(h, quant::fp32_to_fp16(x[i])) << i;
    ASSERT_EQ(back[i], quant::fp16_to_fp32(h)) << i;
  }
  EXPECT_TRUE(std::isinf(back[41]));
  std::vector<uint8_t> raw(4 * 96);
  kernels::kv_store_row(KvType::f32, x.data(), raw.data(), 96);
  kernels::kv_load_row(KvType::f32, raw.data(), back.data(), 96);
  EXPECT_EQ(0, std::memcmp(back.data(), x.data(), 4 * 96));
  // The store for this machine's ISA writes the same bytes.
  const auto store = kernels::find_kv_store_row(kernels::select_isa(nullptr));
  for (KvType type : {KvType::f32, KvType::f16, KvType::q8_0}) {
    std::vector<uint8_t> a(kernels::kv_row_bytes(type, 96)), b(a.size());
    store(type, x.data(), a.data(), 96);
    kernels::kv_store_row(type, x.data(), b.data(), 96);
    EXPECT_EQ(a, b) << kernels::kv_type_name(type);
  }
}

TEST(KvStore, Q8_0RowsMustBeWholeBlocks) {
  std::vector<float> x(33, 1.0f);
  std::vector<uint8_t> out(64);
  EXPECT_THROW(kernels::kv_store_row(KvType::q8_0, x.data(), out.data(), 33), Error);
}

}  // namespace
}  // namespace qtr
