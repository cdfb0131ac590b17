// JSON Schema → GBNF: table-driven checks that the grammar accepts the instances that validate (in json.dumps
// spacing, compact, indented, any property order) and rejects the ones that do not, plus the error messages
// (keyword + pointer), lenient relaxations and budgets.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "grammar/grammar.hpp"
#include "grammar/json_schema.hpp"
#include "qtr/error.hpp"
#include "qtr/json.hpp"

namespace {

using qtr::Errc;
using qtr::Json;
using qtr::grammar::gbnf_accepts;
using qtr::grammar::json_schema_to_gbnf;
using qtr::grammar::JsonSchemaOptions;

struct Case {
  const char* schema;
  std::vector<std::string> accept;
  std::vector<std::string> reject;
};

Json parse(const std::string& s) { return qtr::parse_json(s, "schema"); }

void run_cases(const std::vector<Case>& cases, const JsonSchemaOptions& options = {}) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.schema);
    std::string gbnf;
    try {
      gbnf = json_schema_to_gbnf(parse(c.schema), options).gbnf;
    } catch (const qtr::Error& e) {
      ADD_FAILURE() << "compile failed: " << e.what();
      continue;
    }
    for (const std::string& a : c.accept) EXPECT_TRUE(gbnf_accepts(gbnf, a)) << "should accept: " << a << "\n" << gbnf;
    for (const std::string& r : c.reject) EXPECT_FALSE(gbnf_accepts(gbnf, r)) << "should reject: " << r << "\n" << gbnf;
  }
}

// The error a schema gives: its code and message ("" when it compiles).
std::pair<Errc, std::string> error_of(const std::string& schema, const JsonSchemaOptions& options = {}) {
  try {
    (void)json_schema_to_gbnf(parse(schema), options);
  } catch (const qtr::Error& e) {
    return {e.code(), e.what()};
  }
  return {Errc::internal, ""};
}

TEST(JsonSchemaTypes, ScalarsAndTypeLists) {
  run_cases({
      {R"({"type": "string"})", {R"("")", R"("abc")", R"("a\"b\\c\n\u00e9\ud83d\ude00")", "\"\xc3\xa9\""},
       {"abc", R"("a)", "1", "null", R"("\x")", R"("\ud800")", "\"a\nb\""}},
      {R"({"type": "integer"})", {"0", "-7", "123456789012345678901234", "1.0", "-3.00", "-0"}, {"1.5", "01", "+1", "1e3", "\"1\"", ""}},
      {R"({"type": "number"})", {"0", "-7.25", "1e10", "1.5E-3", "-0.0"}, {"01", ".5", "1.", "+1", "1e", "NaN"}},
      {R"({"type": "boolean"})", {"true", "false"}, {"True", "0", "null"}},
      {R"({"type": "null"})", {"null"}, {"0", "\"null\""}},
      {R"({"type": ["string", "null"]})", {"null", R"("x")"}, {"1", "[]"}},
      {R"(true)", {"1", R"({"a": [1, {"b": null}]})", R"("s")", "[]"}, {"", "[1,]", "{a:1}"}},
      {R"({})", {"null", R"({"x": 1})"}, {"nul"}},
      {R"({"type": "object"})", {"{}", R"({"a": 1, "b": [true]})"}, {"[]", R"({"a"})"}},
      {R"({"type": "array"})", {"[]", "[1, \"a\", [null]]"}, {"{}", "[1 2]"}},
  });
}

TEST(JsonSchemaWhitespace, DumpsCompactIndentAndBounds) {
  const char* schema = R"({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "array", "items": {"type": "string"}}}, "required": ["a"]})";
  run_cases({{schema,
              {R"({"a": 1})", R"({"a":1})", R"({"a": 1, "b": ["x", "y"]})", "{\n  \"a\": 1,\n  \"b\": [\n    \"x\"\n  ]\n}",
               "  {\"a\": 1}\n", R"({ "a" : 1 , "b" : [ ] })"},
              {R"({"b": []})", "{\"a\": 1" + std::string(21, ' ') + "}", R"({"a": 1,})"}}});
  JsonSchemaOptions compact;
  compact.compact = true;
  run_cases({{schema, {R"({"a":1})", R"({"a":1,"b":["x"]})"}, {R"({"a": 1})", " {\"a\":1}", R"({"a":1, "b":[]})"}}}, compact);
}

