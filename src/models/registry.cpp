#include <array>
#include <string_view>

#include "graph.hpp"
#include "qtr/error.hpp"
#include "qtr/gguf.hpp"

namespace qtr {

namespace {
struct ArchitectureEntry {
  std::string_view name;
  std::unique_ptr<Graph> (*make)(const GgufFile&, const ops::WeightOptions&, int);
};
constexpr std::array kArchitectures = {
    ArchitectureEntry{"llama", &make_llama_graph},
    ArchitectureEntry{"qwen2", &make_qwen2_graph},
    ArchitectureEntry{"qwen3", &make_qwen3_graph},
    ArchitectureEntry{"phi3", &make_phi3_graph},
    ArchitectureEntry{"gemma3", &make_gemma3_graph},
};
}  // namespace

std::unique_ptr<Graph> make_graph(const GgufFile& file, const ops::WeightOptions& options, int n_threads) {
  const std::string arch = file.require_string("general.architecture");
  for (const auto& entry : kArchitectures) {
    if (entry.name == arch) return entry.make(file, options, n_threads);
  }
  std::string known;
  for (const auto& entry : kArchitectures) known += (known.empty() ? "" : ", ") + std::string(entry.name);
  throw Error(Errc::unsupported,
              file.source() + ": unsupported architecture '" + arch + "' (supported: " + known + ")");
}

}  // namespace qtr
