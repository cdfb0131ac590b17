// ChatTemplate — renders a model's chat template (Jinja source from GGUF `tokenizer.chat_template` or
// tokenizer_config.json `chat_template`) for a conversation, with the output Python jinja2 gives for the same
// template and inputs under the environment Hugging Face transformers uses (trim_blocks, lstrip_blocks,
// raise_exception, strftime_now, namespace, its own tojson).
//
// The interpreter covers the Jinja subset real chat templates use (docs/chat-templates.md lists it). Anything
// outside it fails with a qtr::Error naming `origin`, line:column and the construct: at parse time wherever the
// construct can be seen there, otherwise at render time. Rendering is bounded (call depth, evaluation steps,
// output size), so a hostile template cannot crash or hang the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "qtr/json.hpp"

namespace qtr {

namespace jinja {
struct Template;
}

struct ChatMessage {
  std::string role;
  std::string content;
};

struct ChatTemplateInputs {
  std::vector<ChatMessage> messages;
  bool add_generation_prompt = true;
  std::string bos_token, eos_token;
  // Extra top-level variables as a JSON object (e.g. {"enable_thinking": false}); null for none. A member named
  // like one of the variables above replaces it (a "messages" member may carry richer messages: tool calls,
  // content lists).
  Json variables;
};

struct ChatTemplateOptions {
  // jinja2's Environment defaults are false; transformers renders chat templates with both true.
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  // tojson as transformers defines it (json.dumps, ensure_ascii=False, keys in order) or as jinja2's default
  // filter (keys sorted, non-ASCII and <>&' escaped as \uXXXX).
  enum class TojsonStyle { transformers, jinja2 } tojson = TojsonStyle::transformers;
  // Render-time budgets; exceeding one is a qtr::Error(out_of_memory).
  size_t max_output_bytes = size_t{64} << 20;
  uint64_t max_steps = 2'000'000;   // expression evaluations + loop iterations
  int max_call_depth = 200;         // nested macro calls
};

class ChatTemplate {
 public:
  // Parses once. Throws qtr::Error(unsupported) for Jinja outside the subset and qtr::Error(bad_format) for
  // syntax errors; every message starts "<origin>:<line>:<column>:".
  static ChatTemplate parse(std::string_view source, std::string origin, ChatTemplateOptions options = {});

  // Renders with messages, add_generation_prompt, bos_token, eos_token and `inputs.variables`. Runtime failures
  // (raise_exception(), misuse of undefined values, type errors, budgets) are qtr::Error naming origin:line:col.
  std::string render(const ChatTemplateInputs& inputs) const;
  // Renders with exactly the top-level variables of a JSON object.
  std::string render_json(const Json& variables) const;

  const std::string& origin() const;

  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;
  ~ChatTemplate();

 private:
  ChatTemplate(std::unique_ptr<jinja::Template> impl, ChatTemplateOptions options);
  std::unique_ptr<jinja::Template> impl_;
  ChatTemplateOptions options_;
};

}  // namespace qtr
