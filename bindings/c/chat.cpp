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
    write_text(qtr::render_chat_prompt(m, template_for(m, template_source), messages_of(messages, n_messages),
                                       add_generation_prompt != 0),
               text, capacity, length);
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
