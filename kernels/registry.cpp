// The table of matmul kernels and the choice of ISA. Each ISA's file defines its rows (name, weight type, tile
// sizes, the packing it reads and its compute function together, so they cannot be mismatched); this file, compiled
// without ISA flags, only concatenates them.
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/attention.hpp"
#include "kernels/attention_paged.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/entry_points.hpp"
#include "kernels/kernels.hpp"
#include "kernels/kv_store.hpp"
#include "qtr/error.hpp"

namespace qtr::kernels {

namespace {

// Every ISA table this build contains, concatenated once (a constant of the build).
const std::vector<MatmulKernel>& kernel_table() {
  static const std::vector<MatmulKernel> table = [] {
    std::vector<MatmulKernel> all;
    auto add = [&](std::span<const MatmulKernel> rows) { all.insert(all.end(), rows.begin(), rows.end()); };
    add(matmul_kernels__scalar());
    add(matmul_kernels__rows());
#if defined(__x86_64__)
    add(matmul_kernels__avx2());
    add(matmul_kernels__avx512vnni());
#endif
#if defined(__aarch64__)
    add(matmul_kernels__neon());
#endif
    return all;
  }();
  return table;
}

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

GemmF32Fn find_gemm_f32(Isa isa) {
  switch (isa) {
#if defined(__x86_64__)
    case Isa::avx512vnni: return gemm_f32_f32__avx512;
    case Isa::avx2: return gemm_f32_f32__avx2;
#endif
    default: return gemm_f32_f32__scalar;
  }
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

PagedAttentionFn find_paged_attention(Isa isa, KvType type) {
  struct Row {
    PagedAttentionFn f32, f16, q8_0;
  };
  Row row{attention_paged_f32__scalar, attention_paged_f16__scalar, attention_paged_q8_0__scalar};
  switch (isa) {
#if defined(__x86_64__)
    case Isa::avx512vnni:
      row = {attention_paged_f32__avx512, attention_paged_f16__avx512, attention_paged_q8_0__avx512};
      break;
    case Isa::avx2: row = {attention_paged_f32__avx2, attention_paged_f16__avx2, attention_paged_q8_0__avx2}; break;
#endif
#if defined(__aarch64__)
    case Isa::neon: row = {attention_paged_f32__neon, attention_paged_f16__neon, attention_paged_q8_0__neon}; break;
#endif
    default: break;
  }
  switch (type) {
    case KvType::f32: return row.f32;
    case KvType::f16: return row.f16;
    case KvType::q8_0: return row.q8_0;
  }
  return row.f32;
}

const char* paged_attention_name(Isa isa, KvType type) {
  static constexpr const char* kNames[4][3] = {
      {"attention_paged_f32__scalar", "attention_paged_f16__scalar", "attention_paged_q8_0__scalar"},
      {"attention_paged_f32__avx2", "attention_paged_f16__avx2", "attention_paged_q8_0__avx2"},
      {"attention_paged_f32__avx512", "attention_paged_f16__avx512", "attention_paged_q8_0__avx512"},
      {"attention_paged_f32__neon", "attention_paged_f16__neon", "attention_paged_q8_0__neon"},
  };
  int i = 0;
  switch (isa) {
    case Isa::scalar: i = 0; break;
    case Isa::avx2: i = 1; break;
    case Isa::avx512vnni: i = 2; break;
    case Isa::neon: i = 3; break;
  }
#if !defined(__x86_64__)
  if (i == 1 || i == 2) i = 0;
#endif
#if !defined(__aarch64__)
  if (i == 3) i = 0;
#endif
  return kNames[i][static_cast<int>(type)];
}

KvStoreRowFn find_kv_store_row(Isa isa) {
  switch (isa) {
#if defined(__x86_64__)
    case Isa::avx512vnni:
    case Isa::avx2: return kv_store_row__avx2;
#endif
#if defined(__aarch64__)
    case Isa::neon: return kv_store_row__neon;
#endif
    default: return kv_store_row;
  }
}

const MatmulKernel* find_matmul_kernel(TensorType type, Isa isa, bool repacked) {
  for (const auto& k : kernel_table()) {
    if (k.weight_type == type && k.in_place == !repacked && (k.isa == isa || k.in_place)) return &k;
  }
  return nullptr;
}

std::span<const MatmulKernel> all_matmul_kernels() { return kernel_table(); }

}  // namespace qtr::kernels
