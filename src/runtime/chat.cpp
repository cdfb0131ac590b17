#include "qtr/chat.hpp"

#include <algorithm>

#include "qtr/error.hpp"

namespace qtr {

ChatTemplate load_chat_template(const Model& model, const std::optional<std::string>& source,
                                const std::string& origin) {
  if (source) return ChatTemplate::parse(*source, origin);
  if (model.chat_template().empty()) {
    const std::string name = model.config().name.empty() ? model.config().architecture : model.config().name;
    throw Error(Errc::unsupported, "model '" + name +
                                       "' has no chat template (GGUF tokenizer.chat_template); give one explicitly "
                                       "(qtr: --chat-template FILE)");
  }
  return ChatTemplate::parse(model.chat_template(), "tokenizer.chat_template");
}

namespace {
std::string token_text(const Vocab& vocab, TokenId id) {
  return id >= 0 && static_cast<size_t>(id) < vocab.size() ? vocab.tokens[static_cast<size_t>(id)] : std::string();
}
}  // namespace

std::string render_chat_prompt(const Model& model, const ChatTemplate& chat_template,
                               const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                               const Json& variables) {
  const Vocab& vocab = model.tokenizer().vocab();
  ChatTemplateInputs inputs;
  inputs.messages = messages;
  inputs.add_generation_prompt = add_generation_prompt;
  inputs.bos_token = token_text(vocab, vocab.bos);
  inputs.eos_token = token_text(vocab, vocab.eos);
  inputs.variables = variables;
  return chat_template.render(inputs);
}

std::vector<TokenId> chat_prompt_tokens(const Model& model, const ChatTemplate& chat_template,
                                        const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                                        const Json& variables) {
  const std::string text = render_chat_prompt(model, chat_template, messages, add_generation_prompt, variables);
  const std::string bos = token_text(model.tokenizer().vocab(), model.tokenizer().vocab().bos);
  EncodeOptions encode;
  encode.parse_special = true;
  // Templates that write the BOS text themselves ("{{ bos_token }}") must not get a second one.
  encode.add_special = bos.empty() || text.compare(0, bos.size(), bos) != 0;
  return model.tokenizer().encode(text, encode);
}

ChatSession::ChatSession(std::shared_ptr<const Model> model, const SessionOptions& session_options,
                         std::optional<std::string> template_source, std::string template_origin)
    : model_(std::move(model)),
      session_(model_, session_options),
      template_(load_chat_template(*model_, template_source, template_origin)) {}

void ChatSession::set_system(std::string text) { system_ = std::move(text); }

void ChatSession::reset() {
  messages_.clear();
  evaluated_.clear();
  session_.reset();
}

GenerateResult ChatSession::reply(std::string_view user_text, const GenerateOptions& options,
                                  const std::function<bool(std::string_view)>& on_text) {
  std::vector<ChatMessage> conversation;
  if (!system_.empty()) conversation.push_back({"system", system_});
  conversation.insert(conversation.end(), messages_.begin(), messages_.end());
  conversation.push_back({"user", std::string(user_text)});
  const std::vector<TokenId> prompt = chat_prompt_tokens(*model_, template_, conversation, true, variables_);
  if (static_cast<int64_t>(prompt.size()) >= session_.n_ctx()) {
    throw Error(Errc::invalid_argument, "the conversation (" + std::to_string(prompt.size()) +
                                            " tokens) no longer fits the context of " +
                                            std::to_string(session_.n_ctx()) + " tokens; reset it");
  }
  // Reuse the keys/values of the longest prefix shared with what the session already holds.
  size_t common = 0;
  while (common < prompt.size() && common < evaluated_.size() && prompt[common] == evaluated_[common]) ++common;
  if (common == prompt.size()) --common;  // at least one token must run to get the next token's logits
  try {
    session_.truncate(static_cast<int64_t>(common));
  } catch (const Error&) {  // sliding-window layers no longer hold the positions before `common`: start over
    common = 0;
    session_.reset();
  }
  evaluated_.resize(common);

  std::string answer;
  auto collect = [&](std::string_view piece) {
    answer.append(piece);
    return on_text ? on_text(piece) : true;
  };
  GenerateResult result;
  try {
    result = generate(session_, std::span<const TokenId>(prompt).subspan(common), options, collect);
  } catch (...) {
    session_.truncate(std::min<int64_t>(session_.n_past(), static_cast<int64_t>(common)));
    throw;
  }
  // The session now holds the prompt and the generated tokens it has run (all but possibly the last).
  evaluated_ = prompt;
  evaluated_.insert(evaluated_.end(), result.tokens.begin(), result.tokens.end());
  if (session_.n_past() < static_cast<int64_t>(evaluated_.size())) {
    evaluated_.resize(static_cast<size_t>(session_.n_past()));
  } else {
    session_.truncate(static_cast<int64_t>(evaluated_.size()));
  }
  messages_.push_back({"user", std::string(user_text)});
  messages_.push_back({"assistant", std::move(answer)});
  return result;
}

}  // namespace qtr
