#include <cstdio>
#include <sstream>

#include "qtr/gguf.hpp"

namespace qtr {

std::string GgufValue::to_string(size_t max_array_items) const {
  return std::visit(
      [&](const auto& x) -> std::string {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, std::string>) {
          std::string shown = x.size() > 200 ? x.substr(0, 200) + "..." : x;
          std::string escaped;
          for (char c : shown) {
            if (c == '\n') escaped += "\\n";
            else if (c == '"') escaped += "\\\"";
            else escaped += c;
          }
          return "\"" + escaped + "\"";
        } else if constexpr (std::is_same_v<X, GgufArray>) {
          std::string out = "[";
          for (size_t i = 0; i < x.items.size() && i < max_array_items; ++i) {
            if (i) out += ", ";
            out += x.items[i].to_string(max_array_items);
          }
          if (x.items.size() > max_array_items) {
            out += ", ... (" + std::to_string(x.items.size()) + " " + gguf_type_name(x.element_type) + ")";
          }
          return out + "]";
        } else if constexpr (std::is_same_v<X, bool>) {
          return x ? "true" : "false";
        } else if constexpr (std::is_floating_point_v<X>) {
          char buf[64];
          std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(x));
          return buf;
        } else {
          return std::to_string(x);
        }
      },
      value);
}

std::string TensorView::shape_string() const {
  std::string out = "[";
  for (size_t i = 0; i < ne.size(); ++i) out += (i ? ", " : "") + std::to_string(ne[i]);
  return out + "]";
}

}  // namespace qtr