TEST(JsonSchemaConst, ValuesAndSpellings) {
  run_cases({
      {R"({"const": 1})", {"1", "1.0", "1.00"}, {"2", "\"1\"", "1.5", "01", "true"}},
      {R"({"const": 1.5})", {"1.5", "1.50"}, {"1", "15e-1"}},
      {R"({"const": 0})", {"0", "-0", "0.0", "-0.0"}, {"1", "00"}},
      {R"({"const": 1e16})", {"10000000000000000", "1e+16"}, {"1e16x"}},
      {R"({"const": "\u00e9\n"})", {"\"\xc3\xa9\\n\"", R"("\u00e9\n")", R"("\u00E9\n")"}, {R"("e\n")", "\"\xc3\xa9\""}},
      {R"({"const": {"a": [1, null], "b": "x"}})", {R"({"a": [1, null], "b": "x"})", R"({"a":[1,null],"b":"x"})"}, {R"({"a": [1], "b": "x"})"}},
      {R"({"enum": ["red", "green", 3, null]})", {R"("red")", R"("green")", "3", "3.0", "null"}, {R"("blue")", "4", R"("Red")"}},
      {R"({"type": "string", "enum": ["a", 1, "b"]})", {R"("a")", R"("b")"}, {"1"}},
      {R"({"type": "integer", "enum": [1, 1.5, 2]})", {"1", "2"}, {"1.5"}},
      {R"({"enum": [1, 5, 12], "minimum": 4, "maximum": 10})", {"5"}, {"1", "12"}},
      {R"({"enum": ["ab", "abcd"], "maxLength": 3})", {R"("ab")"}, {R"("abcd")"}},
      {R"({"allOf": [{"enum": [1, 2, 3]}, {"enum": [2, 3, 4]}]})", {"2", "3"}, {"1", "4"}},
  });
}

TEST(JsonSchemaObjects, PropertyOrderRequiredAndExtras) {
  run_cases({
      // any order, no duplicates, required ones present
      {R"({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}, "c": {"type": "boolean"}}, "required": ["a", "b"], "additionalProperties": false})",
       {R"({"a": 1, "b": "x"})", R"({"b": "x", "a": 1})", R"({"c": true, "b": "x", "a": 1})", R"({"a": 1, "c": false, "b": "x"})"},
       {R"({"a": 1})", R"({"a": 1, "b": "x", "a": 2})", R"({"a": 1, "b": "x", "d": 1})", R"({"a": "1", "b": "x"})", "{}"}},
      // additionalProperties default true: extra keys anywhere, but a named key must use its own schema
      {R"({"properties": {"a": {"type": "integer"}}})",
       {"{}", R"({"a": 1})", R"({"x": "y", "a": 1, "z": [1]})", R"({"aa": "s"})", R"({"": 1})"},
       {R"({"a": "s"})", R"({"x": 1, "a": null})"}},
      // additionalProperties: schema
      {R"({"type": "object", "properties": {"name": {"type": "string"}}, "additionalProperties": {"type": "integer"}})",
       {R"({"name": "n", "k": 1})", R"({"k": 1, "name": "n", "nam": 2, "names": 3})"},
       {R"({"name": 1})", R"({"k": "v"})", R"({"n\u0061me": 1})"}},
      // required without properties
      {R"({"type": "object", "required": ["id"]})", {R"({"id": 1})", R"({"x": 1, "id": null})"}, {R"({"x": 1})"}},
      // minProperties / maxProperties
      {R"({"type": "object", "minProperties": 1, "maxProperties": 2})", {R"({"a": 1})", R"({"a": 1, "b": 2})"}, {"{}", R"({"a": 1, "b": 2, "c": 3})"}},
      {R"({"type": "object", "properties": {"a": {}, "b": {}}, "additionalProperties": false, "minProperties": 2})",
       {R"({"b": 1, "a": 2})"}, {R"({"a": 1})"}},
  });
  // more than 8 properties: declared order only
  std::string props, all_in_order, reversed;
  for (int i = 0; i < 10; ++i) {
    const std::string k = "p" + std::to_string(i);
    props += (i ? ", " : "") + std::string("\"") + k + "\": {\"type\": \"integer\"}";
  }
  const std::string schema = R"({"type": "object", "properties": {)" + props + R"(}, "required": ["p0", "p9"], "additionalProperties": false})";
  run_cases({{schema.c_str(),
              {R"({"p0": 0, "p9": 9})", R"({"p0": 0, "p3": 3, "p4": 4, "p9": 9})", R"({"p0":0,"p1":1,"p2":2,"p3":3,"p4":4,"p5":5,"p6":6,"p7":7,"p8":8,"p9":9})"},
              {R"({"p9": 9, "p0": 0})", R"({"p0": 0})", R"({"p0": 0, "p0": 0, "p9": 9})"}}});
}

