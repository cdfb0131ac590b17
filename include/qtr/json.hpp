// Json — a small owned JSON document (parsed with simdjson), used for config.json, tokenizer.json and safetensors
// headers. Objects keep their keys in file order; duplicate keys are rejected as malformed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace qtr {

class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;
  enum class Kind { null, boolean, integer, unsigned_integer, number, string, array, object };

  Json() = default;
  explicit Json(bool b) : v_(b) {}
  explicit Json(int64_t i) : v_(i) {}
  explicit Json(uint64_t u) : v_(u) {}
  explicit Json(double d) : v_(d) {}
  explicit Json(std::string s) : v_(std::move(s)) {}
  explicit Json(Array a) : v_(std::move(a)) {}
  explicit Json(Object o) : v_(std::move(o)) {}

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_null() const { return kind() == Kind::null; }
  bool is_bool() const { return kind() == Kind::boolean; }
  bool is_number() const { return kind() == Kind::integer || kind() == Kind::unsigned_integer || kind() == Kind::number; }
  bool is_integer() const { return kind() == Kind::integer || kind() == Kind::unsigned_integer; }
  bool is_string() const { return kind() == Kind::string; }
  bool is_array() const { return kind() == Kind::array; }
  bool is_object() const { return kind() == Kind::object; }

  // Accessors return nullptr / nullopt-like failure via the `where` message: they throw qtr::Error(bad_format)
  // "<where>: expected <kind>" when the value has another kind.
  bool as_bool(std::string_view where) const;
  int64_t as_int(std::string_view where) const;  // integers (and integral doubles) that fit in int64
  double as_double(std::string_view where) const;
  const std::string& as_string(std::string_view where) const;
  const Array& as_array(std::string_view where) const;
  const Object& as_object(std::string_view where) const;

  // Object member lookup; nullptr when absent or when this is not an object.
  const Json* find(std::string_view key) const;

 private:
  std::variant<std::monostate, bool, int64_t, uint64_t, double, std::string, Array, Object> v_;
};

const char* json_kind_name(Json::Kind kind);

// Parses `text`; throws qtr::Error(bad_format) "<source>: invalid JSON: <reason>".
Json parse_json(std::string_view text, const std::string& source);
// Reads and parses a file; throws qtr::Error(io) when it cannot be read.
Json read_json_file(const std::string& path);

}  // namespace qtr
