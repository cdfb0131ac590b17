#include "kernels/membw.hpp"

#include <omp.h>
#include <sys/mman.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "kernels/cpu_features.hpp"
#include "qtr/error.hpp"

namespace qtr::kernels {

#if defined(__x86_64__)
uint64_t read_stream__avx2(const uint8_t* p, size_t bytes);
#endif

namespace {
uint64_t read_stream__scalar(const uint8_t* p, size_t bytes) {
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (size_t i = 0; i + 32 <= bytes; i += 32) {
    uint64_t v[4];
    std::memcpy(v, p + i, 32);
    s0 += v[0];
    s1 += v[1];
    s2 += v[2];
    s3 += v[3];
  }
  return s0 + s1 + s2 + s3;
}
}  // namespace

double measure_read_bandwidth(size_t bytes, int n_threads, int repeats) {
  constexpr size_t kHuge = size_t{2} << 20;
  bytes = (bytes + kHuge - 1) & ~(kHuge - 1);
  auto* buffer = static_cast<uint8_t*>(std::aligned_alloc(kHuge, bytes));
  if (!buffer) throw Error(Errc::out_of_memory, "cannot allocate the bandwidth test buffer");
  ::madvise(buffer, bytes, MADV_HUGEPAGE);
  std::memset(buffer, 1, bytes);
  auto stream = read_stream__scalar;
#if defined(__x86_64__)
  if (cpu_features().avx2) stream = read_stream__avx2;
#endif
  double best = 0.0;
  volatile uint64_t sink = 0;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    uint64_t total = 0;
#pragma omp parallel num_threads(n_threads) reduction(+ : total)
    {
      const size_t nt = static_cast<size_t>(omp_get_num_threads()), it = static_cast<size_t>(omp_get_thread_num());
      const size_t chunk = bytes / nt / 128 * 128;
      total += stream(buffer + it * chunk, chunk);
    }
    sink = sink + total;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, static_cast<double>(bytes) / seconds);
  }
  std::free(buffer);
  return best;
}

}  // namespace qtr::kernels