TEST(JsonSchemaObjects, ExtraKeysDifferFromNamesInAnySpelling) {
  run_cases({
      {R"({"type": "object", "properties": {"caf\u00e9": {"type": "integer"}, "a": {"type": "null"}}, "additionalProperties": {"type": "string"}})",
       {"{\"caf\xc3\xa9\": 1}", R"({"caf\u00e9": 1})", R"({"cafe": "s"})", R"({"caf\u00e9s": "s", "b": "t"})", R"({"ab": "s", "a": null})"},
       {"{\"caf\xc3\xa9\": \"s\"}", R"({"caf\u00E9": "s"})", R"({"\u0061": "s"})", R"({"\a": "s"})", R"({"a": "s"})"}},
      // a pydantic-style model
      {R"({"title": "User", "type": "object", "$defs": {"Role": {"enum": ["admin", "user"], "type": "string"}},
           "properties": {"id": {"type": "integer", "minimum": 1}, "email": {"type": "string", "format": "email"},
                          "role": {"$ref": "#/$defs/Role", "default": "user"}, "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
                          "nick": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null}},
           "required": ["id", "email"], "additionalProperties": false})",
       {R"({"id": 1, "email": "a@b.c"})", "{\n  \"email\": \"a@b.c\",\n  \"id\": 7,\n  \"role\": \"admin\",\n  \"tags\": [\"x\"],\n  \"nick\": null\n}"},
       {R"({"id": 0, "email": "a@b.c"})", R"({"id": 1, "email": "ab.c"})", R"({"id": 1, "email": "a@b.c", "role": "root"})",
        R"({"id": 1, "email": "a@b.c", "tags": ["1", "2", "3", "4"]})"}},
  });
}

TEST(JsonSchemaArrays, ItemsPrefixAndCounts) {
  run_cases({
      {R"({"type": "array", "items": {"type": "integer"}})", {"[]", "[1]", "[1, 2, 3]", "[\n  1,\n  2\n]"}, {"[1, \"a\"]", "[1,]", "[,]"}},
      {R"({"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 3})", {"[1, 2]", "[1, 2, 3]"}, {"[]", "[1]", "[1, 2, 3, 4]"}},
      {R"({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": false})",
       {"[]", "[\"a\"]", "[\"a\", 1]"}, {"[1]", "[\"a\", 1, 2]", "[\"a\", \"b\"]"}},
      {R"({"type": "array", "prefixItems": [{"type": "string"}], "items": {"type": "boolean"}, "minItems": 2})",
       {"[\"a\", true]", "[\"a\", true, false]"}, {"[\"a\"]", "[\"a\", 1]"}},
      {R"({"type": "array", "items": [{"type": "string"}, {"type": "null"}], "additionalItems": false})",
       {"[\"a\", null]", "[\"a\"]"}, {"[\"a\", null, 1]", "[null]"}},
      {R"({"type": "array", "uniqueItems": false, "maxItems": 0})", {"[]", "[ ]"}, {"[1]"}},
  });
}

