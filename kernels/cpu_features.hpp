// What the processor and operating system support, read once with CPUID + XGETBV (x86) or getauxval (AArch64).
#pragma once

#include <string>

namespace qtr::kernels {

struct CpuFeatures {
  // x86: an AVX* flag is set only when the OS also saves the register state (XGETBV), so it is usable.
  bool sse42 = false, avx = false, avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false, avx512vnni = false, avx512bf16 = false;
  bool avxvnni = false;
  // AArch64
  bool neon = false, dotprod = false, i8mm = false;
  std::string vendor, brand;

  std::string summary() const;  // "avx2 fma f16c avx512f avx512bw avx512vl avx512vnni avx512bf16"
};

// Detected once (a constant of the machine); thread-safe.
const CpuFeatures& cpu_features();

}  // namespace qtr::kernels
