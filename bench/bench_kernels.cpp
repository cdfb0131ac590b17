// Kernel benchmarks at the real shapes of SmolLM2-135M, Gemma-3-270M and 1B-class Llamas, for every registered
// matmul kernel this machine supports, at 1 token (decode: weights stream from memory) and 512 tokens (prefill),
// single- and multi-threaded.
//
// Counters: GB/s of packed weights streamed, GOP/s (2 ops per multiply-add), and for 1 token `roofline` = the
// fraction of the read bandwidth measured at start-up with the same thread count (read_bandwidth benchmarks).
// Decode runs cycle through enough copies of the matrix (>= 256 MiB) that it never sits in cache.
// attention_paged_<kv type>__<isa>/<model>/depth:N: decode attention (one query token) over a paged KV cache of N
// positions (page size 16) at the 1B (32 heads, 4 kv heads, head_dim 64) and Gemma-3-270M (4 / 1 / 256) shapes;
// GB/s counts the K and V bytes read.
#include <benchmark/benchmark.h>
#include <omp.h>
#include <sys/mman.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "kernels/attention_paged.hpp"
#include "kernels/kv_store.hpp"
#include "kernels/matmul.hpp"
#include "kernels/membw.hpp"
#include "kernels/quant_blocks.hpp"

namespace {

using namespace qtr;
using namespace qtr::kernels;

struct Shape {
  const char* model;
  const char* what;
  int64_t n_out, n_in;
};

constexpr Shape kShapes[] = {
    {"smollm2-135m", "attn_q", 576, 576},      {"smollm2-135m", "ffn_up", 1536, 576},
    {"smollm2-135m", "ffn_down", 576, 1536},   {"smollm2-135m", "output", 49152, 576},
    {"gemma3-270m", "attn_q", 1024, 640},      {"gemma3-270m", "ffn_up", 2048, 640},
    {"gemma3-270m", "ffn_down", 640, 2048},    {"gemma3-270m", "output", 262144, 640},
    {"llama-1b", "attn_q", 2048, 2048},        {"llama-1b", "ffn_up", 5632, 2048},
    {"llama-1b", "ffn_down", 2048, 5632},      {"llama-1b", "output", 32000, 2048},
};

int max_threads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

// Read bandwidth per thread count, measured once.
double baseline(int threads) {
  static std::map<int, double> cache;
  auto it = cache.find(threads);
  if (it == cache.end()) it = cache.emplace(threads, measure_read_bandwidth(size_t{1} << 30, threads, 5)).first;
  return it->second;
}

struct FreeHuge {
  void operator()(uint8_t* p) const { std::free(p); }
};

struct PackedCopies {
  std::vector<std::unique_ptr<uint8_t[], FreeHuge>> copies;
  size_t bytes = 0;
};

PackedCopies make_packed(const MatmulKernel& kernel, int64_t n_out, int64_t n_in, size_t min_total) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const size_t row_bytes = quant::row_size(kernel.weight_type, n_in);
  std::vector<uint8_t> gguf(row_bytes * static_cast<size_t>(n_out));
  std::vector<float> row(static_cast<size_t>(n_in));
  for (int64_t r = 0; r < n_out; ++r) {
    for (auto& v : row) v = normal(rng);
    quant::quantize_row(kernel.weight_type, row.data(), gguf.data() + r * row_bytes, n_in);
  }
  PackedCopies p;
  p.bytes = kernel.packed_size(n_out, n_in);
  const size_t count = std::max<size_t>(1, (min_total + p.bytes - 1) / p.bytes);
  constexpr size_t kHuge = size_t{2} << 20;
  for (size_t c = 0; c < count; ++c) {
    const size_t rounded = (p.bytes + kHuge - 1) & ~(kHuge - 1);
    auto* mem = static_cast<uint8_t*>(std::aligned_alloc(kHuge, rounded));
    ::madvise(mem, rounded, MADV_HUGEPAGE);
    kernel.pack(gguf.data(), n_out, n_in, mem, 0, (n_out + kernel.tile_rows - 1) / kernel.tile_rows);
    p.copies.emplace_back(mem);
  }
  return p;
}