TEST(JsonSchemaStrings, LengthsAndFormats) {
  run_cases({
      {R"({"type": "string", "minLength": 2, "maxLength": 3})",
       {R"("ab")", R"("abc")", R"("\n\t")", R"("\u00e9\u00e9")", "\"\xc3\xa9\xc3\xa9\"", R"("\ud83d\ude00x")"},
       {R"("a")", R"("abcd")", R"("\n")", "\"\xc3\xa9\""}},
      {R"({"type": "string", "format": "date"})",
       {R"("2021-01-31")", R"("2020-02-29")", R"("2000-02-29")", R"("2021-04-30")"},
       {R"("2021-02-30")", R"("2021-02-29")", R"("1900-02-29")", R"("2021-04-31")", R"("2021-13-01")", R"("2021-1-01")", R"("20210101")"}},
      {R"({"format": "time"})", {R"("08:30:06Z")", R"("23:59:60Z")", R"("08:30:06.283185+01:30")", R"("08:30:06z")"},
       {R"("08:30:06")", R"("24:00:00Z")", R"("22:59:60Z")", R"("08:30:06+1:30")"}},
      {R"({"format": "date-time"})", {R"("1963-06-19T08:30:06.283185Z")", R"("1963-06-19t08:30:06+00:00")"}, {R"("1963-06-19 08:30:06Z")", R"("1963-06-19")"}},
      {R"({"format": "duration"})", {R"("P4DT12H30M5S")", R"("P4Y")", R"("PT36H")", R"("P1W")", R"("P1Y2M3D")", R"("PT1M")"},
       {R"("P")", R"("PT")", R"("P1D2H")", R"("P2S")", R"("P1Y2W")", R"("PT1D")", R"("4DT12H30M5S")"}},
      {R"({"format": "uuid"})", {R"("2EB8AA08-AA98-11EA-B4AA-73B441D16380")", R"("2eb8aa08-aa98-11ea-b4aa-73b441d16380")"},
       {R"("2eb8aa08-aa98-11ea-b4aa-73b441d1638")", R"("2eb8aa08aa9811eab4aa73b441d16380")", R"("2eb8aa08-aa98-11ea-b4aa-73b441d1638g")"}},
      {R"({"format": "ipv4"})", {R"("192.168.0.1")", R"("0.0.0.0")", R"("255.255.255.255")"},
       {R"("256.1.1.1")", R"("192.168.0")", R"("087.10.0.1")", R"("1.2.3.4.5")"}},
      {R"({"format": "ipv6"})", {R"("::1")", R"("::")", R"("1:2:3:4:5:6:7:8")", R"("fe80::a:b")", R"("::ffff:192.168.0.1")", R"("1::8")", R"("1:2:3:4:5:6::")"},
       {R"("12345::")", R"("1:2:3:4:5:6:7:8:9")", R"("1::2::3")", R"(":1")", R"("::ffff:256.0.0.1")", R"("fe80::a%eth1")"}},
      {R"({"format": "hostname"})", {R"("www.example.com")", R"("xn--4gbwdl.xn--wgbh1c")", R"("a")", R"("1host")"},
       {R"("-a.com")", R"("a-.com")", R"("a..b")", R"("")", "\"" + std::string(64, 'a') + "\""}},
      {R"({"format": "email"})", {R"("joe.bloggs@example.com")", R"("te~st@example.com")", R"("x@[127.0.0.1]")"},
       {R"("joe")", R"("@example.com")", R"(".joe@example.com")", R"("joe..b@example.com")"}},
      {R"({"format": "uri"})", {R"("http://foo.bar/?baz=qux#quux")", R"("urn:isbn:0451450523")", R"("http:\/\/x.y")", R"("mailto:a%20b@c.d")"},
       {R"("//foo.bar/?baz=qux")", R"("abc")", R"("http:// shouldfail.com")", R"("1http://x")"}},
      {R"({"type": "string", "format": "color-name"})", {R"("anything")"}, {"1"}},
      {R"({"format": "date"})", {R"("2021-01-31")", "1", "null"}, {R"("2021-02-30")"}},
  });
}

TEST(JsonSchemaNumbers, IntegerRangesExactly) {
  const struct {
    const char* schema;
    long lo, hi;  // inclusive; LONG_MIN/LONG_MAX = unbounded
  } ranges[] = {
      {R"({"type": "integer", "minimum": -15, "maximum": 107})", -15, 107},
      {R"({"type": "integer", "exclusiveMinimum": -15, "exclusiveMaximum": 107})", -14, 106},
      {R"({"type": "integer", "minimum": 10})", 10, LONG_MAX},
      {R"({"type": "integer", "maximum": -3})", LONG_MIN, -3},
      {R"({"type": "integer", "minimum": 0, "maximum": 0})", 0, 0},
      {R"({"type": "integer", "minimum": 2.5, "maximum": 99.5})", 3, 99},
      {R"({"type": "integer", "minimum": -1000, "maximum": -990})", -1000, -990},
      {R"({"type": "integer", "minimum": 95, "maximum": 1005})", 95, 1005},
      {R"({"type": "integer", "exclusiveMinimum": 0})", 1, LONG_MAX},
      {R"({"allOf": [{"type": "integer", "minimum": 1}, {"maximum": 50}, {"minimum": 5}]})", 5, 50},
  };
  for (const auto& r : ranges) {
    SCOPED_TRACE(r.schema);
    const std::string gbnf = json_schema_to_gbnf(parse(r.schema)).gbnf;
    for (long v = -1100; v <= 1100; v += (v > -20 && v < 120) ? 1 : 7) {
      const bool in = v >= r.lo && v <= r.hi;
      EXPECT_EQ(gbnf_accepts(gbnf, std::to_string(v)), in) << v << "\n" << gbnf;
    }
    EXPECT_FALSE(gbnf_accepts(gbnf, "007"));
  }
  run_cases({
      {R"({"type": "integer", "minimum": -15, "maximum": 107})", {"107.0", "-15", "0", "-0", "-0.0"}, {"107.5", "-15.5", "108.0", "1e2"}},
      {R"({"type": "integer", "minimum": 1e20})", {"100000000000000000000", "999999999999999999999"}, {"99999999999999999999"}},
  });
}

TEST(JsonSchemaNumbers, NumberBounds) {
  run_cases({
      {R"({"type": "number", "minimum": 0, "maximum": 10})", {"0", "10", "10.0", "9.99", "0.001", "-0", "-0.0", "5"}, {"10.5", "-0.5", "11", "-1", "10.01"}},
      {R"({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1})", {"0.5", "0.0001", "0.9999"}, {"0", "1", "0.0", "1.0", "-0.5"}},
      {R"({"type": "number", "minimum": -2})", {"-2", "-1.5", "-2.000", "0", "123.5"}, {"-2.1", "-3", "1e0" /* exponents: not in bounded grammars */}},
      {R"({"type": "number", "maximum": -2})", {"-2", "-2.5", "-100"}, {"-1.5", "0", "2"}},
  });
}

TEST(JsonSchemaRefs, LocalPointersAndRecursion) {
  run_cases({
      {R"({"$defs": {"node": {"type": "object", "properties": {"value": {"type": "integer"}, "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}}, "required": ["value"], "additionalProperties": false}}, "$ref": "#/$defs/node"})",
       {R"({"value": 1})", R"({"value": 1, "children": [{"value": 2, "children": []}, {"children": [{"value": 4}], "value": 3}]})"},
       {R"({"value": 1, "children": [{"children": []}]})", R"({"value": 1, "children": [1]})"}},
      {R"({"type": "object", "properties": {"next": {"anyOf": [{"$ref": "#"}, {"type": "null"}]}, "v": {"type": "string"}}, "required": ["next"]})",
       {R"({"next": null})", R"({"next": {"next": {"next": null, "v": "x"}}})"}, {R"({"next": {}})", R"({})"}},
      {R"({"definitions": {"a/b": {"type": "integer"}, "c~d": {"type": "string"}, "e f": {"type": "null"}}, "type": "array", "prefixItems": [{"$ref": "#/definitions/a~1b"}, {"$ref": "#/definitions/c~0d"}, {"$ref": "#/definitions/e%20f"}]})",
       {"[1, \"x\", null]"}, {"[\"x\"]", "[1, 1]"}},
      {R"({"$id": "https://example.com/s.json", "$defs": {"x": {"type": "boolean"}}, "$ref": "https://example.com/s.json#/$defs/x"})", {"true"}, {"1"}},
  });
  auto [code, msg] = error_of(R"({"$ref": "#/$defs/missing"})");
  EXPECT_EQ(code, Errc::invalid_argument);
  EXPECT_NE(msg.find("'$ref' at the root: '#/$defs/missing' does not resolve"), std::string::npos) << msg;
  std::tie(code, msg) = error_of(R"({"properties": {"a": {"$ref": "other.json#/x"}}})");
  EXPECT_EQ(code, Errc::unsupported);
  EXPECT_NE(msg.find("/properties/a"), std::string::npos) << msg;
  std::tie(code, msg) = error_of(R"({"anyOf": [{"$ref": "#"}, {"type": "string"}]})");
  EXPECT_EQ(code, Errc::invalid_argument);
  EXPECT_NE(msg.find("circular"), std::string::npos) << msg;
  std::tie(code, msg) = error_of(R"({"type": "object", "properties": {"a": {"$ref": "#"}}, "required": ["a"]})");
  EXPECT_EQ(code, Errc::invalid_argument);
  EXPECT_NE(msg.find("no value can satisfy"), std::string::npos) << msg;
}

TEST(JsonSchemaCombinators, AnyOneAllNot) {
  run_cases({
      {R"({"anyOf": [{"type": "string", "maxLength": 2}, {"type": "integer", "minimum": 5}]})", {R"("ab")", "5", "100"}, {R"("abc")", "4", "null"}},
      {R"({"oneOf": [{"type": "string"}, {"type": "integer"}]})", {R"("a")", "1"}, {"1.5", "null"}},
      {R"({"oneOf": [{"type": "object", "properties": {"kind": {"const": "a"}, "x": {"type": "integer"}}, "required": ["kind"]},
                      {"type": "object", "properties": {"kind": {"const": "b"}, "y": {"type": "string"}}, "required": ["kind"]}]})",
       {R"({"kind": "a", "x": 1})", R"({"y": "s", "kind": "b"})"}, {R"({"kind": "a", "x": "s"})", R"({"kind": "c"})"}},
      {R"({"type": "object", "properties": {"a": {"type": "integer"}}, "anyOf": [{"required": ["a"]}, {"required": ["b"]}]})",
       {R"({"a": 1})", R"({"b": 1})"}, {R"({})", R"({"a": "x", "c": 1})"}},
      {R"({"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}, {"properties": {"b": {"type": "string"}}, "required": ["b"]}]})",
       {R"({"a": 1, "b": "x"})", R"({"b": "x", "a": 1, "c": null})"}, {R"({"a": 1})", R"({"a": 1, "b": 2})"}},
      {R"({"allOf": [{"properties": {"a": {"type": "integer"}}, "additionalProperties": false}, {"properties": {"b": {}}}]})",
       {R"({"a": 1})", "{}"}, {R"({"b": 1})"}},
      {R"({"not": {"type": "string"}})", {"1", "null", "[]"}, {R"("s")"}},
      {R"({"type": ["string", "null"], "not": {"type": "null"}})", {R"("s")"}, {"null"}},
  });
  auto [code, msg] = error_of(R"({"oneOf": [{"type": "integer"}, {"type": "number"}]})");
  EXPECT_EQ(code, Errc::unsupported);
  EXPECT_NE(msg.find("'oneOf' at the root"), std::string::npos) << msg;
}

