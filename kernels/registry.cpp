// The table of matmul kernels and the choice of ISA. One row per kernel: its name, the packing it reads and its
// compute function together, so they cannot be mismatched.
#include <array>
#include <cstring>
#include <string>

#include "kernels/attention.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/entry_points.hpp"
#include "qtr/error.hpp"

namespace qtr::kernels {

namespace {

using TT = TensorType;

constexpr std::array kKernels = {
    MatmulKernel{"gemm_q4_0_q8a_16x1__scalar", TT::Q4_0, Isa::scalar, 16, 1, packed_size_q4_0_x16, pack_q4_0_x16,
                 gemm_q4_0_q8a_16x1__scalar},
    MatmulKernel{"gemm_q8_0_q8a_16x1__scalar", TT::Q8_0, Isa::scalar, 16, 1, packed_size_q8_0_x16, pack_q8_0_x16,
                 gemm_q8_0_q8a_16x1__scalar},
#if defined(__x86_64__)
    MatmulKernel{"gemm_q4_0_q8a_16x4__avx2", TT::Q4_0, Isa::avx2, 16, 4, packed_size_q4_0_x16, pack_q4_0_x16,
                 gemm_q4_0_q8a_16x4__avx2},
    MatmulKernel{"gemm_q8_0_q8a_16x4__avx2", TT::Q8_0, Isa::avx2, 16, 4, packed_size_q8_0_x16, pack_q8_0_x16,
                 gemm_q8_0_q8a_16x4__avx2},
    MatmulKernel{"gemm_q4_0_q8a_16x8__avx512vnni", TT::Q4_0, Isa::avx512vnni, 16, 8, packed_size_q4_0_x16,
                 pack_q4_0_x16, gemm_q4_0_q8a_16x8__avx512vnni},
    MatmulKernel{"gemm_q8_0_q8a_16x8__avx512vnni", TT::Q8_0, Isa::avx512vnni, 16, 8, packed_size_q8_0_x16,
                 pack_q8_0_x16, gemm_q8_0_q8a_16x8__avx512vnni},
#endif
#if defined(__aarch64__)
    MatmulKernel{"gemm_q4_0_q8a_16x1__neon", TT::Q4_0, Isa::neon, 16, 1, packed_size_q4_0_x16, pack_q4_0_x16,
                 gemm_q4_0_q8a_16x1__neon},
    MatmulKernel{"gemm_q8_0_q8a_16x1__neon", TT::Q8_0, Isa::neon, 16, 1, packed_size_q8_0_x16, pack_q8_0_x16,
                 gemm_q8_0_q8a_16x1__neon},
#endif
};

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512vnni: return "avx512vnni";
    case Isa::neon: return "neon";
  }
  return "?";
}

bool isa_supported(Isa isa) {
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case Isa::scalar: return true;
    case Isa::avx2: return f.avx2 && f.fma && f.f16c;
    case Isa::avx512vnni: return f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni && f.f16c;
    case Isa::neon: return f.neon && f.dotprod;
  }
  return false;
}

Isa select_isa(const char* override_name) {
  if (override_name && *override_name) {
    const std::string name = override_name;
    for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512vnni, Isa::neon}) {
      if (name == isa_name(isa) || (isa == Isa::avx512vnni && name == "avx512")) {
        if (!isa_supported(isa)) {
          throw Error(Errc::invalid_argument, "QTR_ISA=" + name + " is not supported by this CPU (it has: " +
                                                  cpu_features().summary() + ")");
        }
        return isa;
      }
    }
    throw Error(Errc::invalid_argument,
                "QTR_ISA=" + name + " is not one of scalar, avx2, avx512 (avx512vnni), neon");
  }
  for (Isa isa : {Isa::avx512vnni, Isa::avx2, Isa::neon}) {
    if (isa_supported(isa)) return isa;
  }
  return Isa::scalar;
}

AttentionFn find_attention(Isa isa) {
  switch (isa) {
#if defined(__x86_64__)
    case Isa::avx512vnni: return attention_f32__avx512;
    case Isa::avx2: return attention_f32__avx2;
#endif
    default: return attention_f32__scalar;
  }
}

const MatmulKernel* find_matmul_kernel(TensorType type, Isa isa) {
  for (const auto& k : kKernels) {
    if (k.weight_type == type && k.isa == isa) return &k;
  }
  return nullptr;
}

std::span<const MatmulKernel> all_matmul_kernels() { return kKernels; }

}  // namespace qtr::kernels
