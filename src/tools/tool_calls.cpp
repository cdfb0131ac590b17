// Tool definitions and choices (OpenAI's shapes, validated), the call format a chat template speaks, JSON text,
// and the template variables for a conversation with tools.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>

#include "qtr/error.hpp"
#include "qtr/tool_calls.hpp"

namespace qtr {
namespace {

[[noreturn]] void bad(const std::string& message) { throw Error(Errc::invalid_argument, "tools: " + message); }

bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
  });
}

void dump(const Json& v, std::string& out) {
  switch (v.kind()) {
    case Json::Kind::null: out += "null"; break;
    case Json::Kind::boolean: out += v.as_bool("") ? "true" : "false"; break;
    case Json::Kind::integer: out += std::to_string(v.as_int("")); break;
    case Json::Kind::unsigned_integer: {
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, static_cast<uint64_t>(v.as_double("")));
      out.append(buf, r.ptr);
      break;
    }
    case Json::Kind::number: {
      const double d = v.as_double("");
      if (!std::isfinite(d)) {
        out += d != d ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
        break;
      }
      char buf[64];
      auto r = std::to_chars(buf, buf + sizeof buf, d);
      std::string s(buf, r.ptr);
      if (s.find_first_of(".en") == std::string::npos) s += ".0";  // Python writes 1.0, not 1
      out += s;
      break;
    }
    case Json::Kind::string: {
      out += '"';
      for (unsigned char c : v.as_string("")) {
        switch (c) {
          case '"': out += "\\\""; break;
          case '\\': out += "\\\\"; break;
          case '\n': out += "\\n"; break;
          case '\r': out += "\\r"; break;
          case '\t': out += "\\t"; break;
          case '\b': out += "\\b"; break;
          case '\f': out += "\\f"; break;
          default:
            if (c < 0x20) {
              char buf[8];
              std::snprintf(buf, sizeof buf, "\\u%04x", c);
              out += buf;
            } else {
              out += static_cast<char>(c);
            }
        }
      }
      out += '"';
      break;
    }
    case Json::Kind::array: {
      out += '[';
      bool first = true;
      for (const Json& x : v.as_array("")) {
        if (!first) out += ", ";
        first = false;
        dump(x, out);
      }
      out += ']';
      break;
    }
    case Json::Kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, x] : v.as_object("")) {
        if (!first) out += ", ";
        first = false;
        dump(Json(k), out);
        out += ": ";
        dump(x, out);
      }
      out += '}';
      break;
    }
  }
}

}  // namespace

std::string json_dumps(const Json& value) {
  std::string out;
  dump(value, out);
  return out;
}

std::vector<ToolFunction> parse_tools(const Json& tools) {
  std::vector<ToolFunction> out;
  if (tools.is_null()) return out;
  if (!tools.is_array()) bad("`tools` must be an array");
  std::set<std::string> names;
  for (size_t i = 0; i < tools.as_array("tools").size(); ++i) {
    const Json& t = tools.as_array("tools")[i];
    const std::string where = "tools[" + std::to_string(i) + "]";
    if (!t.is_object()) bad(where + " must be an object");
    const Json* type = t.find("type");
    if (type && (!type->is_string() || type->as_string(where) != "function")) bad(where + ".type must be \"function\"");
    const Json* f = t.find("function");
    if (!f) f = &t;  // a bare function object
    if (!f->is_object()) bad(where + ".function must be an object");
    const Json* name = f->find("name");
    if (!name || !name->is_string() || !valid_name(name->as_string(where))) {
      bad(where + ".function.name must be 1-64 characters of letters, digits, '_', '-' or '.'");
    }
    ToolFunction fn;
    fn.name = name->as_string(where);
    if (!names.insert(fn.name).second) bad("two tools are named '" + fn.name + "'");
    if (const Json* d = f->find("description"); d && d->is_string()) fn.description = d->as_string(where);
    const Json* p = f->find("parameters");
    if (p && !p->is_object() && !p->is_bool()) bad(where + ".function.parameters must be a JSON Schema object");
    fn.parameters = p ? *p : parse_json(R"({"type": "object"})", "tools");
    out.push_back(std::move(fn));
  }
  return out;
}

ToolChoice parse_tool_choice(const Json& choice, const std::vector<ToolFunction>& tools) {
  ToolChoice c;
  if (choice.is_null()) {
    c.kind = tools.empty() ? ToolChoice::Kind::none : ToolChoice::Kind::automatic;
    return c;
  }
  if (choice.is_string()) {
    const std::string& s = choice.as_string("tool_choice");
    if (s == "none") c.kind = ToolChoice::Kind::none;
    else if (s == "auto") c.kind = ToolChoice::Kind::automatic;
    else if (s == "required") c.kind = ToolChoice::Kind::required;
    else bad("tool_choice must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}");
  } else {
    const Json* f = choice.is_object() ? choice.find("function") : nullptr;
    const Json* name = f && f->is_object() ? f->find("name") : nullptr;
    if (!name || !name->is_string()) bad("tool_choice object must be {\"type\": \"function\", \"function\": {\"name\": ...}}");
    c.kind = ToolChoice::Kind::named;
    c.name = name->as_string("tool_choice");
  }
  if (c.kind != ToolChoice::Kind::none && tools.empty()) bad("tool_choice asks for a tool call but no tools are given");
  if (c.kind == ToolChoice::Kind::named &&
      std::none_of(tools.begin(), tools.end(), [&](const ToolFunction& t) { return t.name == c.name; })) {
    bad("tool_choice names '" + c.name + "', which is not one of the tools");
  }
  return c;
}