TEST(JsonSchemaPattern, PatternAndPatternProperties) {
  // regex_to_gbnf comes from regex.cpp; these run once it is in.
  try {
    (void)json_schema_to_gbnf(parse(R"({"type": "string", "pattern": "^a"})"));
  } catch (const qtr::Error& e) {
    if (std::string(e.what()).find("regex") != std::string::npos) GTEST_SKIP() << e.what();
  }
  run_cases({
      {R"({"type": "string", "pattern": "^[a-z]+-[0-9]{2}$"})", {R"("ab-12")"}, {R"("ab-1")", R"("Ab-12")", R"(" ab-12")"}},
      {R"({"type": "string", "pattern": "b"})", {R"("abc")", R"("b")"}, {R"("ac")"}},
      {R"({"type": "object", "patternProperties": {"^x-": {"type": "integer"}}, "properties": {"id": {"type": "string"}}, "additionalProperties": false})",
       {R"({"id": "a", "x-a": 1})", R"({"x-b": 2, "id": "q"})", "{}"}, {R"({"x-a": "s"})", R"({"y": 1})"}},
  });
}

TEST(JsonSchemaErrors, MessagesNameKeywordAndPointer) {
  const struct {
    const char* schema;
    Errc code;
    const char* message;
  } cases[] = {
      {R"({"properties": {"tags": {"type": "array", "uniqueItems": true}}})", Errc::unsupported, "json-schema: 'uniqueItems' at /properties/tags is not supported"},
      {R"({"items": {"contains": {"type": "integer"}}})", Errc::unsupported, "'contains' at /items is not supported"},
      {R"({"if": {"type": "string"}, "then": {"minLength": 1}})", Errc::unsupported, "'if' at the root is not supported"},
      {R"({"type": "integer", "multipleOf": 3})", Errc::unsupported, "'multipleOf' at the root"},
      {R"({"not": {"enum": [1]}})", Errc::unsupported, "'not' at the root"},
      {R"({"type": 5})", Errc::invalid_argument, "'type' at the root must be a string"},
      {R"({"properties": {"a": {"type": "strin"}}})", Errc::invalid_argument, "'type' at /properties/a: unknown type 'strin'"},
      {R"({"minLength": -1})", Errc::invalid_argument, "'minLength' at the root must be a non-negative integer"},
      {R"(false)", Errc::invalid_argument, "no value can satisfy the schema at the root (the schema is false)"},
      {R"({"enum": []})", Errc::invalid_argument, "no value can satisfy the schema at the root"},
      {R"({"type": "integer", "minimum": 5, "maximum": 3})", Errc::invalid_argument, "no value can satisfy the schema at the root"},
      {R"({"type": "string", "allOf": [{"type": "integer"}]})", Errc::invalid_argument, "no value can satisfy"},
      {R"({"type": "object", "properties": {"a": false}, "required": ["a"]})", Errc::invalid_argument, "no value can satisfy"},
      {R"({"type": "string", "pattern": "a", "maxLength": 3})", Errc::unsupported, "'maxLength' at the root is not supported"},
      {R"({"properties": 3})", Errc::invalid_argument, "'properties' at the root must be an object"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.schema);
    const auto [code, msg] = error_of(c.schema);
    EXPECT_EQ(code, c.code) << msg;
    EXPECT_NE(msg.find(c.message), std::string::npos) << msg;
  }
}

