// qtr inspect — metadata and tensor table of a GGUF file, or the tensors of a safetensors file / checkpoint.
#include <cinttypes>
#include <cstdio>
#include <filesystem>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "commands.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/matmul.hpp"
#include "kernels/membw.hpp"
#include "qtr/gguf.hpp"
#include "qtr/safetensors.hpp"

namespace qtr::cli {

namespace {

constexpr OptionSpec kOptions[] = {
    {"--model", "PATH", "the file to inspect (or give it as the first argument)"},
    {"--no-tensors", "", "print the metadata only"},
    {"--full-arrays", "", "print every element of metadata arrays"},
    {"--system", "", "instead of a model: the CPU features detected and the kernels chosen"},
    {"--bandwidth", "", "with --system: measure memory-read bandwidth (1 thread and all threads)"},
};

void print_system(bool bandwidth) {
  const auto& f = kernels::cpu_features();
  std::printf("cpu: %s (%s)\nfeatures: %s\n", f.brand.empty() ? "unknown" : f.brand.c_str(), f.vendor.c_str(),
              f.summary().c_str());
  const char* env = std::getenv("QTR_ISA");
  const kernels::Isa isa = kernels::select_isa(env);
  std::printf("isa: %s%s\n", kernels::isa_name(isa), env && *env ? " (forced by QTR_ISA)" : " (best available)");
  std::printf("isas supported here:");
  for (kernels::Isa i : {kernels::Isa::scalar, kernels::Isa::avx2, kernels::Isa::avx512vnni, kernels::Isa::neon}) {
    if (kernels::isa_supported(i)) std::printf(" %s", kernels::isa_name(i));
  }
  std::printf("\nkernels:\n");
  for (const kernels::MatmulKernel& k : kernels::all_matmul_kernels()) {
    if (k.isa == isa) std::printf("  %-6s %s\n", tensor_type_name(k.weight_type).c_str(), std::string(k.name).c_str());
  }
  std::printf("  F32    gemm_f32_f32__%s (F16/BF16 and IQ*/TQ*/Q2_K/Q3_K are converted to F32 at load)\n",
              isa == kernels::Isa::avx512vnni ? "avx512" : kernels::isa_name(isa));
  if (bandwidth) {
    const int all = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int t : {1, all}) {
      const double bw = kernels::measure_read_bandwidth(size_t{1} << 30, t, 5);
      std::printf("read_bandwidth threads=%d gbps=%.2f\n", t, bw / 1e9);
      if (all == 1) break;
    }
  }
}

void print_gguf(const GgufFile& f, bool tensors, bool full_arrays) {
  std::printf("file: %s\nformat: GGUF v%u, alignment %u, data at offset %" PRIu64 "\n", f.source().c_str(),
              f.version(), f.alignment(), f.data_offset());
  std::printf("\nmetadata (%zu):\n", f.metadata().size());
  for (const auto& [key, value] : f.metadata()) {
    std::string type = gguf_type_name(value.type());
    if (const auto* a = std::get_if<GgufArray>(&value.value)) {
      type = std::string("array<") + gguf_type_name(a->element_type) + ">[" + std::to_string(a->items.size()) + "]";
    }
    std::printf("  %-44s %-20s %s\n", key.c_str(), type.c_str(),
                value.to_string(full_arrays ? SIZE_MAX : 8).c_str());
  }
  if (!tensors) return;
  std::printf("\ntensors (%zu):\n  %-36s %-7s %-22s %14s %14s\n", f.tensor_infos().size(), "name", "type", "shape",
              "offset", "bytes");
  uint64_t total = 0;
  for (const auto& t : f.tensor_infos()) {
    TensorView v = f.tensor(t);
    std::printf("  %-36s %-7s %-22s %14" PRIu64 " %14" PRIu64 "\n", t.name.c_str(),
                tensor_type_name(t.type).c_str(), v.shape_string().c_str(), t.offset, t.n_bytes);
    total += t.n_bytes;
  }
  std::printf("  total %" PRIu64 " bytes\n", total);
}

void print_safetensors(const SafetensorsCheckpoint& c, bool tensors) {
  std::printf("checkpoint: %s (%zu safetensors file%s)\n", c.directory().string().c_str(), c.shards().size(),
              c.shards().size() == 1 ? "" : "s");
  for (const auto& shard : c.shards()) {
    std::printf("\nfile: %s\n", shard.source().c_str());
    for (const auto& [k, v] : shard.metadata()) std::printf("  __metadata__ %s = %s\n", k.c_str(), v.c_str());
    if (!tensors) continue;
    std::printf("  %-48s %-6s %-22s %14s\n", "name", "dtype", "shape", "bytes");
    for (const auto& t : shard.tensors()) {
      std::string shape = "[";
      for (size_t i = 0; i < t.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(t.shape[i]);
      shape += "]";
      std::printf("  %-48s %-6s %-22s %14zu\n", t.name.c_str(), t.dtype.c_str(), shape.c_str(), t.data.size());
    }
  }
}

int run(const Args& args) {
  if (args.flag("--system")) {
    print_system(args.flag("--bandwidth"));
    return 0;
  }
  std::string path;
  if (args.has("--model")) path = args.require("--model");
  else if (args.positional().size() == 1) path = args.positional()[0];
  else throw UsageError{"give one model file"};
  const bool tensors = !args.flag("--no-tensors");
  const std::filesystem::path p(path);
  if (std::filesystem::is_directory(p) || p.extension() == ".safetensors") {
    print_safetensors(SafetensorsCheckpoint::open(p), tensors);
  } else {
    print_gguf(GgufFile::open(p), tensors, args.flag("--full-arrays"));
  }
  return 0;
}

}  // namespace

const Command kInspectCommand{"inspect", "Show a model file's metadata and tensor table (or, with --system, the machine).", "MODEL [options] | --system [--bandwidth]",
                              kOptions, &run};

}  // namespace qtr::cli
