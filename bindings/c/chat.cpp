// Chat templates: render messages given as C strings, or render and tokenize them.
#include <optional>

#include "handles.hpp"
#include "io_helpers.hpp"
#include "qtr/chat.hpp"

using namespace qtr::capi;

namespace {

std::vector<qtr::ChatMessage> messages_of(const qtr_chat_message* messages, size_t n) {
  if (messages == nullptr && n != 0) invalid("messages is NULL but n_messages is " + std::to_string(n));
  std::vector<qtr::ChatMessage> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string at = "message " + std::to_string(i);
    out.push_back({std::string(c_string(messages[i].role, at + " role")),
                   std::string(c_string(messages[i].content, at + " content"))});
  }
  return out;
}

qtr::ChatTemplate template_for(const qtr::Model& model, const char* source) {
  if (source == nullptr) return qtr::load_chat_template(model);
  return qtr::ChatTemplate::parse(c_string(source, "template_source"), "template_source");
}

}  // namespace

extern "C" {

qtr_status qtr_chat_render(const qtr_model* model, const char* template_source, const qtr_chat_message* messages,
                           size_t n_messages, int add_generation_prompt, char* text, size_t capacity,
                           size_t* length) {
  return guard([&] {
    const qtr::Model& m = *model_of(model).model;
    require(length, "length");
    check_buffer(text, capacity, "text");
    const qtr::Vocab& vocab = m.tokenizer().vocab();
    auto token_text = [&](qtr::TokenId id) {
      return id >= 0 && static_cast<size_t>(id) < vocab.size() ? vocab.tokens[static_cast<size_t>(id)]
                                                                : std::string();
    };
    qtr::ChatTemplateInputs inputs;
    inputs.messages = messages_of(messages, n_messages);
    inputs.add_generation_prompt = add_generation_prompt != 0;
    inputs.bos_token = token_text(vocab.bos);
    inputs.eos_token = token_text(vocab.eos);
    write_text(template_for(m, template_source).render(inputs), text, capacity, length);
  });
}

qtr_status qtr_chat_tokenize(const qtr_model* model, const char* template_source, const qtr_chat_message* messages,
                             size_t n_messages, int add_generation_prompt, qtr_token* tokens, size_t capacity,
                             size_t* n_tokens) {
  return guard([&] {
    const qtr::Model& m = *model_of(model).model;
    require(n_tokens, "n_tokens");
    check_buffer(tokens, capacity, "tokens");
    const std::vector<qtr::ChatMessage> list = messages_of(messages, n_messages);
    const qtr::ChatTemplate chat_template = template_for(m, template_source);
    write_array(qtr::chat_prompt_tokens(m, chat_template, list, add_generation_prompt != 0), tokens, capacity,
                n_tokens, "tokens");
  });
}

}  // extern "C"