TEST(JsonSchemaLenient, RelaxationsAreReported) {
  JsonSchemaOptions lenient;
  lenient.lenient = true;
  const auto r = json_schema_to_gbnf(parse(R"({"type": "object", "properties": {"tags": {"type": "array", "uniqueItems": true, "items": {"type": "string"}}, "n": {"type": "integer", "multipleOf": 3}}})"), lenient);
  ASSERT_EQ(r.relaxed.size(), 2u);
  EXPECT_EQ(r.relaxed[0], "'uniqueItems' at /properties/tags: not enforced");
  EXPECT_NE(r.relaxed[1].find("'multipleOf' at /properties/n"), std::string::npos);
  EXPECT_TRUE(gbnf_accepts(r.gbnf, R"({"tags": ["a", "a"], "n": 4})"));
  EXPECT_FALSE(gbnf_accepts(r.gbnf, R"({"tags": [1]})"));
  const auto o = json_schema_to_gbnf(parse(R"({"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 0.5}]})"), lenient);
  EXPECT_EQ(o.relaxed.size(), 2u);
  EXPECT_TRUE(gbnf_accepts(o.gbnf, "1"));
  EXPECT_TRUE(gbnf_accepts(o.gbnf, "0.7"));
  EXPECT_FALSE(gbnf_accepts(o.gbnf, "-0.7"));
}

