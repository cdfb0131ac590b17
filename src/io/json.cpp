#include "qtr/json.hpp"

#include <simdjson.h>

#include <cmath>
#include <set>

#include "qtr/blob.hpp"
#include "qtr/error.hpp"

namespace qtr {

namespace {

[[noreturn]] void wrong_kind(std::string_view where, const char* expected, Json::Kind found) {
  throw Error(Errc::bad_format,
              std::string(where) + ": expected " + expected + ", found " + json_kind_name(found));
}

Json convert(simdjson::dom::element e, const std::string& source) {
  using T = simdjson::dom::element_type;
  switch (e.type()) {
    case T::NULL_VALUE: return Json();
    case T::BOOL: return Json(bool(e.get_bool().value_unsafe()));
    case T::INT64: return Json(int64_t(e.get_int64().value_unsafe()));
    case T::UINT64: return Json(uint64_t(e.get_uint64().value_unsafe()));
    case T::DOUBLE: return Json(double(e.get_double().value_unsafe()));
    case T::STRING: return Json(std::string(e.get_string().value_unsafe()));
    case T::ARRAY: {
      Json::Array a;
      const simdjson::dom::array array = e.get_array().value_unsafe();  // named: a range-for over the temporary
                                                                       // result would dangle
      for (auto item : array) a.push_back(convert(item, source));
      return Json(std::move(a));
    }
    case T::OBJECT: {
      Json::Object o;
      std::set<std::string_view> seen;
      const simdjson::dom::object object = e.get_object().value_unsafe();
      for (auto field : object) {
        if (!seen.insert(field.key).second) {
          throw Error(Errc::bad_format, source + ": invalid JSON: duplicate key \"" + std::string(field.key) + "\"");
        }
        o.emplace_back(std::string(field.key), convert(field.value, source));
      }
      return Json(std::move(o));
    }
  }
  throw Error(Errc::internal, source + ": unexpected JSON element type");
}

}  // namespace

const char* json_kind_name(Json::Kind kind) {
  switch (kind) {
    case Json::Kind::null: return "null";
    case Json::Kind::boolean: return "a boolean";
    case Json::Kind::integer: case Json::Kind::unsigned_integer: return "an integer";
    case Json::Kind::number: return "a number";
    case Json::Kind::string: return "a string";
    case Json::Kind::array: return "an array";
    case Json::Kind::object: return "an object";
  }
  return "?";
}

bool Json::as_bool(std::string_view where) const {
  if (auto* b = std::get_if<bool>(&v_)) return *b;
  wrong_kind(where, "a boolean", kind());
}

int64_t Json::as_int(std::string_view where) const {
  if (auto* i = std::get_if<int64_t>(&v_)) return *i;
  if (auto* d = std::get_if<double>(&v_)) {
    if (std::isfinite(*d) && std::floor(*d) == *d && std::fabs(*d) < 9.2e18) return static_cast<int64_t>(*d);
  }
  if (std::holds_alternative<uint64_t>(v_)) {
    throw Error(Errc::bad_format, std::string(where) + ": integer out of range");
  }
  wrong_kind(where, "an integer", kind());
}

double Json::as_double(std::string_view where) const {
  if (auto* d = std::get_if<double>(&v_)) return *d;
  if (auto* i = std::get_if<int64_t>(&v_)) return static_cast<double>(*i);
  if (auto* u = std::get_if<uint64_t>(&v_)) return static_cast<double>(*u);
  wrong_kind(where, "a number", kind());
}

const std::string& Json::as_string(std::string_view where) const {
  if (auto* s = std::get_if<std::string>(&v_)) return *s;
  wrong_kind(where, "a string", kind());
}

const Json::Array& Json::as_array(std::string_view where) const {
  if (auto* a = std::get_if<Array>(&v_)) return *a;
  wrong_kind(where, "an array", kind());
}

const Json::Object& Json::as_object(std::string_view where) const {
  if (auto* o = std::get_if<Object>(&v_)) return *o;
  wrong_kind(where, "an object", kind());
}

const Json* Json::find(std::string_view key) const {
  const auto* o = std::get_if<Object>(&v_);
  if (!o) return nullptr;
  for (const auto& [k, v] : *o) {
    if (k == key) return &v;
  }
  return nullptr;
}

Json parse_json(std::string_view text, const std::string& source) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element root;
  auto error = parser.parse(padded).get(root);
  if (error) throw Error(Errc::bad_format, source + ": invalid JSON: " + simdjson::error_message(error));
  return convert(root, source);
}

Json read_json_file(const std::string& path) {
  auto blob = Blob::map_file(path);
  return parse_json(std::string_view(reinterpret_cast<const char*>(blob->data()), blob->size()), path);
}

}  // namespace qtr
