// Paged attention conformance (no GoogleTest, so it also runs cross-compiled under qemu-aarch64): for every KV type
// and every ISA this machine (or emulator) supports, over edge cases (1 key; page_size - 1, page_size and
// page_size + 1 keys; windows of 1, page_size, and wider than the context; null pages below the window; GQA
// ratios 1, 4 and 8; head_dim 32, 64, 128, 256 (and 20, 40 for f32 / f16); decode and 7-token prefill):
//  1. each ISA's kernel agrees with the scalar reference within tol (below) element by element;
//  2. the scalar reference agrees with attention in double precision over the cached (widened) K/V within tol;
//  3. every kernel gives the same bits when its rows are split into uneven ranges (thread-count independence);
//  4. every ISA's kv_store_row writes the same bytes as the scalar reference.
// tol for query row (t, h), u = 2^-24: with S = max over its visible keys of scale * sum_x |q_x k_x| (the largest
// magnitude a score's dot product sums) and V = max |v| over those keys,
//   tol = 2 * V * (2 (d + 2) u S + 2 (n_keys + 16) u)
// i.e. a score off by at most (d + 2) u S (dot product reassociated, then scaled) moves the softmax weights by at
// most twice that, relatively; exp is good to a few ulp, and the weighted sum of n_keys values (with one rescale
// per 16-key block) adds at most (n_keys + 16) u V; the leading 2 is headroom. Today every ISA feeds identical
// floats (K/V conversions are exact) to the same unfused arithmetic, so the observed differences are 0; the bound
// is for hand-tuned variants that reassociate or fuse.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/attention_paged.hpp"
#include "kernels/kv_store.hpp"
#include "kernels/quant_blocks.hpp"
#include "tests/kernels/paged_kv_fixture.hpp"

