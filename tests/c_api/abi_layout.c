/* The current include/qtr.h must keep the layout and values ABI version 1 had (on LP64 targets): options and info
 * structs may only grow at the end, structs used in arrays never change size, enum values never change.
 * The numbers below were recorded from the version 1 header; never edit them, only add lines for new fields. */
#include <stddef.h>
#include <stdio.h>

#include "qtr.h"

static int g_failures = 0;

static void expect(size_t got, size_t want, const char* what) {
  if (got != want) {
    fprintf(stderr, "%s is %zu, version 1 had %zu\n", what, got, want);
    ++g_failures;
  }
}

#define QTR_LAYOUT(type, field, offset) expect(offsetof(type, field), offset, "offsetof(" #type ", " #field ")")
#define QTR_SIZE(type, size) expect(sizeof(type) >= size ? size : sizeof(type), size, "sizeof(" #type ") (may grow)")
#define QTR_EXACT_SIZE(type, size) expect(sizeof(type), size, "sizeof(" #type ")")
#define QTR_VALUE(name, value) expect((size_t)(name), value, #name)

int main(void) {
#if !defined(__LP64__)
  printf("SKIP: the recorded layout is LP64's\n");
  return 77;
#else
  QTR_SIZE(qtr_model_options, 32);
  QTR_LAYOUT(qtr_model_options, n_threads, 8);
  QTR_LAYOUT(qtr_model_options, repack, 12);
  QTR_LAYOUT(qtr_model_options, isa, 16);
  QTR_LAYOUT(qtr_model_options, use_mmap, 24);
  QTR_LAYOUT(qtr_model_options, matmul_inputs, 32); /* added after version 1 was recorded */
  QTR_SIZE(qtr_model_info, 104);
  QTR_LAYOUT(qtr_model_info, n_vocab, 8);
  QTR_LAYOUT(qtr_model_info, n_embd, 16);
  QTR_LAYOUT(qtr_model_info, n_layer, 24);
  QTR_LAYOUT(qtr_model_info, n_head, 32);
  QTR_LAYOUT(qtr_model_info, n_head_kv, 40);
  QTR_LAYOUT(qtr_model_info, n_ctx_train, 48);
  QTR_LAYOUT(qtr_model_info, weight_bytes, 56);
  QTR_LAYOUT(qtr_model_info, bos, 64);
  QTR_LAYOUT(qtr_model_info, eos, 68);
  QTR_LAYOUT(qtr_model_info, architecture, 72);
  QTR_LAYOUT(qtr_model_info, name, 80);
  QTR_LAYOUT(qtr_model_info, isa, 88);
  QTR_LAYOUT(qtr_model_info, chat_template, 96);
  QTR_LAYOUT(qtr_model_info, matmul_inputs, 104); /* added after version 1 was recorded */
  QTR_SIZE(qtr_context_options, 56);
  QTR_LAYOUT(qtr_context_options, n_ctx, 8);
  QTR_LAYOUT(qtr_context_options, kv_budget_bytes, 16);
  QTR_LAYOUT(qtr_context_options, kv_page_size, 24);
  QTR_LAYOUT(qtr_context_options, n_ubatch, 32);
  QTR_LAYOUT(qtr_context_options, n_threads, 40);
  QTR_LAYOUT(qtr_context_options, n_seq, 44);
  QTR_LAYOUT(qtr_context_options, kv_type, 48);
  QTR_SIZE(qtr_kv_memory, 64);
  QTR_LAYOUT(qtr_kv_memory, bytes_total, 8);
  QTR_LAYOUT(qtr_kv_memory, bytes_used, 16);
  QTR_LAYOUT(qtr_kv_memory, bytes_per_token, 24);
  QTR_LAYOUT(qtr_kv_memory, pages_total, 32);
  QTR_LAYOUT(qtr_kv_memory, pages_free, 40);
  QTR_LAYOUT(qtr_kv_memory, pages_used, 48);
  QTR_LAYOUT(qtr_kv_memory, pages_shared, 56);
  QTR_LAYOUT(qtr_batch_entry, seq, 0);
  QTR_LAYOUT(qtr_batch_entry, pos, 8);
  QTR_LAYOUT(qtr_batch_entry, token, 16);
  QTR_LAYOUT(qtr_batch_entry, logits, 20);
  QTR_LAYOUT(qtr_logit_bias, token, 0);
  QTR_LAYOUT(qtr_logit_bias, bias, 4);
  QTR_SIZE(qtr_sampler_params, 64);
  QTR_LAYOUT(qtr_sampler_params, temperature, 8);
  QTR_LAYOUT(qtr_sampler_params, top_k, 12);
  QTR_LAYOUT(qtr_sampler_params, top_p, 16);
  QTR_LAYOUT(qtr_sampler_params, min_p, 20);
  QTR_LAYOUT(qtr_sampler_params, repeat_penalty, 24);
  QTR_LAYOUT(qtr_sampler_params, penalty_last_n, 28);
  QTR_LAYOUT(qtr_sampler_params, presence_penalty, 32);
  QTR_LAYOUT(qtr_sampler_params, frequency_penalty, 36);
  QTR_LAYOUT(qtr_sampler_params, seed, 40);
  QTR_LAYOUT(qtr_sampler_params, logit_bias, 48);
  QTR_LAYOUT(qtr_sampler_params, n_logit_bias, 56);
  QTR_SIZE(qtr_generate_options, 64);
  QTR_LAYOUT(qtr_generate_options, n_predict, 8);
  QTR_LAYOUT(qtr_generate_options, stop_at_eog, 16);
  QTR_LAYOUT(qtr_generate_options, penalize_prompt, 20);
  QTR_LAYOUT(qtr_generate_options, stop, 24);
  QTR_LAYOUT(qtr_generate_options, n_stop, 32);
  QTR_LAYOUT(qtr_generate_options, on_text, 40);
  QTR_LAYOUT(qtr_generate_options, on_token, 48);
  QTR_LAYOUT(qtr_generate_options, user_data, 56);
  /* Constrained decoding, added after version 1 was recorded. */
  QTR_SIZE(qtr_constraint_options, 24);
  QTR_LAYOUT(qtr_constraint_options, lenient, 8);
  QTR_LAYOUT(qtr_constraint_options, compact_json, 12);
  QTR_LAYOUT(qtr_constraint_options, allow_unused_rules, 16);
  QTR_LAYOUT(qtr_constraint_options, json_whitespace, 20);
  QTR_LAYOUT(qtr_chat_message, role, 0);
  QTR_LAYOUT(qtr_chat_message, content, 8);
  QTR_EXACT_SIZE(qtr_batch_entry, 24);
  QTR_EXACT_SIZE(qtr_logit_bias, 8);
  QTR_EXACT_SIZE(qtr_chat_message, 16);
  QTR_EXACT_SIZE(qtr_token, 4);
  QTR_EXACT_SIZE(qtr_seq, 8);

  QTR_VALUE(QTR_OK, 0);
  QTR_VALUE(QTR_ERR_INVALID_ARGUMENT, 1);
  QTR_VALUE(QTR_ERR_BAD_FORMAT, 2);
  QTR_VALUE(QTR_ERR_UNSUPPORTED, 3);
  QTR_VALUE(QTR_ERR_IO, 4);
  QTR_VALUE(QTR_ERR_OUT_OF_MEMORY, 5);
  QTR_VALUE(QTR_ERR_INTERNAL, 6);
  QTR_VALUE(QTR_ERR_CANCELLED, 7);
  QTR_VALUE(QTR_ERR_BUFFER_TOO_SMALL, 8);
  QTR_VALUE(QTR_ERR_INVALID_HANDLE, 9);
  QTR_VALUE(QTR_KV_F16, 0);
  QTR_VALUE(QTR_KV_Q8_0, 1);
  QTR_VALUE(QTR_KV_F32, 2);
  QTR_VALUE(QTR_STOP_MAX_TOKENS, 0);
  QTR_VALUE(QTR_STOP_EOG, 1);
  QTR_VALUE(QTR_STOP_STRING, 2);
  QTR_VALUE(QTR_STOP_CONTEXT_FULL, 3);
  QTR_VALUE(QTR_STOP_CANCELLED, 4);
  QTR_VALUE(QTR_POOLING_MEAN, 0);
  QTR_VALUE(QTR_POOLING_LAST, 1);
  QTR_VALUE(QTR_CONSTRAINT_GBNF, 0); /* added after version 1 was recorded */
  QTR_VALUE(QTR_CONSTRAINT_JSON_SCHEMA, 1);
  QTR_VALUE(QTR_CONSTRAINT_REGEX, 2);
  QTR_VALUE(QTR_CONSTRAINT_JSON_OBJECT, 3);
  QTR_VALUE(QTR_CONSTRAINT_JSON, 4);
  QTR_VALUE(QTR_ABI_VERSION, 1);

  printf("ABI version 1 layout: %d differences\n", g_failures);
  return g_failures == 0 ? 0 : 1;
#endif
}
