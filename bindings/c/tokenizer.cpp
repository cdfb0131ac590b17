// Tokenizer: text <-> token ids through caller buffers.
#include "handles.hpp"
#include "io_helpers.hpp"

using namespace qtr::capi;

namespace {

void check_tokens(const qtr::Tokenizer& tokenizer, const qtr_token* tokens, size_t n) {
  if (tokens == nullptr && n != 0) invalid("tokens is NULL but n_tokens is " + std::to_string(n));
  for (size_t i = 0; i < n; ++i) {
    if (tokens[i] < 0 || static_cast<size_t>(tokens[i]) >= tokenizer.n_vocab()) {
      invalid("token " + std::to_string(i) + ": id " + std::to_string(tokens[i]) + " is outside the vocabulary (" +
              std::to_string(tokenizer.n_vocab()) + " tokens)");
    }
  }
}

}  // namespace

extern "C" {

qtr_status qtr_tokenize(const qtr_model* model, const char* text, size_t text_len, int add_special,
                        int parse_special, qtr_token* tokens, size_t capacity, size_t* n_tokens) {
  return guard([&] {
    const qtr::Tokenizer& tokenizer = model_of(model).model->tokenizer();
    require(n_tokens, "n_tokens");
    check_buffer(tokens, capacity, "tokens");
    if (text == nullptr && text_len != 0) invalid("text is NULL but text_len is " + std::to_string(text_len));
    const std::string_view view(text == nullptr ? "" : text, text_len);
    check_utf8(view, "text");
    qtr::EncodeOptions options;
    options.add_special = add_special != 0;
    options.parse_special = parse_special != 0;
    write_array(tokenizer.encode(view, options), tokens, capacity, n_tokens, "tokens");
  });
}

qtr_status qtr_detokenize(const qtr_model* model, const qtr_token* tokens, size_t n_tokens, int special, char* text,
                          size_t capacity, size_t* length) {
  return guard([&] {
    const qtr::Tokenizer& tokenizer = model_of(model).model->tokenizer();
    require(length, "length");
    check_buffer(text, capacity, "text");
    check_tokens(tokenizer, tokens, n_tokens);
    const std::span<const qtr::TokenId> ids(tokens, n_tokens);
    write_text(tokenizer.decode(ids, special != 0), text, capacity, length);
  });
}

qtr_status qtr_token_to_piece(const qtr_model* model, qtr_token token, int special, char* text, size_t capacity,
                              size_t* length) {
  return guard([&] {
    const qtr::Tokenizer& tokenizer = model_of(model).model->tokenizer();
    require(length, "length");
    check_buffer(text, capacity, "text");
    check_tokens(tokenizer, &token, 1);
    write_text(tokenizer.token_to_piece(token, special != 0), text, capacity, length);
  });
}

}  // extern "C"