namespace {

using namespace qtr;
using namespace qtr::kernels;
using qtr::kernels::testing::make_paged_kv;
using qtr::kernels::testing::naive_attention_row;

int failures = 0;

void fail(const std::string& what) {
  if (failures < 20) std::fprintf(stderr, "  FAIL %s\n", what.c_str());
  ++failures;
}

struct Scenario {
  int64_t n_tokens, n_keys, window;  // the queries sit at the last n_tokens positions: pos0 = n_keys - n_tokens
};

constexpr int64_t kPageSize = 16;
constexpr Scenario kScenarios[] = {
    {1, 1, 0},  {1, 15, 0},  {1, 16, 0}, {1, 17, 0},  {1, 50, 1},  {1, 50, 16},
    {1, 50, 40}, {1, 20, 1000}, {7, 7, 0}, {7, 40, 0}, {7, 40, 16}, {7, 33, 5},
};

struct Problem {
  testing::PagedKvFixture kv;
  std::vector<float> q;
  PagedAttentionArgs args;
  int64_t n_rows;
};

Problem make_problem(KvType type, int64_t head_dim, int64_t n_head, int64_t n_head_kv, const Scenario& s,
                     std::mt19937& rng) {
  Problem p;
  const int64_t pos0 = s.n_keys - s.n_tokens;
  p.kv = make_paged_kv(type, kPageSize, n_head_kv, head_dim, s.n_keys, testing::first_visible_key(pos0, s.window),
                       rng);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  p.q.resize(static_cast<size_t>(s.n_tokens * n_head * head_dim));
  for (auto& x : p.q) x = normal(rng);
  p.args.q = p.q.data();
  p.args.out = nullptr;
  p.args.n_tokens = s.n_tokens;
  p.args.pos0 = pos0;
  p.args.n_head = n_head;
  p.args.n_head_kv = n_head_kv;
  p.args.head_dim = head_dim;
  p.args.scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  p.args.window = s.window;
  p.args.kv = p.kv.view();
  p.n_rows = s.n_tokens * n_head;
  return p;
}

std::vector<float> run(PagedAttentionFn fn, const Problem& p, std::vector<int64_t> cuts = {}) {
  std::vector<float> out(p.q.size(), -12345.0f);
  PagedAttentionArgs args = p.args;
  args.out = out.data();
  cuts.insert(cuts.begin(), 0);
  cuts.push_back(p.n_rows);
  for (size_t i = 0; i + 1 < cuts.size(); ++i) fn(args, cuts[i], cuts[i + 1]);
  return out;
}

// tol of query row (t, h) (see the top of the file).
double row_tolerance(const Problem& p, int64_t t, int64_t h) {
  const PagedAttentionArgs& a = p.args;
  const int64_t d = a.head_dim, kv_dim = a.n_head_kv * d, g = h / (a.n_head / a.n_head_kv);
  const int64_t last = a.pos0 + t, first = a.window > 0 && last >= a.window ? last - a.window + 1 : 0;
  const float* q = p.q.data() + (t * a.n_head + h) * d;
  double s_max = 0, v_max = 0;
  for (int64_t j = first; j <= last; ++j) {
    double s = 0;
    for (int64_t x = 0; x < d; ++x) {
      s += std::fabs(static_cast<double>(q[x]) * p.kv.k_cached[static_cast<size_t>(j * kv_dim + g * d + x)]);
      v_max = std::max(v_max, static_cast<double>(std::fabs(p.kv.v_cached[static_cast<size_t>(j * kv_dim + g * d + x)])));
    }
    s_max = std::max(s_max, s * a.scale);
  }
  const double u = std::ldexp(1.0, -24);
  return 2 * v_max * (2 * static_cast<double>(d + 2) * u * s_max + 2 * static_cast<double>(last - first + 1 + 16) * u);
}

struct Stats {
  int cases = 0;
  double worst_ratio = 0;  // max |diff| / tol
};

// Element-wise |got - want| <= tol(row); want_double optional.
void compare(const Problem& p, const std::vector<float>& got, const std::vector<float>* want,
             const std::string& label, Stats& stats) {
  const PagedAttentionArgs& a = p.args;
  const int64_t d = a.head_dim;
  for (int64_t t = 0; t < a.n_tokens; ++t) {
    for (int64_t h = 0; h < a.n_head; ++h) {
      const double tol = row_tolerance(p, t, h);
      std::vector<double> exact;
      if (!want) {
        exact = naive_attention_row(p.q.data(), p.kv.k_cached, p.kv.v_cached, t, h, a.pos0, a.n_head, a.n_head_kv, d,
                                    a.scale, a.window);
      }
      for (int64_t x = 0; x < d; ++x) {
        const size_t i = static_cast<size_t>((t * a.n_head + h) * d + x);
        const double ref = want ? static_cast<double>((*want)[i]) : exact[static_cast<size_t>(x)];
        const double diff = std::fabs(static_cast<double>(got[i]) - ref);
        stats.worst_ratio = std::max(stats.worst_ratio, diff / tol);
        if (!(diff <= tol)) {
          fail(label + ": token " + std::to_string(t) + " head " + std::to_string(h) + " element " +
               std::to_string(x) + ": " + std::to_string(got[i]) + " vs " + std::to_string(ref) + " (tol " +
               std::to_string(tol) + ")");
          return;
        }
      }
    }
  }
}

bool check_paged_attention(KvType type, Isa isa, Stats& stats) {
  const int before = failures;
  const PagedAttentionFn fn = find_paged_attention(isa, type);
  const PagedAttentionFn reference = find_paged_attention(Isa::scalar, type);
  std::mt19937 rng(99);
  // 20 and 40: head_dim not a multiple of the vector width (the hand-written steps fall back to the generic ones).
  for (int64_t head_dim : {20, 32, 40, 64, 128, 256}) {
    if (type == KvType::q8_0 && head_dim % 32 != 0) continue;
    for (int64_t ratio : {1, 4, 8}) {
      const int64_t n_head_kv = ratio == 1 ? 2 : ratio == 4 ? 2 : 1;
      const int64_t n_head = n_head_kv * ratio;
      for (const Scenario& s : kScenarios) {
        const Problem p = make_problem(type, head_dim, n_head, n_head_kv, s, rng);
        const std::string label = std::string(paged_attention_name(isa, type)) + " d=" + std::to_string(head_dim) +
                                  " heads=" + std::to_string(n_head) + "/" + std::to_string(n_head_kv) +
                                  " tokens=" + std::to_string(s.n_tokens) + " keys=" + std::to_string(s.n_keys) +
                                  " window=" + std::to_string(s.window);
        const auto got = run(fn, p);
        if (isa == Isa::scalar) {
          compare(p, got, nullptr, label + " vs double", stats);
        } else {
          const auto want = run(reference, p);
          compare(p, got, &want, label + " vs scalar", stats);
        }
        const auto split = run(fn, p, {1, std::max<int64_t>(1, p.n_rows * 2 / 3)});
        if (std::memcmp(split.data(), got.data(), got.size() * sizeof(float)) != 0) {
          fail(label + ": a split row range changes the result");
        }
        ++stats.cases;
      }
    }
  }
  return failures == before;
}

bool check_kv_store(Isa isa) {
  const int before = failures;
  std::vector<float> x = {0.0f, -0.0f, 1.0f, -1.0f, 65504.0f, 65520.0f, 65519.99f, -1e6f, INFINITY, -INFINITY,
                          6.1e-5f, 5.96e-8f, 2.98e-8f, 2.99e-8f, 1e-10f, 1.00048828125f /* tie */,
                          1.00146484375f /* tie, odd */, 3.14159f, -2.71828f};
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  while (x.size() < 96) x.push_back(normal(rng) * (x.size() % 4 == 0 ? 1000.0f : 0.001f));
  const KvStoreRowFn store = find_kv_store_row(isa);
  for (KvType type : {KvType::f32, KvType::f16, KvType::q8_0}) {
    for (int64_t n : {int64_t{32}, int64_t{96}, int64_t{37}, int64_t{3}}) {
      if (type == KvType::q8_0 && n % 32 != 0) continue;
      const size_t bytes = kv_row_bytes(type, n);
      std::vector<uint8_t> got(bytes + 4, 0xCD), want(bytes + 4, 0xCD);
      store(type, x.data(), got.data(), n);
      kv_store_row(type, x.data(), want.data(), n);
      if (got != want) fail(std::string("kv_store_row ") + isa_name(isa) + " " + kv_type_name(type) + " n=" +
                            std::to_string(n) + ": bytes differ from the scalar reference");
      if (type == KvType::f16) {
        for (int64_t i = 0; i < n; ++i) {
          uint16_t h;
          std::memcpy(&h, want.data() + 2 * i, 2);
          if (h != quant::fp32_to_fp16(x[static_cast<size_t>(i)])) fail("kv_store_row f16 != fp32_to_fp16");
        }
      }
    }
  }
  return failures == before;
}

}  // namespace

