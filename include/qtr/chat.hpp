// Chat on top of a Session: a conversation of messages rendered with the model's chat template, tokenized as the
// model expects, and answered turn by turn. The KV cache is reused across turns: each turn evaluates only the
// tokens after the longest prefix the previous prompt and answer share with the new rendering.
//
//   auto model = qtr::Model::load("SmolLM2-135M-Instruct.Q4_1.gguf");
//   qtr::ChatSession chat(model);
//   chat.set_system("You are a concise assistant.");
//   chat.reply("What is the capital of France?", {}, [](std::string_view text) { fputs(...); return true; });
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qtr/chat_template.hpp"
#include "qtr/generate.hpp"
#include "qtr/model.hpp"

namespace qtr {

// The template to chat with: `source` when given (Jinja text; `origin` names it in errors), else the model's own
// tokenizer.chat_template. Throws qtr::Error(unsupported) when neither exists, naming the model.
ChatTemplate load_chat_template(const Model& model, const std::optional<std::string>& source = {},
                                const std::string& origin = "chat template");

// Renders `messages` with the model's BOS and EOS texts as bos_token / eos_token: the prompt as text.
std::string render_chat_prompt(const Model& model, const ChatTemplate& chat_template,
                               const std::vector<ChatMessage>& messages, bool add_generation_prompt = true,
                               const Json& variables = Json());

// Renders `messages` and tokenizes the text as the model expects: special tokens written by the template
// ("<|im_start|>") become their ids, and BOS is added only when the vocabulary asks for it and the template did not
// write it itself.
std::vector<TokenId> chat_prompt_tokens(const Model& model, const ChatTemplate& chat_template,
                                        const std::vector<ChatMessage>& messages, bool add_generation_prompt = true,
                                        const Json& variables = Json());

class ChatSession {
 public:
  explicit ChatSession(std::shared_ptr<const Model> model, const SessionOptions& session_options = {},
                       std::optional<std::string> template_source = {}, std::string template_origin = "chat template");

  void set_system(std::string text);  // the system message; empty: none (takes effect from the next reply)
  // Extra template variables as a JSON object, e.g. {"enable_thinking": false}.
  void set_variables(Json variables) { variables_ = std::move(variables); }

  // Adds the user's message, generates the assistant's answer (streamed to on_text, which may be null), and adds it
  // to the conversation. Throws qtr::Error when the conversation no longer fits the context; the conversation is
  // then as it was before the call.
  GenerateResult reply(std::string_view user_text, const GenerateOptions& options,
                       const std::function<bool(std::string_view)>& on_text);

  const std::vector<ChatMessage>& messages() const { return messages_; }
  void reset();  // forget the conversation (the system message stays)
  Session& session() { return session_; }

 private:
  std::shared_ptr<const Model> model_;
  Session session_;
  ChatTemplate template_;
  std::string system_;
  Json variables_;
  std::vector<ChatMessage> messages_;   // user and assistant turns
  std::vector<TokenId> evaluated_;      // the tokens whose keys/values the session holds, in order
};

}  // namespace qtr