TEST(JsonSchemaBudgets, DepthRulesAndBytes) {
  Json deep{Json::Object{{"type", Json(std::string("integer"))}}};
  for (int i = 0; i < 1000; ++i) deep = Json(Json::Object{{"type", Json(std::string("array"))}, {"items", deep}});
  try {
    (void)json_schema_to_gbnf(deep);
    ADD_FAILURE() << "a schema nesting 1000 deep compiled";
  } catch (const qtr::Error& e) {
    EXPECT_EQ(e.code(), Errc::out_of_memory);
    EXPECT_NE(std::string(e.what()).find("max_depth (64)"), std::string::npos) << e.what();
  }
  JsonSchemaOptions small;
  small.max_rules = 20;
  auto [code, msg] = error_of(R"({"type": "object", "properties": {"a": {}, "b": {}, "c": {}, "d": {}, "e": {}, "f": {}}})", small);
  EXPECT_EQ(code, Errc::out_of_memory) << msg;
  JsonSchemaOptions tiny;
  tiny.max_grammar_bytes = 200;
  std::tie(code, msg) = error_of(R"({"type": "string", "format": "ipv6"})", tiny);
  EXPECT_EQ(code, Errc::out_of_memory) << msg;
  JsonSchemaOptions big;
  std::tie(code, msg) = error_of(R"({"type": "string", "maxLength": 100000})", big);
  EXPECT_EQ(code, Errc::unsupported) << msg;
}

}  // namespace
