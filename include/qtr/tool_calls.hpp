// Tool calls: OpenAI-style function tools for chat, in the call syntax of the model's own chat template.
//
//   auto tools = qtr::parse_tools(tools_json);                          // [{"type": "function", "function": {...}}]
//   auto choice = qtr::parse_tool_choice(choice_json, tools);           // "none" | "auto" | "required" | named
//   auto format = qtr::detect_tool_call_format(model->chat_template()); // hermes, llama3-json, mistral, ...
//   auto g = qtr::tool_call_grammar(tools, choice, format);             // what the reply is constrained to
//   ... generate with g (GenerateOptions::constraint / constraint_trigger) ...
//   auto reply = qtr::parse_tool_reply(text, format);                   // content + tool_calls
//
// With `required` or a named function the whole reply is one call (or several, where the format allows them) to
// the given functions, its arguments valid under the function's `parameters` schema; with `auto` the reply is
// free text until the model writes the format's opener, and the call after it is constrained (a lazy grammar).
// Templates without tool support get the generic format: tools described in the system turn, the reply a JSON
// envelope {"tool_calls": [{"name": ..., "arguments": {...}}]} (or {"content": "..."} under auto).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "qtr/json.hpp"

namespace qtr {

struct ToolFunction {
  std::string name;
  std::string description;
  Json parameters;  // a JSON Schema for the arguments object ({"type": "object"} when absent)
};

// Reads OpenAI `tools`; throws qtr::Error(invalid_argument) for a tool without a valid name, a duplicate name, a
// type other than "function", or parameters that are not a schema object.
std::vector<ToolFunction> parse_tools(const Json& tools);

struct ToolChoice {
  enum class Kind { none, automatic, required, named };
  Kind kind = Kind::automatic;
  std::string name;  // Kind::named
};

// "none" | "auto" | "required" | {"type": "function", "function": {"name": N}}; null = auto (none without tools).
// Throws qtr::Error(invalid_argument) for anything else, and for a name that is not one of `tools`.
ToolChoice parse_tool_choice(const Json& choice, const std::vector<ToolFunction>& tools);

enum class ToolCallFormat {
  hermes,          // Qwen 2.5/3, Hermes: <tool_call>\n{"name": N, "arguments": {...}}\n</tool_call>, repeated
  llama3_json,     // Llama 3.1/3.2: {"name": N, "parameters": {...}}
  mistral,         // Mistral: [TOOL_CALLS][{"name": N, "arguments": {...}, "id": "abcdefghi"}, ...]
  granite,         // Granite 3: <|tool_call|>[{"name": N, "arguments": {...}}, ...]
  function_gemma,  // FunctionGemma: <start_function_call>call:N{key:<escape>value<escape>,...}<end_function_call>
  generic,         // templates without tool support: {"tool_calls": [{"name": N, "arguments": {...}}]}
};
const char* tool_call_format_name(ToolCallFormat format);
// From the markers in the template's source; generic when it has none.
ToolCallFormat detect_tool_call_format(std::string_view chat_template);

struct ToolCallGrammar {
  std::string gbnf;     // the constrained part, as GBNF
  std::string trigger;  // auto: the opener after which the grammar applies (the grammar includes it); "" = all
};
// The grammar for a reply under `choice` (which must not be none). `parallel`: several calls where the format
// allows them. Throws qtr::Error as the JSON Schema compiler does for a `parameters` schema it cannot enforce.
ToolCallGrammar tool_call_grammar(const std::vector<ToolFunction>& tools, const ToolChoice& choice,
                                  ToolCallFormat format, bool parallel = true);

struct ToolCall {
  std::string id;         // "call_..." (or the model's own, for formats that carry one)
  std::string name;
  std::string arguments;  // a JSON object, as text (OpenAI's function.arguments)
};

struct ToolReply {
  std::string content;              // text outside the calls (trimmed)
  std::vector<ToolCall> tool_calls;
  std::string error;                // an opener whose call did not parse: what was wrong ("" when none)
};
// Splits a generated reply into text and calls. Malformed calls are left in `content` and explained in `error`.
ToolReply parse_tool_reply(std::string_view text, ToolCallFormat format);

// The template variables for a conversation with tools: {"messages": [...], "tools": [...]} where each
// assistant tool call's arguments are objects (templates write them with tojson) and, for the generic format, the
// tools are described in the first system message (added when there is none).
Json tool_chat_variables(const Json& messages, const std::vector<ToolFunction>& tools, ToolCallFormat format,
                         const ToolChoice& choice);

// JSON text of a value (json.dumps style: ", " and ": " separators, non-ASCII kept).
std::string json_dumps(const Json& value);

}  // namespace qtr
