// `--tools FILE.json` / `--tool-choice` for `qtr run --chat`: tools rendered through the chat template, the reply
// constrained to the template's call syntax, and the parsed message printed as OpenAI-style JSON.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "args.hpp"
#include "qtr/chat_template.hpp"
#include "qtr/generate.hpp"
#include "qtr/model.hpp"
#include "qtr/tool_calls.hpp"

namespace qtr::cli {

#define QTR_TOOL_OPTION_SPECS                                                                                   \
  {"--tools", "FILE", "with --chat: OpenAI function tools (a JSON array) the model may call"},                 \
      {"--tool-choice", "CHOICE", "with --tools: auto (default), none, required, or a function name"},         \
      {"--no-parallel-tools", "", "with --tools: at most one call per reply"}

struct ToolSetup {
  std::vector<ToolFunction> tools;
  ToolChoice choice;
  ToolCallFormat format = ToolCallFormat::generic;
  Json variables;  // template variables (messages and tools)
};

// nullopt without --tools. Sets gen.constraint / constraint_trigger for the call grammar.
std::optional<ToolSetup> setup_tools(const Args& args, const Model& model, const std::string& template_source,
                                     const std::vector<ChatMessage>& messages, GenerateOptions& gen);
// The reply as {"role": "assistant", "content": ..., "tool_calls": [...]} JSON text.
std::string tool_reply_json(const ToolSetup& setup, const std::string& text);

}  // namespace qtr::cli
