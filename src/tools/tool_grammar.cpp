// The grammar of a reply that calls tools: a JSON Schema per call (the name as a const, the arguments as the
// function's `parameters`), compiled by the JSON Schema compiler and wrapped in the format's own syntax.
#include <cctype>

#include "grammar/gbnf_writer.hpp"
#include "grammar/json_schema.hpp"
#include "qtr/error.hpp"
#include "qtr/tool_calls.hpp"

namespace qtr {
namespace {

// Prefixes every rule name of a GBNF text (outside literals, classes and comments) with `prefix`, so that a
// compiled schema can be embedded in a larger grammar; its root becomes prefix + "root".
std::string prefix_rules(const std::string& gbnf, const std::string& prefix) {
  std::string out;
  out.reserve(gbnf.size() * 2);
  for (size_t i = 0; i < gbnf.size();) {
    const char c = gbnf[i];
    if (c == '"' || c == '[') {
      const char close = c == '"' ? '"' : ']';
      size_t j = i + 1;
      while (j < gbnf.size() && gbnf[j] != close) j += gbnf[j] == '\\' ? 2 : 1;
      out.append(gbnf, i, j + 1 - i);
      i = j + 1;
    } else if (c == '{') {  // a repetition count
      while (i < gbnf.size() && gbnf[i] != '}') out += gbnf[i++];
    } else if (c == '#') {
      while (i < gbnf.size() && gbnf[i] != '\n') out += gbnf[i++];
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') {
      size_t j = i;
      while (j < gbnf.size() && (std::isalnum(static_cast<unsigned char>(gbnf[j])) || gbnf[j] == '-' || gbnf[j] == '_')) ++j;
      out += prefix;
      out.append(gbnf, i, j - i);
      i = j;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

Json str(const std::string& s) { return Json(s); }

// {"name": {"const": N}, <args_key>: parameters, (extra)} with every key required and nothing else.
// The arguments as the call grammar enforces them: like OpenAI's strict mode, an object schema that does not say
// whether other keys are allowed gets additionalProperties: false (small models otherwise invent keys).
Json strict_parameters(const Json& p) {
  if (!p.is_object() || p.find("additionalProperties") || p.find("patternProperties")) return p;
  Json::Object o = p.as_object("parameters");
  o.emplace_back("additionalProperties", Json(false));
  return Json(std::move(o));
}

Json call_schema(const ToolFunction& f, const char* args_key, bool with_id) {
  Json::Object props{{"name", Json(Json::Object{{"const", str(f.name)}})}, {args_key, strict_parameters(f.parameters)}};
  Json::Array required{str("name"), str(args_key)};
  if (with_id) {
    props.emplace_back("id", Json(Json::Object{{"type", str("string")}, {"pattern", str("^[a-zA-Z0-9]{9}$")}}));
    required.push_back(str("id"));
  }
  return Json(Json::Object{{"type", str("object")}, {"properties", Json(std::move(props))},
                           {"required", Json(std::move(required))}, {"additionalProperties", Json(false)}});
}

Json any_of(Json::Array options) {
  if (options.size() == 1) return options[0];
  return Json(Json::Object{{"anyOf", Json(std::move(options))}});
}

std::string compile(const Json& schema, const std::string& prefix, bool compact) {
  grammar::JsonSchemaOptions o;
  o.compact = compact;
  o.max_whitespace = 4;
  o.bounded_numbers = true;
  return prefix_rules(grammar::json_schema_to_gbnf(schema, o).gbnf, prefix);
}

}  // namespace

ToolCallGrammar tool_call_grammar(const std::vector<ToolFunction>& tools, const ToolChoice& choice,
                                  ToolCallFormat format, bool parallel) {
  if (choice.kind == ToolChoice::Kind::none) throw Error(Errc::invalid_argument, "tools: no grammar for tool_choice none");
  std::vector<const ToolFunction*> allowed;
  for (const ToolFunction& t : tools) {
    if (choice.kind != ToolChoice::Kind::named || t.name == choice.name) allowed.push_back(&t);
  }
  if (allowed.empty()) throw Error(Errc::invalid_argument, "tools: no tool to call");
  const bool lazy = choice.kind == ToolChoice::Kind::automatic;
  const char* args_key = format == ToolCallFormat::llama3_json ? "parameters" : "arguments";
  Json::Array calls;
  for (const ToolFunction* f : allowed) calls.push_back(call_schema(*f, args_key, format == ToolCallFormat::mistral));
  const Json call = any_of(calls);
  auto array_of = [&](const Json& item) {
    Json::Object a{{"type", str("array")}, {"items", item}, {"minItems", Json(int64_t{1})}};
    if (!parallel) a.emplace_back("maxItems", Json(int64_t{1}));
    return Json(std::move(a));
  };

  ToolCallGrammar g;
  switch (format) {
    case ToolCallFormat::hermes: {
      const std::string body = compile(call, "c-", false);
      g.gbnf = std::string("root ::= block") + (parallel ? " (\"\\n\" block)*" : "") +
               "\nblock ::= \"<tool_call>\\n\" c-root \"\\n</tool_call>\"\n" + body;
      if (lazy) g.trigger = "<tool_call>";
      break;
    }
    case ToolCallFormat::llama3_json: {
      g.gbnf = "root ::= c-root\n" + compile(call, "c-", true);
      if (lazy) g.trigger = "{\"name\"";
      break;
    }
    case ToolCallFormat::mistral:
    case ToolCallFormat::granite: {
      const char* opener = format == ToolCallFormat::mistral ? "[TOOL_CALLS]" : "<|tool_call|>";
      g.gbnf = std::string("root ::= ") + grammar::gbnf_literal(opener) + " c-root\n" + compile(array_of(call), "c-", true);
      if (lazy) g.trigger = opener;
      break;
    }
    case ToolCallFormat::function_gemma: {
      // call:NAME{key:<escape>text<escape>,key:number,...}: the argument names from each function's properties.
      std::string alts;
      for (const ToolFunction* f : allowed) {
        std::string keys;
        if (const Json* props = f->parameters.is_object() ? f->parameters.find("properties") : nullptr; props && props->is_object()) {
          for (const auto& [k, v] : props->as_object("properties")) keys += std::string(keys.empty() ? "" : " | ") + grammar::gbnf_literal(k);
        }
        const std::string arg = keys.empty() ? "\"\"" : "(" + keys + ") \":\" value";
        alts += std::string(alts.empty() ? "" : " | ") + grammar::gbnf_literal("call:" + f->name + "{") + " (" + arg +
                " (\",\" " + arg + ")*)? \"}\"";
      }
      g.gbnf = std::string("root ::= block") + (parallel ? " block*" : "") +
               "\nblock ::= \"<start_function_call>\" (" + alts + ") \"<end_function_call>\"\n"
               "value ::= \"<escape>\" ([^<] | \"<\" [^e])* \"<escape>\" | \"-\"? [0-9]+ (\".\" [0-9]+)? | \"true\" | \"false\"\n";
      if (lazy) g.trigger = "<start_function_call>";
      break;
    }
    case ToolCallFormat::generic: {
      Json::Array options{Json(Json::Object{{"type", str("object")},
                                            {"properties", Json(Json::Object{{"tool_calls", array_of(call)}})},
                                            {"required", Json(Json::Array{str("tool_calls")})},
                                            {"additionalProperties", Json(false)}})};
      if (lazy) {
        options.push_back(Json(Json::Object{{"type", str("object")},
                                            {"properties", Json(Json::Object{{"content", Json(Json::Object{{"type", str("string")}})}})},
                                            {"required", Json(Json::Array{str("content")})},
                                            {"additionalProperties", Json(false)}}));
      }
      g.gbnf = "root ::= c-root\n" + compile(any_of(options), "c-", false);
      break;
    }
  }
  return g;
}

}  // namespace qtr
