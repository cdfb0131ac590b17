/* A program written against ABI version 1: compiled with the frozen header abi/qtr_v1.h and linked to the current
 * libqtr.so, it must keep working unchanged in every later release with QTR_ABI_VERSION 1. Never edit it.
 *
 *   test_c_api_abi_v1 MODEL.gguf       (exits 77 when MODEL does not exist) */
#include <stdio.h>
#include <string.h>

#include "qtr_v1.h"

static int g_failures = 0;

#define REQUIRE(cond)                                                      \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "abi_v1.c:%d: %s (%s)\n", __LINE__, #cond, qtr_last_error()); \
      ++g_failures;                                                        \
    }                                                                      \
  } while (0)

static int count_text(const char* text, size_t length, void* user_data) {
  (void)text;
  *(size_t*)user_data += length;
  return 0;
}

int main(int argc, char** argv) {
  qtr_model* model = NULL;
  qtr_context* ctx = NULL;
  qtr_sampler* sampler = NULL;
  qtr_model_options mo = qtr_model_options_default();
  qtr_context_options co = qtr_context_options_default();
  qtr_sampler_params sp = qtr_sampler_params_default();
  qtr_generate_options go = qtr_generate_options_default();
  qtr_model_info info;
  qtr_kv_memory memory;
  qtr_token tokens[64], next = -1, eog[8];
  qtr_batch_entry batch[64];
  qtr_chat_message message = {"user", "hi"};
  qtr_stop_reason reason = QTR_STOP_CANCELLED;
  qtr_seq seq = -1, fork = -1;
  size_t n = 0, n_out = 0, n_vocab = 0, n_embd = 0, n_generated = 0, text_bytes = 0, i;
  int64_t length = 0;
  const float* logits = NULL;
  float embedding[4096];
  char text[256];
  FILE* f = argc > 1 ? fopen(argv[1], "rb") : NULL;
  if (f == NULL) {
    printf("SKIP: no model\n");
    return 77;
  }
  fclose(f);

  REQUIRE(qtr_abi_version() == QTR_ABI_VERSION);
  REQUIRE(strcmp(qtr_status_name(QTR_ERR_BUFFER_TOO_SMALL), "buffer too small") == 0);
  mo.n_threads = 1;
  REQUIRE(qtr_model_load(argv[1], &mo, &model) == QTR_OK);
  if (model == NULL) return 1;
  info.struct_size = sizeof info;
  REQUIRE(qtr_model_get_info(model, &info) == QTR_OK && info.n_vocab > 0 && info.n_embd <= 4096);
  REQUIRE(qtr_model_eog_tokens(model, eog, 8, &n) == QTR_OK);
  REQUIRE(qtr_tokenize(model, "Once upon", 9, 1, 0, NULL, 0, &n) == QTR_ERR_BUFFER_TOO_SMALL && n > 1);
  REQUIRE(qtr_tokenize(model, "Once upon", 9, 1, 0, tokens, 64, &n) == QTR_OK);
  REQUIRE(qtr_detokenize(model, tokens, n, 0, text, sizeof text, &n_out) == QTR_OK);
  REQUIRE(strlen(text) == n_out && n_out >= 9);
  REQUIRE(qtr_token_to_piece(model, tokens[n - 1], 0, text, sizeof text, &n_out) == QTR_OK);

  co.n_ctx = 64;
  co.n_seq = 2;
  co.kv_type = QTR_KV_F32;
  REQUIRE(qtr_context_create(model, &co, &ctx) == QTR_OK);
  REQUIRE(qtr_context_n_ctx(ctx, &length) == QTR_OK && length == 64);
  REQUIRE(qtr_seq_create(ctx, &seq) == QTR_OK);
  for (i = 0; i < n; ++i) {
    batch[i].seq = seq;
    batch[i].pos = (int64_t)i;
    batch[i].token = tokens[i];
    batch[i].logits = i + 1 == n;
  }
  REQUIRE(qtr_decode(ctx, batch, n, &n_out) == QTR_OK && n_out == 1);
  REQUIRE(qtr_get_logits(ctx, 0, &logits, &n_vocab) == QTR_OK && n_vocab == (size_t)info.n_vocab);
  REQUIRE(qtr_get_hidden_state(ctx, 0, &logits, &n_embd) == QTR_OK && n_embd == (size_t)info.n_embd);
  memory.struct_size = sizeof memory;
  REQUIRE(qtr_context_kv_memory(ctx, &memory) == QTR_OK && memory.bytes_used > 0);
  REQUIRE(qtr_seq_fork(ctx, seq, &fork) == QTR_OK);
  REQUIRE(qtr_seq_length(ctx, fork, &length) == QTR_OK && length == (int64_t)n);
  REQUIRE(qtr_seq_truncate(ctx, fork, 1) == QTR_OK);
  REQUIRE(qtr_seq_remove(ctx, fork) == QTR_OK);

  sp.seed = 5;
  REQUIRE(qtr_sampler_create(model, &sp, &sampler) == QTR_OK);
  REQUIRE(qtr_get_logits(ctx, 0, &logits, &n_vocab) == QTR_OK);
  REQUIRE(qtr_sampler_sample(sampler, logits, n_vocab, &next) == QTR_OK && next >= 0);
  REQUIRE(qtr_sampler_accept(sampler, &next, 1) == QTR_OK);
  REQUIRE(qtr_sampler_reset(sampler) == QTR_OK);

  go.n_predict = 8;
  go.stop_at_eog = 0;
  go.on_text = count_text;
  go.user_data = &text_bytes;
  REQUIRE(qtr_generate(ctx, seq, sampler, &next, 1, &go, &reason, &n_generated) == QTR_OK);
  REQUIRE(reason == QTR_STOP_MAX_TOKENS && n_generated == 8);

  REQUIRE(qtr_embed(ctx, tokens, n, QTR_POOLING_LAST, 1, embedding, 4096, &n_embd) == QTR_OK);
  REQUIRE(qtr_chat_render(model, "{{ messages[0].content }}", &message, 1, 1, text, sizeof text, &n_out) == QTR_OK);
  REQUIRE(strcmp(text, "hi") == 0);
  REQUIRE(qtr_chat_tokenize(model, "{{ messages[0].content }}", &message, 1, 1, tokens, 64, &n) == QTR_OK);

  REQUIRE(qtr_seq_create(NULL, &seq) == QTR_ERR_INVALID_HANDLE);
  REQUIRE(qtr_sampler_free(sampler) == QTR_OK);
  REQUIRE(qtr_context_free(ctx) == QTR_OK);
  REQUIRE(qtr_model_free(model) == QTR_OK);
  printf("ABI v1 program against libqtr %s: %d failures\n", qtr_version(), g_failures);
  return g_failures == 0 ? 0 : 1;
}