void bench_matmul(benchmark::State& state, const MatmulKernel* kernel, Shape shape, int64_t n_tokens, int threads) {
  const bool decode = n_tokens == 1;
  const PackedCopies packed = make_packed(*kernel, shape.n_out, shape.n_in, decode ? size_t{256} << 20 : 0);
  std::vector<float> x(static_cast<size_t>(n_tokens * shape.n_in));
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (auto& v : x) v = normal(rng);
  std::vector<ActBlock> act(static_cast<size_t>(n_tokens * shape.n_in / kActBlock));
  quantize_activations(x.data(), n_tokens, shape.n_in, shape.n_in, act.data());
  std::vector<float> y(static_cast<size_t>(n_tokens * shape.n_out));
  const int64_t n_tiles = (shape.n_out + kernel->tile_rows - 1) / kernel->tile_rows;
  size_t next = 0;
  for (auto _ : state) {
    const uint8_t* w = packed.copies[next].get();
    next = (next + 1) % packed.copies.size();
#pragma omp parallel num_threads(threads)
    {
      const int64_t nt = omp_get_num_threads(), it = omp_get_thread_num();
      kernel->gemm(w, shape.n_out, shape.n_in, n_tiles * it / nt, n_tiles * (it + 1) / nt, act.data(), n_tokens,
                   y.data(), shape.n_out);
    }
    benchmark::DoNotOptimize(y.data());
  }
  const double iterations = static_cast<double>(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(iterations * static_cast<double>(packed.bytes) / 1e9, benchmark::Counter::kIsRate);
  state.counters["GOP/s"] = benchmark::Counter(
      iterations * 2.0 * static_cast<double>(shape.n_out * shape.n_in * n_tokens) / 1e9, benchmark::Counter::kIsRate);
}

void bench_read_bandwidth(benchmark::State& state, int threads) {
  double gbps = 0;
  for (auto _ : state) gbps = measure_read_bandwidth(size_t{1} << 30, threads, 3) / 1e9;
  state.counters["GB/s"] = gbps;
}

void bench_quantize_activations(benchmark::State& state, int64_t n_tokens, int64_t k) {
  std::vector<float> x(static_cast<size_t>(n_tokens * k), 0.5f);
  std::vector<ActBlock> act(static_cast<size_t>(n_tokens * k / kActBlock));
  for (auto _ : state) {
    quantize_activations(x.data(), n_tokens, k, k, act.data());
    benchmark::DoNotOptimize(act.data());
  }
  state.SetItemsProcessed(state.iterations() * n_tokens * k);
}

// Paged attention, decode (one query token) at a KV depth: GB/s of K and V read (2 * depth rows of the cache type).
// As for the matmuls, calls cycle through enough copies of the layer's pages (>= 256 MiB) that they come from memory.
struct AttentionShape {
  const char* model;
  int64_t n_head, n_head_kv, head_dim;
};

constexpr AttentionShape kAttentionShapes[] = {{"llama-1b", 32, 4, 64}, {"gemma3-270m", 4, 1, 256}};

void bench_paged_attention(benchmark::State& state, Isa isa, KvType type, AttentionShape shape, int64_t depth,
                           int threads) {
  constexpr int64_t kPage = 16;
  const int64_t kv_dim = shape.n_head_kv * shape.head_dim;
  const auto row_bytes = static_cast<int64_t>(kv_row_bytes(type, kv_dim));
  const int64_t n_pages = (depth + kPage - 1) / kPage, page_bytes = kPage * row_bytes;
  const size_t layer_bytes = static_cast<size_t>(2 * n_pages * page_bytes);  // K pages then V pages
  std::vector<uint8_t> layer(layer_bytes);
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> row(static_cast<size_t>(kv_dim));
  for (int64_t r = 0; r < 2 * n_pages * kPage; ++r) {
    for (auto& v : row) v = normal(rng);
    kv_store_row(type, row.data(), layer.data() + r * row_bytes, kv_dim);
  }
  const size_t n_copies = std::max<size_t>(1, (size_t{256} << 20) / layer_bytes);
  std::vector<std::vector<const uint8_t*>> k_pages(n_copies), v_pages(n_copies);
  const size_t rounded = (layer_bytes + 63) / 64 * 64;
  constexpr size_t kHuge = size_t{2} << 20;  // one huge-page backed pool, as a KV cache would be
  const size_t pool_bytes = (rounded * n_copies + kHuge - 1) & ~(kHuge - 1);
  std::unique_ptr<uint8_t[], FreeHuge> pool(static_cast<uint8_t*>(std::aligned_alloc(kHuge, pool_bytes)));
  ::madvise(pool.get(), pool_bytes, MADV_HUGEPAGE);
  for (size_t c = 0; c < n_copies; ++c) {
    uint8_t* mem = pool.get() + c * rounded;
    std::memcpy(mem, layer.data(), layer_bytes);
    for (int64_t p = 0; p < n_pages; ++p) {
      k_pages[c].push_back(mem + p * page_bytes);
      v_pages[c].push_back(mem + (n_pages + p) * page_bytes);
    }
  }
  std::vector<float> q(static_cast<size_t>(shape.n_head * shape.head_dim)), out(q.size());
  for (auto& v : q) v = normal(rng);
  const PagedAttentionFn fn = find_paged_attention(isa, type);
  size_t next = 0;
  for (auto _ : state) {
    PagedAttentionArgs args;
    args.q = q.data();
    args.out = out.data();
    args.n_tokens = 1;
    args.pos0 = depth - 1;
    args.n_head = shape.n_head;
    args.n_head_kv = shape.n_head_kv;
    args.head_dim = shape.head_dim;
    args.scale = 1.0f / std::sqrt(static_cast<float>(shape.head_dim));
    args.kv = {type, kPage, row_bytes, k_pages[next].data(), v_pages[next].data()};
    next = (next + 1) % n_copies;
#pragma omp parallel num_threads(threads)
    {
      const int64_t nt = omp_get_num_threads(), it = omp_get_thread_num();
      fn(args, shape.n_head * it / nt, shape.n_head * (it + 1) / nt);
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GB/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(2 * depth * row_bytes) / 1e9,
      benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const int all = max_threads();
  std::vector<int> thread_counts = {1};
  if (all > 1) thread_counts.push_back(all);
  for (int t : thread_counts) {
    benchmark::RegisterBenchmark(("read_bandwidth/threads:" + std::to_string(t)).c_str(), bench_read_bandwidth, t)
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::RegisterBenchmark("quantize_activations/tokens:1/k:2048", bench_quantize_activations, 1, 2048);
  benchmark::RegisterBenchmark("quantize_activations/tokens:512/k:2048", bench_quantize_activations, 512, 2048);
  for (const MatmulKernel& kernel : all_matmul_kernels()) {
    if (!isa_supported(kernel.isa)) continue;
    for (const Shape& shape : kShapes) {
      for (int64_t tokens : {int64_t{1}, int64_t{512}}) {
        if (kernel.isa == Isa::scalar && tokens > 1) continue;  // the reference is not a speed path
        for (int t : thread_counts) {
          const std::string name = std::string(kernel.name) + "/" + shape.model + "." + shape.what + "/" +
                                   std::to_string(shape.n_out) + "x" + std::to_string(shape.n_in) + "/tokens:" +
                                   std::to_string(tokens) + "/threads:" + std::to_string(t);
          auto* b = benchmark::RegisterBenchmark(name.c_str(), [&kernel, shape, tokens, t](benchmark::State& s) {
            bench_matmul(s, &kernel, shape, tokens, t);
            if (tokens == 1) {
              // fraction of the read-bandwidth roofline, from this run's rate
              s.counters["roofline"] = benchmark::Counter(
                  static_cast<double>(s.iterations()) *
                      static_cast<double>(kernel.packed_size(shape.n_out, shape.n_in)) / baseline(t),
                  benchmark::Counter::kIsRate);
            }
          });
          b->UseRealTime()->Unit(benchmark::kMicrosecond);
        }
      }
    }
  }
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512vnni, Isa::neon}) {
    if (!isa_supported(isa)) continue;
    for (KvType type : {KvType::f16, KvType::q8_0}) {
      for (const AttentionShape& shape : kAttentionShapes) {
        for (int64_t depth : {int64_t{512}, int64_t{4096}}) {
          for (int t : thread_counts) {
            const std::string name = std::string(paged_attention_name(isa, type)) + "/" + shape.model + "/depth:" +
                                     std::to_string(depth) + "/threads:" + std::to_string(t);
            benchmark::RegisterBenchmark(name.c_str(), bench_paged_attention, isa, type, shape, depth, t)
                ->UseRealTime()
                ->Unit(benchmark::kMicrosecond);
          }
        }
      }
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