const char* tool_call_format_name(ToolCallFormat f) {
  switch (f) {
    case ToolCallFormat::hermes: return "hermes";
    case ToolCallFormat::llama3_json: return "llama3-json";
    case ToolCallFormat::mistral: return "mistral";
    case ToolCallFormat::granite: return "granite";
    case ToolCallFormat::function_gemma: return "function-gemma";
    case ToolCallFormat::generic: return "generic";
  }
  return "generic";
}

ToolCallFormat detect_tool_call_format(std::string_view t) {
  auto has = [&](std::string_view s) { return t.find(s) != std::string_view::npos; };
  if (has("start_function_call")) return ToolCallFormat::function_gemma;
  if (has("[TOOL_CALLS]")) return ToolCallFormat::mistral;
  if (has("<|tool_call|>")) return ToolCallFormat::granite;
  if (has("<tool_call>")) return ToolCallFormat::hermes;
  if (has("tools") && (has("<|python_tag|>") || has("\"parameters\": dictionary of argument name"))) {
    return ToolCallFormat::llama3_json;
  }
  return ToolCallFormat::generic;
}

Json tool_chat_variables(const Json& messages, const std::vector<ToolFunction>& tools, ToolCallFormat format,
                         const ToolChoice& choice) {
  Json::Array msgs;
  for (const Json& m : messages.as_array("messages")) {
    if (!m.is_object()) bad("each message must be an object");
    Json::Object o = m.as_object("message");
    for (auto& [k, v] : o) {
      if (k != "tool_calls" || !v.is_array()) continue;
      Json::Array calls;
      for (const Json& call : v.as_array("tool_calls")) {
        Json::Object c = call.is_object() ? call.as_object("tool_call") : Json::Object{};
        for (auto& [ck, cv] : c) {
          if (ck != "function" || !cv.is_object()) continue;
          Json::Object fo = cv.as_object("function");
          for (auto& [fk, fv] : fo) {
            if (fk == "arguments" && fv.is_string()) {  // OpenAI sends a JSON string; templates want the object
              try {
                fv = parse_json(fv.as_string("arguments"), "tool call arguments");
              } catch (const Error&) {
              }
            }
          }
          cv = Json(std::move(fo));
        }
        calls.push_back(Json(std::move(c)));
      }
      v = Json(std::move(calls));
    }
    msgs.push_back(Json(std::move(o)));
  }
  Json::Array tool_list;
  for (const ToolFunction& t : tools) {
    Json::Object fn{{"name", Json(t.name)}};
    if (!t.description.empty()) fn.emplace_back("description", Json(t.description));
    fn.emplace_back("parameters", t.parameters);
    tool_list.push_back(Json(Json::Object{{"type", Json(std::string("function"))}, {"function", Json(std::move(fn))}}));
  }
  if (format == ToolCallFormat::generic && !tools.empty() && choice.kind != ToolChoice::Kind::none) {
    std::string text = "You can call these tools (JSON Schema of each one's arguments):\n";
    for (const Json& t : tool_list) text += json_dumps(t) + "\n";
    text += choice.kind == ToolChoice::Kind::automatic
                ? "To call tools, reply with only {\"tool_calls\": [{\"name\": <tool name>, \"arguments\": {...}}]}; "
                  "to answer in text, reply with only {\"content\": <your answer>}."
                : "Reply with only {\"tool_calls\": [{\"name\": <tool name>, \"arguments\": {...}}]}.";
    bool merged = false;
    for (Json& m : msgs) {
      const Json* role = m.find("role");
      if (role && role->is_string() && role->as_string("role") == "system") {
        Json::Object o = m.as_object("message");
        for (auto& [k, v] : o) {
          if (k == "content" && v.is_string()) v = Json(v.as_string("content") + "\n\n" + text);
        }
        m = Json(std::move(o));
        merged = true;
        break;
      }
    }
    if (!merged) msgs.insert(msgs.begin(), Json(Json::Object{{"role", Json(std::string("system"))}, {"content", Json(text)}}));
  }
  Json::Object vars{{"messages", Json(std::move(msgs))}};
  if (format != ToolCallFormat::generic && !tool_list.empty() && choice.kind != ToolChoice::Kind::none) {
    vars.emplace_back("tools", Json(std::move(tool_list)));
  }
  return Json(std::move(vars));
}

}  // namespace qtr
