#include <array>
#include <string_view>

#include "graph.hpp"
#include "qtr/error.hpp"
#include "qtr/gguf.hpp"

namespace qtr {

namespace {
struct ArchitectureEntry {
  std::string_view name;
  std::unique_ptr<Graph> (*make)(const GgufFile&);
};
constexpr std::array kArchitectures = {
    ArchitectureEntry{"llama", &make_llama_graph},
};
}  // namespace

std::unique_ptr<Graph> make_graph(const GgufFile& file) {
  const std::string arch = file.require_string("general.architecture");
  for (const auto& entry : kArchitectures) {
    if (entry.name == arch) return entry.make(file);
  }
  std::string known;
  for (const auto& entry : kArchitectures) known += (known.empty() ? "" : ", ") + std::string(entry.name);
  throw Error(Errc::unsupported,
              file.source() + ": unsupported architecture '" + arch + "' (supported: " + known + ")");
}

}  // namespace qtr