int main() {
  int passed = 0, failed = 0;
  auto report = [&](bool ok, const std::string& what) {
    std::printf("%-60s %s\n", what.c_str(), ok ? "ok" : "FAILED");
    (ok ? passed : failed) += 1;
  };
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512vnni, Isa::neon}) {
    if (!isa_supported(isa)) {
      std::printf("%-60s skipped (this CPU lacks it)\n", (std::string("paged attention / kv_store ") + isa_name(isa)).c_str());
      continue;
    }
    if (std::string(paged_attention_name(isa, KvType::f32)).find(isa == Isa::avx512vnni ? "avx512" : isa_name(isa)) ==
        std::string::npos) {
      continue;  // an ISA of another architecture
    }
    report(check_kv_store(isa), std::string("kv_store_row ") + isa_name(isa));
    for (KvType type : {KvType::f32, KvType::f16, KvType::q8_0}) {
      Stats stats;
      const bool ok = check_paged_attention(type, isa, stats);
      char line[160];
      std::snprintf(line, sizeof line, "%s (%d cases, max |diff|/tol %.3g%s)", paged_attention_name(isa, type),
                    stats.cases, stats.worst_ratio, isa == Isa::scalar ? " vs double" : " vs scalar");
      report(ok, line);
    }
  }
  std::printf("paged attention conformance: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
