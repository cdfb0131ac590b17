// Parsing a generated reply into text and tool calls, per format. A call must be valid JSON with a string name
// and an object of arguments; anything else stays text and is explained in ToolReply::error.
#include <cstdio>

#include "qtr/error.hpp"
#include "qtr/tool_calls.hpp"

namespace qtr {
namespace {

std::string trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e + 1 - b));
}

// A stable id for the k-th call of a reply (FNV-1a of the reply and k): the same output gives the same ids.
std::string call_id(std::string_view text, size_t k) {
  uint64_t h = 1469598103934665603ULL ^ k;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
  char buf[32];
  std::snprintf(buf, sizeof buf, "call_%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// {"name": N, <args>: {...}} -> a call; false (with `error`) when it is not one.
bool read_call(const Json& j, const char* args_key, ToolCall& out, std::string& error) {
  const Json* name = j.is_object() ? j.find("name") : nullptr;
  const Json* args = j.is_object() ? j.find(args_key) : nullptr;
  if (!args && j.is_object()) args = j.find(std::string_view(args_key) == "arguments" ? "parameters" : "arguments");
  if (!name || !name->is_string()) {
    error = "a tool call without a string \"name\"";
    return false;
  }
  if (args && args->is_string()) {  // arguments written as a JSON string
    try {
      const Json parsed = parse_json(args->as_string("arguments"), "tool call arguments");
      out.arguments = json_dumps(parsed);
    } catch (const Error&) {
      error = "tool call arguments are not a JSON object";
      return false;
    }
  } else if (!args || !args->is_object()) {
    error = "a tool call without an object of arguments";
    return false;
  } else {
    out.arguments = json_dumps(*args);
  }
  out.name = name->as_string("name");
  if (const Json* id = j.find("id"); id && id->is_string()) out.id = id->as_string("id");
  return true;
}

bool parse_json_text(std::string_view text, Json& out, std::string& error) {
  try {
    out = parse_json(text, "tool call");
    return true;
  } catch (const Error& e) {
    error = e.what();
    return false;
  }
}

// Calls that are a JSON array (or one object) after `opener`.
void parse_after_opener(std::string_view text, std::string_view opener, ToolReply& r) {
  const size_t at = text.find(opener);
  if (at == std::string_view::npos) {
    r.content = trim(text);
    return;
  }
  Json j;
  const std::string body = trim(text.substr(at + opener.size()));
  if (!parse_json_text(body, j, r.error)) {
    r.content = trim(text);
    return;
  }
  const Json::Array items = j.is_array() ? j.as_array("calls") : Json::Array{j};
  std::vector<ToolCall> calls;
  for (const Json& item : items) {
    ToolCall c;
    if (!read_call(item, "arguments", c, r.error)) {
      r.content = trim(text);
      return;
    }
    calls.push_back(std::move(c));
  }
  r.content = trim(text.substr(0, at));
  r.tool_calls = std::move(calls);
}

void parse_hermes(std::string_view text, ToolReply& r) {
  std::string content;
  size_t pos = 0;
  while (true) {
    const size_t open = text.find("<tool_call>", pos);
    if (open == std::string_view::npos) break;
    const size_t close = text.find("</tool_call>", open);
    const std::string_view inner = text.substr(open + 11, close == std::string_view::npos ? std::string_view::npos : close - open - 11);
    Json j;
    ToolCall c;
    if (!parse_json_text(trim(inner), j, r.error) || !read_call(j, "arguments", c, r.error)) {
      r.content = trim(text);
      r.tool_calls.clear();
      return;
    }
    content += text.substr(pos, open - pos);
    r.tool_calls.push_back(std::move(c));
    if (close == std::string_view::npos) {
      pos = text.size();
      break;
    }
    pos = close + 12;
  }
  content += text.substr(pos);
  r.content = trim(content);
}

void parse_gemma(std::string_view text, ToolReply& r) {
  std::string content;
  size_t pos = 0;
  while (true) {
    const size_t open = text.find("<start_function_call>call:", pos);
    if (open == std::string_view::npos) break;
    const size_t brace = text.find('{', open);
    const size_t close = text.find("}<end_function_call>", open);
    if (brace == std::string_view::npos || close == std::string_view::npos || brace > close) {
      r.error = "an unterminated function call";
      r.content = trim(text);
      r.tool_calls.clear();
      return;
    }
    ToolCall c;
    c.name = std::string(text.substr(open + 26, brace - open - 26));
    // key:<escape>text<escape> or key:literal, separated by commas.
    Json::Object args;
    std::string_view body = text.substr(brace + 1, close - brace - 1);
    while (!body.empty()) {
      const size_t colon = body.find(':');
      if (colon == std::string_view::npos) break;
      const std::string key(body.substr(0, colon));
      body.remove_prefix(colon + 1);
      if (body.substr(0, 8) == "<escape>") {
        const size_t end = body.find("<escape>", 8);
        const std::string_view v = body.substr(8, end == std::string_view::npos ? std::string_view::npos : end - 8);
        args.emplace_back(key, Json(std::string(v)));
        body.remove_prefix(end == std::string_view::npos ? body.size() : end + 8);
      } else {
        const size_t comma = body.find(',');
        const std::string v(body.substr(0, comma));
        Json value;
        std::string ignored;
        args.emplace_back(key, parse_json_text(v, value, ignored) ? value : Json(v));
        body.remove_prefix(comma == std::string_view::npos ? body.size() : comma);
      }
      if (!body.empty() && body[0] == ',') body.remove_prefix(1);
    }
    c.arguments = json_dumps(Json(std::move(args)));
    content += text.substr(pos, open - pos);
    r.tool_calls.push_back(std::move(c));
    pos = close + 20;
  }
  content += text.substr(pos);
  r.content = trim(content);
}

}  // namespace

ToolReply parse_tool_reply(std::string_view text, ToolCallFormat format) {
  ToolReply r;
  switch (format) {
    case ToolCallFormat::hermes: parse_hermes(text, r); break;
    case ToolCallFormat::mistral: parse_after_opener(text, "[TOOL_CALLS]", r); break;
    case ToolCallFormat::granite: parse_after_opener(text, "<|tool_call|>", r); break;
    case ToolCallFormat::function_gemma: parse_gemma(text, r); break;
    case ToolCallFormat::llama3_json: {
      const std::string t = trim(text);
      const std::string_view body = std::string_view(t).substr(t.rfind("<|python_tag|>", 0) == 0 ? 14 : 0);
      Json j;
      ToolCall c;
      std::string err;
      if (!body.empty() && body[0] == '{' && parse_json_text(body, j, err) && read_call(j, "parameters", c, err)) {
        r.tool_calls.push_back(std::move(c));
      } else {
        r.content = t;
        if (!body.empty() && body[0] == '{' && j.is_object() && j.find("name")) r.error = err;
      }
      break;
    }
    case ToolCallFormat::generic: {
      Json j;
      const std::string t = trim(text);
      if (!parse_json_text(t, j, r.error) || !j.is_object()) {
        r.content = t;
        break;
      }
      if (const Json* content = j.find("content"); content && content->is_string()) r.content = content->as_string("content");
      if (const Json* calls = j.find("tool_calls"); calls && calls->is_array()) {
        for (const Json& item : calls->as_array("tool_calls")) {
          ToolCall c;
          if (!read_call(item, "arguments", c, r.error)) {
            r.tool_calls.clear();
            r.content = t;
            break;
          }
          r.tool_calls.push_back(std::move(c));
        }
      } else if (!j.find("content")) {
        r.content = t;
      }
      break;
    }
  }
  for (size_t k = 0; k < r.tool_calls.size(); ++k) {
    if (r.tool_calls[k].id.empty()) r.tool_calls[k].id = call_id(text, k);
  }
  return r;
}

}  // namespace qtr
