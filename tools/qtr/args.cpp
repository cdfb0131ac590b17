#include "args.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "qtr/error.hpp"

namespace qtr::cli {

Args::Args(std::string_view command, std::span<const OptionSpec> specs, const std::vector<std::string>& argv)
    : command_(command) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.size() < 2 || a[0] != '-' || a == "-") {
      positional_.push_back(a);
      continue;
    }
    std::string name = a, inline_value;
    bool has_inline = false;
    if (const auto eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
      name = a.substr(0, eq);
      inline_value = a.substr(eq + 1);
      has_inline = true;
    }
    const OptionSpec* spec = nullptr;
    for (const auto& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (!spec) throw UsageError{"unknown option " + name + " (see qtr " + command_ + " --help)"};
    if (spec->value_name.empty()) {
      if (has_inline) throw UsageError{"option " + name + " takes no value"};
      flags_.insert(name);
      continue;
    }
    std::string value;
    if (has_inline) {
      value = inline_value;
    } else {
      if (i + 1 >= argv.size()) throw UsageError{"option " + name + " needs a value " + std::string(spec->value_name)};
      value = argv[++i];
    }
    if (spec->repeatable) {
      repeated_[name].push_back(value);
      values_[name] = value;
    } else if (!values_.emplace(name, value).second) {
      throw UsageError{"option " + name + " given twice"};
    }
  }
}

std::optional<std::string> Args::string(std::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Args::strings(std::string_view name) const {
  auto it = repeated_.find(std::string(name));
  return it == repeated_.end() ? std::vector<std::string>{} : it->second;
}

std::string Args::require(std::string_view name) const {
  if (auto v = string(name)) return *v;
  throw UsageError{"missing required option " + std::string(name)};
}

int64_t Args::integer(std::string_view name, int64_t fallback, int64_t min, int64_t max) const {
  const auto v = string(name);
  if (!v) return fallback;
  errno = 0;
  char* end = nullptr;
  const long long parsed = std::strtoll(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || errno == ERANGE || parsed < min || parsed > max) {
    throw UsageError{std::string(name) + " must be an integer from " + std::to_string(min) + " to " +
                     std::to_string(max) + ", got '" + *v + "'"};
  }
  return parsed;
}

double Args::number(std::string_view name, double fallback, double min, double max) const {
  const auto v = string(name);
  if (!v) return fallback;
  char* end = nullptr;
  const double parsed = std::strtod(v->c_str(), &end);
  if (v->empty() || *end != '\0' || !std::isfinite(parsed) || parsed < min || parsed > max) {
    std::ostringstream msg;
    msg << name << " must be a number from " << min << " to " << max << ", got '" << *v << "'";
    throw UsageError{msg.str()};
  }
  return parsed;
}

std::string render_help(const Command& command) {
  std::string out = "usage: qtr " + std::string(command.name) + " " + std::string(command.usage) + "\n\n" +
                    std::string(command.summary) + "\n";
  if (!command.options.empty()) out += "\noptions:\n";
  for (const auto& o : command.options) {
    std::string left = "  " + std::string(o.name);
    if (!o.value_name.empty()) left += " " + std::string(o.value_name);
    if (left.size() < 24) left.resize(24, ' ');
    else left += "  ";
    out += left + std::string(o.help) + "\n";
  }
  out += "  --help                show this help\n";
  return out;
}

std::string read_text_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(Errc::io, "cannot open '" + path + "': " + std::strerror(errno));
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace qtr::cli
