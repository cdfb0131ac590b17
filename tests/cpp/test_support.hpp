// Helpers shared by the GoogleTest suite.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <optional>
#include <string>

namespace qtr::test {

// ../shared beside the repository (or $QTR_SHARED); nullopt when absent, so tests can skip cleanly.
inline std::optional<std::filesystem::path> shared_dir() {
  std::filesystem::path dir;
  if (const char* env = std::getenv("QTR_SHARED")) dir = env;
  else dir = std::filesystem::path(QTR_SOURCE_DIR) / ".." / "shared";
  if (std::filesystem::is_directory(dir)) return std::filesystem::canonical(dir);
  return std::nullopt;
}

#define QTR_REQUIRE_SHARED(dir_var)                                                                      \
  const auto dir_var##_opt = ::qtr::test::shared_dir();                                                  \
  if (!dir_var##_opt) GTEST_SKIP() << "../shared not found (set QTR_SHARED): skipping test that needs it"; \
  const std::filesystem::path dir_var = *dir_var##_opt

// The whole file, as bytes in a string.
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// A fresh temporary directory, removed when the object goes out of scope.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "qtr-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace qtr::test
