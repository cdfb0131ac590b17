// The JSON Schema compiler's state, shared by json_schema.cpp (keywords, $ref, combinators, the final grammar) and
// json_schema_emit.cpp (the grammar of each type: objects, arrays, strings, numbers, enums).
//
// A schema (or a list of schemas that must all hold, from allOf, $ref with siblings, or an anyOf branch merged
// with its parent) is first collected into a Norm: its keywords merged (types intersected, bounds tightened,
// required unioned, object and array keywords kept per subschema so that additionalProperties and items keep their
// meaning), then emitted type by type. Subschemas under properties/items are compiled by pointer and memoized, so a
// recursive $ref becomes a recursive rule.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "grammar/gbnf_writer.hpp"
#include "grammar/json_schema_internal.hpp"
#include "qtr/error.hpp"

namespace qtr::grammar::schema_detail {

enum : unsigned { kNull = 1, kBool = 2, kObject = 4, kArray = 8, kString = 16, kInteger = 32, kFraction = 64, kAll = 127 };
inline constexpr uint64_t kNoMax = UINT64_MAX;

struct Sub {
  const Json* schema = nullptr;
  std::string ptr;
};

struct Bound {
  bool set = false;
  double value = 0;
  bool exclusive = false;
  const Json* src = nullptr;
  std::string ptr;
};

struct ObjPart {  // one subschema's properties / additionalProperties / patternProperties
  const Json* properties = nullptr;
  const Json* additional = nullptr;
  const Json* patterns = nullptr;
  std::string ptr;
};

struct ArrPart {  // one subschema's prefixItems (or items as an array) and items (or additionalItems)
  const Json* prefix = nullptr;
  std::string prefix_ptr;
  const Json* items = nullptr;
  std::string items_ptr;
};

struct Choice {
  std::vector<Sub> branches;
  bool one_of = false;
  std::string ptr;
};

struct Norm {
  unsigned types = kAll;
  bool has_enum = false;
  std::vector<Json> values;
  std::string enum_ptr;
  Bound lo, hi;
  const Json* multiple = nullptr;
  std::string multiple_ptr;
  uint64_t min_len = 0, max_len = kNoMax;
  std::string len_ptr;
  std::vector<Sub> patterns;  // schema = the pattern string
  std::string format, format_ptr;
  std::vector<ObjPart> objs;
  std::vector<std::string> required;
  uint64_t min_props = 0, max_props = kNoMax;
  std::vector<ArrPart> arrs;
  uint64_t min_items = 0, max_items = kNoMax;
  std::vector<Choice> choices;
  bool empty = false;  // no value can satisfy it (reason noted)
  std::string ptr;
};

class Compiler {
 public:
  Compiler(const Json& root, const JsonSchemaOptions& options, std::vector<std::string>& relaxed);

  // The expression for values satisfying all of `subs`; nullopt when none can.
  std::optional<std::string> compile_list(std::vector<Sub> subs, bool in_container);
  std::optional<std::string> emit(const Norm& n);
  // The grammar text with `top` as the root's value (pruned, checked against the budgets, and parsed once when
  // `check` is set).
  std::string finish(const std::string& top, bool check);
  const std::string& empty_reason() const { return first_empty_; }

  // json_schema.cpp
  void collect(const Json& s, const std::string& ptr, Norm& n);
  void collect_keyword(const std::string& k, const Json& v, const std::string& ptr, Norm& n);
  void collect_not(const Json& v, const std::string& ptr, Norm& n);
  Sub resolve_ref(const Json& ref, const std::string& ptr);
  bool is_pure_ref(const Json& s) const;
  std::optional<std::string> emit_choice(const Norm& n);
  bool disjoint(const Norm& a, const Norm& b);
  std::optional<std::vector<Json>> property_values(const Norm& n, const std::string& name);

  // json_schema_emit.cpp
  std::optional<std::string> emit_enum(const Norm& n);
  std::optional<std::string> emit_object(const Norm& n);
  std::optional<std::string> emit_array(const Norm& n);
  std::optional<std::string> emit_string(const Norm& n);
  std::optional<std::string> emit_number(const Norm& n);
  std::string pattern_expr(const Sub& pattern);
  bool pattern_matches(const Sub& pattern, const std::string& name);

  // Helpers shared by both files.
  [[noreturn]] static void fail(Errc code, const std::string& message);
  // Refused unless lenient; lenient records the relaxation and returns.
  void unsupported(const std::string& keyword, const std::string& ptr, const std::string& why = "");
  void note_empty(const std::string& ptr, const std::string& why);
  void check_budget() const;
  static std::string at(const std::string& ptr) { return ptr.empty() ? "the root" : ptr; }
  static std::string child(const std::string& ptr, const std::string& key);
  std::string ws() const { return style_.ws(); }

  const Json& root_;
  const JsonSchemaOptions& options_;
  std::vector<std::string>& relaxed_;
  Style style_;
  Rules rules_;
  GbnfWriter regex_out_;
  int depth_ = 0;
  int container_ = 0;
  std::string first_empty_;
  struct Memo {
    std::string name;
    std::optional<std::string> result;
    bool done = false;
    bool used = false;
    int container = 0;
  };
  std::map<std::string, Memo> memo_;
  std::map<std::pair<std::string, std::string>, bool> match_cache_;
};

// RAII depth guard: refuses (out_of_memory) past options.max_depth.
struct DepthGuard {
  DepthGuard(Compiler& c, const std::string& ptr);
  ~DepthGuard() { --c_.depth_; }
  Compiler& c_;
};

}  // namespace qtr::grammar::schema_detail
