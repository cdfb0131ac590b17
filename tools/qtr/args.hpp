// Command-line parsing for the qtr tool: each command declares its options in a table; parsing checks names and
// values and renders --help from the same table.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace qtr::cli {

struct OptionSpec {
  std::string_view name;        // "--n-predict"
  std::string_view value_name;  // "N"; empty for a flag
  std::string_view help;
  bool repeatable = false;      // may be given several times (read with Args::strings)
};

class Args {
 public:
  // Throws UsageError for unknown options, missing values or repeated options.
  Args(std::string_view command, std::span<const OptionSpec> specs, const std::vector<std::string>& argv);

  bool flag(std::string_view name) const { return flags_.count(std::string(name)) != 0; }
  bool has(std::string_view name) const { return values_.count(std::string(name)) != 0; }
  std::optional<std::string> string(std::string_view name) const;
  // Every value of a repeatable option, in command-line order.
  std::vector<std::string> strings(std::string_view name) const;
  std::string require(std::string_view name) const;
  int64_t integer(std::string_view name, int64_t fallback, int64_t min, int64_t max) const;
  double number(std::string_view name, double fallback, double min, double max) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::string command_;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::vector<std::string>> repeated_;
  std::set<std::string> flags_;
  std::vector<std::string> positional_;
};

struct UsageError {
  std::string message;
};

struct Command {
  std::string_view name;
  std::string_view summary;
  std::string_view usage;  // after "qtr <name> "
  std::span<const OptionSpec> options;
  int (*run)(const Args& args);
};

std::string render_help(const Command& command);

// Reads a whole file (for --file); throws qtr::Error(io).
std::string read_text_file(const std::string& path);

}  // namespace qtr::cli
