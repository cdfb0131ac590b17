// Tool options of `qtr run --chat`: read the tools and choice, render through the template, constrain, parse.
#include "tool_args.hpp"

#include <cstdio>
#include <cstdlib>

#include "qtr/constraint.hpp"
#include "qtr/error.hpp"

namespace qtr::cli {

std::optional<ToolSetup> setup_tools(const Args& args, const Model& model, const std::string& template_source,
                                     const std::vector<ChatMessage>& messages, GenerateOptions& gen) {
  if (!args.has("--tools")) {
    if (args.has("--tool-choice")) throw UsageError{"--tool-choice needs --tools"};
    return std::nullopt;
  }
  ToolSetup s;
  s.tools = parse_tools(read_json_file(args.require("--tools")));
  const std::string choice = args.string("--tool-choice").value_or("auto");
  const bool keyword = choice == "auto" || choice == "none" || choice == "required";
  s.choice = parse_tool_choice(keyword ? Json(choice)
                                       : Json(Json::Object{{"type", Json(std::string("function"))},
                                                           {"function", Json(Json::Object{{"name", Json(choice)}})}}),
                               s.tools);
  s.format = detect_tool_call_format(template_source);
  Json::Array msgs;
  for (const ChatMessage& m : messages) {
    msgs.push_back(Json(Json::Object{{"role", Json(m.role)}, {"content", Json(m.content)}}));
  }
  s.variables = tool_chat_variables(Json(std::move(msgs)), s.tools, s.format, s.choice);
  if (s.choice.kind != ToolChoice::Kind::none) {
    const ToolCallGrammar g = tool_call_grammar(s.tools, s.choice, s.format, !args.flag("--no-parallel-tools"));
    ConstraintOptions o;
    o.allow_unused_rules = true;
    if (std::getenv("QTR_PRINT_TOOL_GRAMMAR")) std::fprintf(stderr, "%s\n", g.gbnf.c_str());
    gen.constraint = Constraint::from_gbnf(g.gbnf, model.token_vocabulary(), o);
    gen.constraint_trigger = g.trigger;
  }
  return s;
}

std::string tool_reply_json(const ToolSetup& setup, const std::string& text) {
  const ToolReply r = parse_tool_reply(text, setup.format);
  Json::Array calls;
  for (const ToolCall& c : r.tool_calls) {
    calls.push_back(Json(Json::Object{
        {"id", Json(c.id)},
        {"type", Json(std::string("function"))},
        {"function", Json(Json::Object{{"name", Json(c.name)}, {"arguments", Json(c.arguments)}})}}));
  }
  Json::Object msg{{"role", Json(std::string("assistant"))},
                   {"content", r.content.empty() && !calls.empty() ? Json() : Json(r.content)}};
  if (!calls.empty()) msg.emplace_back("tool_calls", Json(std::move(calls)));
  if (!r.error.empty()) msg.emplace_back("error", Json(r.error));
  return json_dumps(Json(std::move(msg)));
}

}  // namespace qtr::cli
