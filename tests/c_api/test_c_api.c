/* Exercises every function of the C API (include/qtr.h) on one model, with good and bad input: NULL, freed and
 * foreign handles, wrong buffer sizes, invalid UTF-8, missing files, token ids out of range, positions that skip.
 * Every failure must come back as a status code with a message, never as a crash.
 *
 *   test_c_api MODEL.gguf [EXPECTED.txt]     EXPECTED: the model's greedy 200-token story from BOS (stories260K)
 *
 * Exits 77 (ctest SKIP_RETURN_CODE) when MODEL does not exist. Compiled as C99 with -Wall -Wextra -pedantic. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qtr.h"

static int g_failures = 0;
static int g_checks = 0;

#define CHECK(cond)                                                                  \
  do {                                                                               \
    ++g_checks;                                                                      \
    if (!(cond)) {                                                                   \
      ++g_failures;                                                                  \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);      \
    }                                                                                \
  } while (0)

/* The call must return `want`; a failure must leave a message, a success an empty one. */
#define EXPECT_STATUS(want, call) expect_status((want), (call), #call, __LINE__)
#define OK(call) EXPECT_STATUS(QTR_OK, call)

static void expect_status(qtr_status want, qtr_status got, const char* call, int line) {
  const char* message = qtr_last_error();
  ++g_checks;
  if (got != want) {
    ++g_failures;
    fprintf(stderr, "%s:%d: %s\n  returned %s (%s), want %s\n", __FILE__, line, call, qtr_status_name(got), message,
            qtr_status_name(want));
    return;
  }
  if (want != QTR_OK && message[0] == '\0') {
    ++g_failures;
    fprintf(stderr, "%s:%d: %s\n  returned %s with no message\n", __FILE__, line, call, qtr_status_name(got));
  }
  if (want == QTR_OK && message[0] != '\0') {
    ++g_failures;
    fprintf(stderr, "%s:%d: %s\n  succeeded but left the message '%s'\n", __FILE__, line, call, message);
  }
}

static char* read_file(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  char* data;
  long n;
  if (f == NULL) return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  data = (char*)malloc((size_t)n + 1);
  if (data != NULL && fread(data, 1, (size_t)n, f) != (size_t)n) {
    free(data);
    data = NULL;
  }
  fclose(f);
  if (data != NULL) {
    data[n] = '\0';
    *size = (size_t)n;
  }
  return data;
}

/* ---- version, status names, options initialisers ------------------------------------------------------------- */
static void test_version_and_options(void) {
  char want[64];
  qtr_status s;
  qtr_model_options mo;
  qtr_context_options co;
  qtr_sampler_params sp;
  qtr_generate_options go;
  sprintf(want, "%d.%d.%d", QTR_VERSION_MAJOR, QTR_VERSION_MINOR, QTR_VERSION_PATCH);
  CHECK(strcmp(qtr_version(), want) == 0);
  CHECK(qtr_abi_version() == QTR_ABI_VERSION);
  for (s = QTR_OK; s <= QTR_ERR_INVALID_HANDLE; s = (qtr_status)(s + 1)) {
    CHECK(strcmp(qtr_status_name(s), "unknown status") != 0);
  }
  CHECK(strcmp(qtr_status_name((qtr_status)1234), "unknown status") == 0);

  mo = qtr_model_options_default();
  CHECK(mo.struct_size == sizeof mo && mo.n_threads == 0 && mo.repack == 1 && mo.isa == NULL &&
        mo.matmul_inputs == NULL);
  co = qtr_context_options_default();
  CHECK(co.struct_size == sizeof co && co.n_seq == 1 && co.kv_type == QTR_KV_F16 && co.kv_page_size == 16 &&
        co.n_ubatch == 512 && co.n_ctx == 0 && co.kv_budget_bytes == 0);
  sp = qtr_sampler_params_default();
  CHECK(sp.struct_size == sizeof sp && sp.top_k == 40 && fabsf(sp.temperature - 0.8f) < 1e-6f &&
        sp.logit_bias == NULL && sp.n_logit_bias == 0);
  go = qtr_generate_options_default();
  CHECK(go.struct_size == sizeof go && go.n_predict == 128 && go.stop_at_eog == 1 && go.on_text == NULL);

  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_model_options_init(NULL, sizeof mo));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_model_options_init(&mo, sizeof(size_t)));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_context_options_init(NULL, sizeof co));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_context_options_init(&co, 3));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_sampler_params_init(NULL, sizeof sp));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_generate_options_init(&go, 0));
  CHECK(strstr(qtr_last_error(), "struct_size") != NULL);
  OK(qtr_generate_options_init(&go, sizeof go));
}

/* ---- model loading errors ------------------------------------------------------------------------------------ */
static void test_load_errors(const char* path) {
  qtr_model* model = (qtr_model*)&g_checks; /* must stay untouched on failure */
  qtr_model* const sentinel = model;
  qtr_model_options o = qtr_model_options_default();
  qtr_model_info info;
  const char* garbage_path = "c_api_garbage.gguf";
  FILE* f;
  struct {
    qtr_model_options v1;
    unsigned char later[16]; /* fields a newer header might have appended */
  } newer;

  EXPECT_STATUS(QTR_ERR_IO, qtr_model_load("/nonexistent/dir/model.gguf", NULL, &model));
  CHECK(strstr(qtr_last_error(), "/nonexistent/dir/model.gguf") != NULL);
  CHECK(model == sentinel);
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_model_load(NULL, NULL, &model));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_model_load(path, NULL, NULL));

  f = fopen(garbage_path, "wb");
  if (f != NULL) {
    fputs("this is not a model file at all, just some bytes.........................................", f);
    fclose(f);
    EXPECT_STATUS(QTR_ERR_BAD_FORMAT, qtr_model_load(garbage_path, NULL, &model));
    remove(garbage_path);
  }

  o.isa = "no-such-isa";
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_model_load(path, &o, &model));
  o = qtr_model_options_default();
  o.isa = "\xff\xfe";
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_model_load(path, &o, &model));
  o = qtr_model_options_default();
  o.matmul_inputs = "int4";
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_model_load(path, &o, &model));
  CHECK(strstr(qtr_last_error(), "precise or int8") != NULL);
  o = qtr_model_options_default();
  o.n_threads = -3;
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_model_load(path, &o, &model));
  o.struct_size = 4;
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_model_load(path, &o, &model));
  CHECK(model == sentinel);

  /* A struct from a newer header: unknown trailing fields left at zero are accepted, set ones refused. */
  memset(&newer, 0x5A, sizeof newer);
  OK(qtr_model_options_init(&newer.v1, sizeof newer));
  CHECK(newer.v1.struct_size == sizeof newer && newer.v1.repack == 1 && newer.later[15] == 0);
  newer.later[3] = 1;
  EXPECT_STATUS(QTR_ERR_UNSUPPORTED, qtr_model_load(path, &newer.v1, &model));
  newer.later[3] = 0;
  OK(qtr_model_load(path, &newer.v1, &model));
  OK(qtr_model_free(model));

  /* The one-term inputs are selectable and reported. */
  o = qtr_model_options_default();
  o.matmul_inputs = "int8";
  OK(qtr_model_load(path, &o, &model));
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  OK(qtr_model_get_info(model, &info));
  CHECK(info.matmul_inputs != NULL && strcmp(info.matmul_inputs, "int8") == 0);
  OK(qtr_model_free(model));
}

/* ---- handles: NULL, freed, foreign, wrong kind ---------------------------------------------------------------- */
static void test_bad_handles(const char* path) {
  qtr_model* model = NULL;
  qtr_model* freed = NULL;
  qtr_context* context = NULL;
  qtr_sampler* sampler = NULL;
  qtr_model_info info;
  qtr_token tokens[8];
  size_t n = 0;
  int64_t length = 0;
  qtr_seq seq = 0;
  char text[8];
  float logits[4] = {0, 1, 2, 3};
  const float* row = NULL;
  qtr_batch_entry entry = {0, 0, 1, 1};
  int foreign[64] = {0};
  qtr_kv_memory memory;
  memory.struct_size = sizeof memory;
  info.struct_size = sizeof info;

  /* NULL handles */
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_model_get_info(NULL, &info));
  CHECK(strstr(qtr_last_error(), "NULL") != NULL);
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_model_eog_tokens(NULL, tokens, 8, &n));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_tokenize(NULL, "a", 1, 1, 0, tokens, 8, &n));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_detokenize(NULL, tokens, 0, 0, text, 8, &n));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_token_to_piece(NULL, 1, 0, text, 8, &n));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_context_create(NULL, NULL, &context));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_context_n_ctx(NULL, &length));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_context_kv_memory(NULL, &memory));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_seq_create(NULL, &seq));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_seq_fork(NULL, 0, &seq));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_seq_truncate(NULL, 0, 0));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_seq_remove(NULL, 0));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_seq_length(NULL, 0, &length));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_decode(NULL, &entry, 1, &n));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_get_logits(NULL, 0, &row, &n));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_get_hidden_state(NULL, 0, &row, &n));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_sampler_sample(NULL, logits, 4, &tokens[0]));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_sampler_accept(NULL, tokens, 1));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_sampler_reset(NULL));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_generate(NULL, 0, NULL, tokens, 1, NULL, NULL, NULL));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_embed(NULL, tokens, 1, QTR_POOLING_MEAN, 1, logits, 4, &n));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_chat_render(NULL, "x", NULL, 0, 1, text, 8, &n));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_chat_tokenize(NULL, "x", NULL, 0, 1, tokens, 8, &n));
  /* Freeing NULL is a no-op, as with free(). */
  OK(qtr_model_free(NULL));
  OK(qtr_context_free(NULL));
  OK(qtr_sampler_free(NULL));

  /* Freed handles: detected through the table of live handles, without reading the freed memory. */
  OK(qtr_model_load(path, NULL, &freed));
  OK(qtr_model_free(freed));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_model_get_info(freed, &info));
  CHECK(strstr(qtr_last_error(), "not a live qtr_model") != NULL);
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_tokenize(freed, "a", 1, 1, 0, tokens, 8, &n));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_model_free(freed)); /* double free */

  OK(qtr_model_load(path, NULL, &model));
  OK(qtr_context_create(model, NULL, &context));
  OK(qtr_sampler_create(model, NULL, &sampler));
  OK(qtr_context_free(context));
  OK(qtr_sampler_free(sampler));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_seq_create(context, &seq));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_context_free(context));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_sampler_reset(sampler));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_sampler_free(sampler));

  /* Foreign pointers and handles of another kind. */
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_model_get_info((const qtr_model*)(void*)foreign, &info));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_seq_create((qtr_context*)(void*)foreign, &seq));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_seq_create((qtr_context*)(void*)model, &seq));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_context_free((qtr_context*)(void*)model));
  EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_sampler_free((qtr_sampler*)(void*)foreign));
  CHECK(foreign[0] == 0);
  OK(qtr_model_free(model));
}

/* ---- model info and tokenizer -------------------------------------------------------------------------------- */
static void test_tokenizer(qtr_model* model, int stories) {
  qtr_model_info info;
  qtr_token tokens[256];
  qtr_token small[2];
  size_t n = 0, needed = 0, length = 0, n_eog = 0;
  char text[512];
  const char* sentence = "Once upon a time, there was a little girl.";
  struct {
    size_t struct_size;
    int64_t n_vocab;
    int64_t guard;
  } mini; /* the first two fields of qtr_model_info, as a much older header might have had */
  qtr_token eog[16];
  const qtr_token bad_ids[2] = {1, 999999};

  memset(&info, 0xAB, sizeof info);
  info.struct_size = sizeof info;
  OK(qtr_model_get_info(model, &info));
  CHECK(info.n_vocab > 0 && info.n_embd > 0 && info.n_layer > 0 && info.n_head > 0 && info.n_ctx_train > 0);
  CHECK(info.architecture != NULL && strcmp(info.architecture, "llama") == 0);
  CHECK(info.name != NULL && info.isa != NULL && strlen(info.isa) > 0 && info.chat_template != NULL);
  CHECK(info.matmul_inputs != NULL && strcmp(info.matmul_inputs, "precise") == 0);
  CHECK(info.bos >= -1 && info.bos < info.n_vocab && info.eos < info.n_vocab && info.weight_bytes > 0);
  /* An older, smaller struct gets only its fields. */
  mini.struct_size = sizeof(size_t) + sizeof(int64_t);
  mini.guard = 77;
  OK(qtr_model_get_info(model, (qtr_model_info*)(void*)&mini));
  CHECK(mini.n_vocab == info.n_vocab && mini.guard == 77);
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_model_get_info(model, NULL));

  EXPECT_STATUS(QTR_ERR_BUFFER_TOO_SMALL, qtr_model_eog_tokens(model, NULL, 0, &n_eog));
  CHECK(n_eog >= 1 && n_eog <= 16);
  OK(qtr_model_eog_tokens(model, eog, 16, &n_eog));
  CHECK(info.eos < 0 || eog[0] == info.eos || n_eog > 1);
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_model_eog_tokens(model, NULL, 4, &n_eog));

  /* tokenize: size query, exact buffer, small buffer, bad buffers, invalid UTF-8 */
  EXPECT_STATUS(QTR_ERR_BUFFER_TOO_SMALL, qtr_tokenize(model, sentence, strlen(sentence), 1, 0, NULL, 0, &needed));
  CHECK(needed > 2 && needed < 256);
  CHECK(strstr(qtr_last_error(), "buffer too small") != NULL);
  OK(qtr_tokenize(model, sentence, strlen(sentence), 1, 0, tokens, needed, &n));
  CHECK(n == needed);
  CHECK(info.bos < 0 || tokens[0] == info.bos);
  n = 12345;
  EXPECT_STATUS(QTR_ERR_BUFFER_TOO_SMALL, qtr_tokenize(model, sentence, strlen(sentence), 1, 0, small, 2, &n));
  CHECK(n == needed);
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_tokenize(model, sentence, strlen(sentence), 1, 0, NULL, 5, &n));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_tokenize(model, sentence, strlen(sentence), 1, 0, tokens, 256, NULL));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_tokenize(model, NULL, 3, 1, 0, tokens, 256, &n));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_tokenize(model, "ab\xff" "cd", 5, 1, 0, tokens, 256, &n));
  CHECK(strstr(qtr_last_error(), "UTF-8") != NULL && strstr(qtr_last_error(), "byte 2") != NULL);
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_tokenize(model, "\xc3", 1, 1, 0, tokens, 256, &n)); /* truncated */
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_tokenize(model, "\xed\xa0\x80", 3, 1, 0, tokens, 256, &n)); /* surrogate */
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_tokenize(model, "\xc0\xaf", 2, 1, 0, tokens, 256, &n)); /* overlong */
  OK(qtr_tokenize(model, NULL, 0, 1, 0, tokens, 256, &n)); /* empty text: BOS only */
  CHECK(n == (info.bos >= 0 ? 1u : 0u));
  OK(qtr_tokenize(model, "h\xc3\xa9llo \xe2\x82\xac", 10, 0, 0, tokens, 256, &n)); /* valid multi-byte */
  CHECK(n >= 1);

  /* detokenize: round trip, buffer sizes (length + 1 for the NUL), ids out of range */
  /* (The synthetic vocabulary has no "\xe2\x96\x81" piece, so its space marker round-trips as bytes: exact round
   * trips are checked on a real vocabulary only.) */
  OK(qtr_tokenize(model, sentence, strlen(sentence), 1, 0, tokens, 256, &n));
  EXPECT_STATUS(QTR_ERR_BUFFER_TOO_SMALL, qtr_detokenize(model, tokens, n, 0, NULL, 0, &needed));
  CHECK(needed >= strlen(sentence) && needed + 1 < sizeof text);
  CHECK(!stories || needed == strlen(sentence));
  EXPECT_STATUS(QTR_ERR_BUFFER_TOO_SMALL, qtr_detokenize(model, tokens, n, 0, text, needed, &length));
  CHECK(length == needed);
  memset(text, 'x', sizeof text);
  OK(qtr_detokenize(model, tokens, n, 0, text, needed + 1, &length));
  CHECK(length == needed && strlen(text) == length);
  CHECK(!stories || strcmp(text, sentence) == 0);
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_detokenize(model, bad_ids, 2, 0, text, sizeof text, &length));
  CHECK(strstr(qtr_last_error(), "999999") != NULL);
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_detokenize(model, NULL, 2, 0, text, sizeof text, &length));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_detokenize(model, tokens, n, 0, NULL, 10, &length));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_detokenize(model, tokens, n, 0, text, sizeof text, NULL));
  OK(qtr_detokenize(model, NULL, 0, 0, text, 1, &length));
  CHECK(length == 0 && text[0] == '\0');

  /* token_to_piece */
  OK(qtr_token_to_piece(model, tokens[n - 1], 0, text, sizeof text, &length));
  CHECK(length >= 1 && text[length] == '\0');
  if (info.bos >= 0) {
    OK(qtr_token_to_piece(model, info.bos, 0, text, sizeof text, &length));
    CHECK(length == 0); /* control tokens give "" unless special */
    OK(qtr_token_to_piece(model, info.bos, 1, text, sizeof text, &length));
    CHECK(length > 0);
  }
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_token_to_piece(model, -1, 0, text, sizeof text, &length));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_token_to_piece(model, (qtr_token)info.n_vocab, 0, text, 8, &length));
}

/* ---- contexts, sequences, batches ---------------------------------------------------------------------------- */
static float max_abs_diff(const float* a, const float* b, size_t n) {
  float worst = 0.0f;
  size_t i;
  for (i = 0; i < n; ++i) {
    const float d = fabsf(a[i] - b[i]);
    if (d > worst) worst = d;
  }
  return worst;
}

static void test_context(qtr_model* model) {
  qtr_context* ctx = NULL;
  qtr_context* other = NULL;
  qtr_context_options o = qtr_context_options_default();
  qtr_kv_memory memory;
  qtr_token prompt[64];
  qtr_batch_entry batch[128];
  size_t n_prompt = 0, n_out = 0, n_vocab = 0, n_embd = 0, i;
  qtr_seq a = -1, b = -1, fork = -1;
  int64_t length = 0, n_ctx = 0;
  const float* row = NULL;
  const float* row2 = NULL;
  float* alone = NULL;
  float* forked = NULL;
  const char* text = "The cat sat on the mat.";
  qtr_model_info info;
  info.struct_size = sizeof info;
  OK(qtr_model_get_info(model, &info));

  /* bad options */
  o.kv_type = 7;
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_context_create(model, &o, &ctx));
  CHECK(strstr(qtr_last_error(), "kv_type") != NULL);
  o = qtr_context_options_default();
  o.n_seq = 0;
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_context_create(model, &o, &ctx));
  o = qtr_context_options_default();
  o.kv_type = QTR_KV_Q8_0; /* both test models have heads of fewer than 32 dimensions */
  if (info.n_embd / info.n_head % 32 != 0) {
    EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_context_create(model, &o, &ctx));
    CHECK(strstr(qtr_last_error(), "q8_0") != NULL);
  }
  o = qtr_context_options_default();
  o.n_ctx = -5;
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_context_create(model, &o, &ctx));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_context_create(model, NULL, NULL));
  CHECK(ctx == NULL);

  o = qtr_context_options_default();
  o.n_ctx = 64;
  o.n_seq = 4;
  o.kv_type = QTR_KV_F32;
  OK(qtr_context_create(model, &o, &ctx));
  OK(qtr_context_n_ctx(ctx, &n_ctx));
  CHECK(n_ctx == 64);
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_context_n_ctx(ctx, NULL));
  memory.struct_size = sizeof memory;
  OK(qtr_context_kv_memory(ctx, &memory));
  CHECK(memory.bytes_total > 0 && memory.bytes_used == 0 && memory.pages_total > 0 && memory.bytes_per_token > 0);
  memory.struct_size = 0;
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_context_kv_memory(ctx, &memory));
  memory.struct_size = sizeof memory;

  OK(qtr_seq_create(ctx, &a));
  OK(qtr_seq_create(ctx, &b));
  CHECK(a != b);
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_seq_create(ctx, NULL));
  OK(qtr_tokenize(model, text, strlen(text), 1, 0, prompt, 64, &n_prompt));

  /* no output rows yet */
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_get_logits(ctx, 0, &row, &n_vocab));

  /* decode errors leave the sequences as they were */
  for (i = 0; i < n_prompt; ++i) {
    batch[i].seq = a;
    batch[i].pos = (int64_t)i;
    batch[i].token = prompt[i];
    batch[i].logits = i + 1 == n_prompt;
  }
  batch[1].token = (qtr_token)info.n_vocab; /* out of range */
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_decode(ctx, batch, n_prompt, &n_out));
  CHECK(strstr(qtr_last_error(), "outside the vocabulary") != NULL);
  batch[1].token = -4;
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_decode(ctx, batch, n_prompt, &n_out));
  batch[1].token = prompt[1];
  batch[2].pos = 7; /* skips */
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_decode(ctx, batch, n_prompt, &n_out));
  CHECK(strstr(qtr_last_error(), "position") != NULL);
  batch[2].pos = 2;
  batch[0].seq = 999; /* unknown sequence */
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_decode(ctx, batch, n_prompt, &n_out));
  batch[0].seq = a;
  batch[0].pos = 1; /* does not start at the sequence's length */
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_decode(ctx, batch, n_prompt, &n_out));
  batch[0].pos = 0;
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_decode(ctx, NULL, 3, &n_out));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_decode(ctx, batch, 0, &n_out));
  OK(qtr_seq_length(ctx, a, &length));
  CHECK(length == 0);

  /* a alone, then b and a's fork in one batch: the same logits */
  OK(qtr_decode(ctx, batch, n_prompt, &n_out));
  CHECK(n_out == 1);
  OK(qtr_seq_length(ctx, a, &length));
  CHECK(length == (int64_t)n_prompt);
  OK(qtr_get_logits(ctx, 0, &row, &n_vocab));
  CHECK(row != NULL && n_vocab == (size_t)info.n_vocab);
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_get_logits(ctx, 1, &row2, &n_vocab));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_get_logits(ctx, 0, NULL, &n_vocab));
  OK(qtr_get_logits(ctx, 0, &row, NULL));
  alone = (float*)malloc(n_vocab * sizeof *alone);
  forked = (float*)malloc(n_vocab * sizeof *forked);
  memcpy(alone, row, n_vocab * sizeof *alone);
  OK(qtr_get_hidden_state(ctx, 0, &row2, &n_embd));
  CHECK(row2 != NULL && n_embd == (size_t)info.n_embd);
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_get_hidden_state(ctx, 3, &row2, &n_embd));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_get_hidden_state(ctx, 0, NULL, &n_embd));

  OK(qtr_seq_fork(ctx, a, &fork));
  OK(qtr_seq_length(ctx, fork, &length));
  CHECK(length == (int64_t)n_prompt);
  OK(qtr_context_kv_memory(ctx, &memory));
  CHECK(memory.bytes_used > 0 && memory.pages_shared > 0);
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_seq_fork(ctx, 4242, &fork));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_seq_fork(ctx, a, NULL));
  for (i = 0; i < n_prompt; ++i) {
    batch[i].seq = b; /* b gets the whole prompt */
    batch[i].pos = (int64_t)i;
    batch[i].token = prompt[i];
    batch[i].logits = i + 1 == n_prompt;
  }
  batch[n_prompt].seq = fork; /* the fork and a both continue with the same token */
  batch[n_prompt].pos = (int64_t)n_prompt;
  batch[n_prompt].token = prompt[1];
  batch[n_prompt].logits = 1;
  batch[n_prompt + 1] = batch[n_prompt];
  batch[n_prompt + 1].seq = a;
  OK(qtr_decode(ctx, batch, n_prompt + 2, &n_out));
  CHECK(n_out == 3);
  OK(qtr_get_logits(ctx, 0, &row, &n_vocab));
  CHECK(max_abs_diff(row, alone, n_vocab) < 1e-3f);
  OK(qtr_get_logits(ctx, 1, &row, &n_vocab));
  OK(qtr_get_logits(ctx, 2, &row2, &n_vocab));
  CHECK(max_abs_diff(row, row2, n_vocab) < 1e-3f); /* the fork sees a's cached prompt */
  memcpy(forked, row, n_vocab * sizeof *forked);
  CHECK(max_abs_diff(forked, alone, n_vocab) > 1e-3f);

  /* truncate, remove */
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_seq_truncate(ctx, a, 1000));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_seq_truncate(ctx, a, -1));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_seq_truncate(ctx, 31337, 0));
  OK(qtr_seq_truncate(ctx, a, (int64_t)n_prompt));
  OK(qtr_seq_length(ctx, a, &length));
  CHECK(length == (int64_t)n_prompt);
  batch[0] = batch[n_prompt + 1]; /* a again continues with the same token: same logits as before */
  OK(qtr_decode(ctx, batch, 1, &n_out));
  OK(qtr_get_logits(ctx, 0, &row, &n_vocab));
  CHECK(max_abs_diff(row, forked, n_vocab) < 1e-3f);
  OK(qtr_seq_remove(ctx, fork));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_seq_remove(ctx, fork));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_seq_length(ctx, fork, &length));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_seq_length(ctx, a, NULL));

  /* positions past n_ctx */
  batch[0].seq = b;
  batch[0].pos = (int64_t)n_prompt;
  batch[0].token = prompt[1];
  batch[0].logits = 1;
  OK(qtr_seq_truncate(ctx, b, (int64_t)n_prompt));
  for (i = 0; i < 80; ++i) {
    batch[i] = batch[0];
    batch[i].pos = (int64_t)(n_prompt + i);
  }
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_decode(ctx, batch, 80, &n_out));
  CHECK(strstr(qtr_last_error(), "context full") != NULL);

  /* A small KV budget runs out: QTR_ERR_OUT_OF_MEMORY, and the sequence is as it was. */
  o = qtr_context_options_default();
  o.n_ctx = 64;
  o.kv_budget_bytes = memory.bytes_per_token * 16; /* one page */
  o.kv_page_size = 16;
  OK(qtr_context_create(model, &o, &other));
  OK(qtr_seq_create(other, &a));
  for (i = 0; i < 40; ++i) {
    batch[i].seq = a;
    batch[i].pos = (int64_t)i;
    batch[i].token = prompt[i % n_prompt];
    batch[i].logits = 0;
  }
  EXPECT_STATUS(QTR_ERR_OUT_OF_MEMORY, qtr_decode(other, batch, 40, &n_out));
  OK(qtr_seq_length(other, a, &length));
  CHECK(length == 0);
  OK(qtr_context_free(other));

  free(alone);
  free(forked);
  OK(qtr_context_free(ctx));
}

/* ---- samplers ------------------------------------------------------------------------------------------------ */
static void test_sampler(qtr_model* model) {
  qtr_sampler* s = NULL;
  qtr_sampler* t = NULL;
  qtr_sampler_params p = qtr_sampler_params_default();
  float logits[6] = {0.5f, 3.0f, 1.0f, -2.0f, 2.5f, 0.0f};
  qtr_token token = -1, other = -1, draws[20], again[20];
  qtr_logit_bias ban = {1, -INFINITY};
  qtr_logit_bias out_of_vocab = {1 << 30, 1.0f};
  const qtr_token accepted[3] = {4, 4, 2};
  const qtr_token negative[2] = {4, -1};
  int i;

  p.temperature = 0.0f;
  OK(qtr_sampler_create(NULL, &p, &s));
  OK(qtr_sampler_sample(s, logits, 6, &token));
  CHECK(token == 1);
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_sampler_sample(s, NULL, 6, &token));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_sampler_sample(s, logits, 0, &token));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_sampler_sample(s, logits, 6, NULL));
  OK(qtr_sampler_accept(s, accepted, 3));
  OK(qtr_sampler_accept(s, NULL, 0));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_sampler_accept(s, NULL, 2));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_sampler_accept(s, negative, 2));
  OK(qtr_sampler_reset(s));
  logits[2] = NAN;
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_sampler_sample(s, logits, 6, &token));
  logits[2] = 1.0f;
  OK(qtr_sampler_free(s));

  /* logit bias bans the argmax; penalties push a repeated token down */
  p.logit_bias = &ban;
  p.n_logit_bias = 1;
  OK(qtr_sampler_create(model, &p, &s));
  OK(qtr_sampler_sample(s, logits, 6, &token));
  CHECK(token == 4);
  OK(qtr_sampler_free(s));
  p.logit_bias = NULL;
  p.n_logit_bias = 0;
  p.repeat_penalty = 10.0f;
  OK(qtr_sampler_create(model, &p, &s));
  OK(qtr_sampler_accept(s, &accepted[0], 1)); /* token 4 */
  {
    const qtr_token one = 1;
    OK(qtr_sampler_accept(s, &one, 1));
  }
  OK(qtr_sampler_sample(s, logits, 6, &token));
  CHECK(token == 2);
  OK(qtr_sampler_free(s));

  /* bad params */
  s = NULL;
  p = qtr_sampler_params_default();
  p.top_p = 0.0f;
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_sampler_create(model, &p, &s));
  CHECK(strstr(qtr_last_error(), "top_p") != NULL);
  p = qtr_sampler_params_default();
  p.temperature = -1.0f;
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_sampler_create(model, &p, &s));
  p = qtr_sampler_params_default();
  p.n_logit_bias = 3;
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_sampler_create(model, &p, &s));
  p.logit_bias = &out_of_vocab;
  p.n_logit_bias = 1;
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_sampler_create(model, &p, &s)); /* checked against the model */
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_sampler_create(model, NULL, NULL));
  CHECK(s == NULL);

  /* same seed, same draws; reset restarts them */
  p = qtr_sampler_params_default();
  p.seed = 42;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.temperature = 1.5f;
  OK(qtr_sampler_create(NULL, &p, &s));
  OK(qtr_sampler_create(NULL, &p, &t));
  for (i = 0; i < 20; ++i) {
    OK(qtr_sampler_sample(s, logits, 6, &draws[i]));
    OK(qtr_sampler_sample(t, logits, 6, &other));
    CHECK(draws[i] == other && draws[i] >= 0 && draws[i] < 6);
  }
  OK(qtr_sampler_reset(s));
  for (i = 0; i < 20; ++i) OK(qtr_sampler_sample(s, logits, 6, &again[i]));
  CHECK(memcmp(draws, again, sizeof draws) == 0);
  OK(qtr_sampler_free(t));
  OK(qtr_sampler_create(NULL, NULL, &t)); /* default params */
  OK(qtr_sampler_sample(t, logits, 6, &token));
  OK(qtr_sampler_free(t));
  OK(qtr_sampler_free(s));
}

/* ---- generation ---------------------------------------------------------------------------------------------- */
typedef struct {
  char text[8192];
  size_t length;
  qtr_token tokens[512];
  size_t n_tokens;
  int stop_after_tokens; /* on_token returns 1 after this many (0: never) */
  int stop_after_pieces; /* on_text returns 1 after this many (0: never) */
  int pieces;
  int bad_utf8;
} Collected;

static int collect_text(const char* text, size_t length, void* user_data) {
  Collected* c = (Collected*)user_data;
  if (c->length + length < sizeof c->text) {
    memcpy(c->text + c->length, text, length);
    c->length += length;
    c->text[c->length] = '\0';
  }
  if (length == 0) c->bad_utf8 = 1; /* pieces are never empty */
  ++c->pieces;
  return c->stop_after_pieces != 0 && c->pieces >= c->stop_after_pieces;
}

static int collect_token(qtr_token token, void* user_data) {
  Collected* c = (Collected*)user_data;
  if (c->n_tokens < 512) c->tokens[c->n_tokens++] = token;
  return c->stop_after_tokens != 0 && (int)c->n_tokens >= c->stop_after_tokens;
}

static void test_generate(qtr_model* model, const char* expected, size_t expected_size) {
  qtr_context* ctx = NULL;
  qtr_context* small = NULL;
  qtr_sampler* sampler = NULL;
  qtr_sampler* freed = NULL;
  qtr_context_options co = qtr_context_options_default();
  qtr_generate_options g = qtr_generate_options_default();
  qtr_token prompt[64];
  qtr_token bad_prompt[2];
  size_t n_prompt = 0, n_generated = 0, length = 0;
  qtr_seq seq = 0, seq2 = 0;
  qtr_stop_reason reason = QTR_STOP_EOG;
  int64_t seq_length = 0;
  Collected* c = (Collected*)calloc(1, sizeof *c);
  Collected* d = (Collected*)calloc(1, sizeof *d);
  char stop[16];
  const char* stops[2];
  char* decoded = (char*)malloc(16384);
  qtr_model_info info;
  info.struct_size = sizeof info;
  OK(qtr_model_get_info(model, &info));

  co.n_ctx = 256;
  co.n_seq = 2;
  OK(qtr_context_create(model, &co, &ctx));
  OK(qtr_seq_create(ctx, &seq));
  OK(qtr_tokenize(model, "", 0, 1, 0, prompt, 64, &n_prompt)); /* BOS */

  /* Greedy from BOS: the expected story when given (stories260K), the same tokens again in a second sequence. */
  g.n_predict = expected != NULL ? 200 : 40;
  g.stop_at_eog = expected != NULL;
  g.on_text = collect_text;
  g.on_token = collect_token;
  g.user_data = c;
  OK(qtr_generate(ctx, seq, NULL, prompt, n_prompt, &g, &reason, &n_generated));
  CHECK(n_generated == c->n_tokens && n_generated > 0);
  CHECK(reason == QTR_STOP_MAX_TOKENS || reason == QTR_STOP_EOG);
  CHECK(!c->bad_utf8 && c->length == strlen(c->text));
  OK(qtr_seq_length(ctx, seq, &seq_length));
  CHECK(seq_length == (int64_t)(n_prompt + n_generated - (reason == QTR_STOP_MAX_TOKENS ? 1 : 0)));
  if (expected != NULL) {
    CHECK(c->length == expected_size && memcmp(c->text, expected, expected_size) == 0);
    if (c->length != expected_size || memcmp(c->text, expected, expected_size) != 0) {
      fprintf(stderr, "generated:\n%s\nexpected:\n%.*s\n", c->text, (int)expected_size, expected);
    }
    /* the streamed text is the generated tokens' decoding */
    OK(qtr_detokenize(model, c->tokens, c->n_tokens, 0, decoded, 16384, &length));
    CHECK(length == c->length && memcmp(decoded, c->text, length) == 0);
  }
  OK(qtr_seq_create(ctx, &seq2));
  d->stop_after_tokens = 0;
  g.user_data = d;
  OK(qtr_generate(ctx, seq2, NULL, prompt, n_prompt, &g, NULL, NULL));
  CHECK(d->n_tokens == c->n_tokens && memcmp(d->tokens, c->tokens, c->n_tokens * sizeof(qtr_token)) == 0);

  /* A stop string taken from the greedy text: the text before it comes out, and the reason says so. */
  if (c->length > 12) {
    size_t at = c->length / 2, k;
    while (at < c->length && ((unsigned char)c->text[at] & 0xC0) == 0x80) ++at;
    for (k = 0; k < 4 && at + k < c->length; ++k) stop[k] = c->text[at + k];
    while (k > 0 && ((unsigned char)stop[k - 1] & 0x80)) --k; /* keep it ASCII-ended */
    stop[k] = '\0';
    if (k > 0) {
      const char* first = strstr(c->text, stop);
      stops[0] = stop;
      g.stop = stops;
      g.n_stop = 1;
      memset(d, 0, sizeof *d);
      g.user_data = d;
      OK(qtr_seq_truncate(ctx, seq2, 0));
      OK(qtr_generate(ctx, seq2, NULL, prompt, n_prompt, &g, &reason, &n_generated));
      CHECK(reason == QTR_STOP_STRING);
      CHECK(first != NULL && d->length == (size_t)(first - c->text) && memcmp(d->text, c->text, d->length) == 0);
      g.stop = NULL;
      g.n_stop = 0;
    }
  }

  /* Cancellation from on_token and from on_text. */
  memset(d, 0, sizeof *d);
  d->stop_after_tokens = 3;
  g.user_data = d;
  g.stop_at_eog = 0;
  OK(qtr_seq_truncate(ctx, seq2, 0));
  EXPECT_STATUS(QTR_ERR_CANCELLED, qtr_generate(ctx, seq2, NULL, prompt, n_prompt, &g, &reason, &n_generated));
  CHECK(reason == QTR_STOP_CANCELLED && n_generated == 3 && d->n_tokens == 3);
  memset(d, 0, sizeof *d);
  d->stop_after_pieces = 1;
  OK(qtr_seq_truncate(ctx, seq2, 0));
  EXPECT_STATUS(QTR_ERR_CANCELLED, qtr_generate(ctx, seq2, NULL, prompt, n_prompt, &g, &reason, &n_generated));
  CHECK(reason == QTR_STOP_CANCELLED && d->pieces == 1);

  /* A sampler handle; its state carries over. Options NULL = defaults. */
  {
    qtr_sampler_params p = qtr_sampler_params_default();
    p.seed = 7;
    OK(qtr_sampler_create(model, &p, &sampler));
  }
  OK(qtr_seq_truncate(ctx, seq2, 0));
  g = qtr_generate_options_default();
  g.n_predict = 10;
  g.stop_at_eog = 0;
  OK(qtr_generate(ctx, seq2, sampler, prompt, n_prompt, &g, &reason, &n_generated));
  CHECK(reason == QTR_STOP_MAX_TOKENS && n_generated == 10);
  OK(qtr_seq_remove(ctx, seq2));
  OK(qtr_seq_create(ctx, &seq2));
  OK(qtr_generate(ctx, seq2, sampler, prompt, n_prompt, NULL, NULL, NULL));

  /* The context fills up. */
  co = qtr_context_options_default();
  co.n_ctx = 8;
  OK(qtr_context_create(model, &co, &small));
  OK(qtr_seq_create(small, &seq2));
  g = qtr_generate_options_default();
  g.n_predict = 100;
  g.stop_at_eog = 0;
  OK(qtr_generate(small, seq2, NULL, prompt, n_prompt, &g, &reason, &n_generated));
  CHECK(reason == QTR_STOP_CONTEXT_FULL && n_generated == 8 - n_prompt + 1);

  /* Errors: nothing runs, the sequence is unchanged. */
  OK(qtr_seq_length(ctx, seq, &seq_length));
  {
    int64_t before = seq_length;
    const char* bad_stops[2] = {"ok", "\xff"};
    EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_generate(ctx, seq, NULL, prompt, 0, NULL, NULL, NULL));
    EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_generate(ctx, seq, NULL, NULL, 3, NULL, NULL, NULL));
    EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_generate(ctx, 12345, NULL, prompt, n_prompt, NULL, NULL, NULL));
    g = qtr_generate_options_default();
    g.n_predict = -1;
    EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_generate(ctx, seq, NULL, prompt, n_prompt, &g, NULL, NULL));
    g = qtr_generate_options_default();
    g.stop = bad_stops;
    g.n_stop = 2;
    EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_generate(ctx, seq, NULL, prompt, n_prompt, &g, NULL, NULL));
    CHECK(strstr(qtr_last_error(), "UTF-8") != NULL);
    bad_stops[1] = NULL;
    EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_generate(ctx, seq, NULL, prompt, n_prompt, &g, NULL, NULL));
    g.n_stop = 0;
    g.stop = NULL;
    g.n_stop = 1;
    EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_generate(ctx, seq, NULL, prompt, n_prompt, &g, NULL, NULL));
    bad_prompt[0] = prompt[0];
    bad_prompt[1] = (qtr_token)info.n_vocab + 5;
    EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_generate(ctx, seq, NULL, bad_prompt, 2, NULL, NULL, NULL));
    OK(qtr_sampler_create(model, NULL, &freed));
    OK(qtr_sampler_free(freed));
    EXPECT_STATUS(QTR_ERR_INVALID_HANDLE, qtr_generate(ctx, seq, freed, prompt, n_prompt, NULL, NULL, NULL));
    OK(qtr_seq_length(ctx, seq, &seq_length));
    CHECK(seq_length == before);
  }

  OK(qtr_sampler_free(sampler));
  OK(qtr_context_free(small));
  OK(qtr_context_free(ctx));
  free(c);
  free(d);
  free(decoded);
}

/* ---- embeddings ---------------------------------------------------------------------------------------------- */
static void test_embed(qtr_model* model) {
  qtr_context* ctx = NULL;
  qtr_token tokens[64];
  size_t n = 0, n_embd = 0, i;
  float* mean = NULL;
  float* last = NULL;
  float* again = NULL;
  double norm = 0.0;
  qtr_model_info info;
  info.struct_size = sizeof info;
  OK(qtr_model_get_info(model, &info));
  mean = (float*)malloc((size_t)info.n_embd * sizeof *mean);
  last = (float*)malloc((size_t)info.n_embd * sizeof *last);
  again = (float*)malloc((size_t)info.n_embd * sizeof *again);

  OK(qtr_context_create(model, NULL, &ctx));
  OK(qtr_tokenize(model, "A dog runs.", 11, 1, 0, tokens, 64, &n));
  EXPECT_STATUS(QTR_ERR_BUFFER_TOO_SMALL, qtr_embed(ctx, tokens, n, QTR_POOLING_MEAN, 1, NULL, 0, &n_embd));
  CHECK(n_embd == (size_t)info.n_embd);
  EXPECT_STATUS(QTR_ERR_BUFFER_TOO_SMALL, qtr_embed(ctx, tokens, n, QTR_POOLING_MEAN, 1, mean, n_embd - 1, &n_embd));
  OK(qtr_embed(ctx, tokens, n, QTR_POOLING_MEAN, 1, mean, n_embd, &n_embd));
  for (i = 0; i < n_embd; ++i) norm += (double)mean[i] * mean[i];
  CHECK(fabs(norm - 1.0) < 1e-4);
  OK(qtr_embed(ctx, tokens, n, QTR_POOLING_LAST, 1, last, n_embd, &n_embd));
  CHECK(max_abs_diff(mean, last, n_embd) > 1e-4f);
  OK(qtr_embed(ctx, tokens, n, QTR_POOLING_MEAN, 1, again, n_embd, &n_embd));
  CHECK(max_abs_diff(mean, again, n_embd) < 1e-5f);
  OK(qtr_embed(ctx, tokens, n, QTR_POOLING_MEAN, 0, again, n_embd, &n_embd));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_embed(ctx, tokens, 0, QTR_POOLING_MEAN, 1, mean, n_embd, &n_embd));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_embed(ctx, tokens, n, (qtr_pooling)9, 1, mean, n_embd, &n_embd));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_embed(ctx, tokens, n, QTR_POOLING_MEAN, 1, mean, n_embd, NULL));
  tokens[1] = -2;
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_embed(ctx, tokens, n, QTR_POOLING_MEAN, 1, mean, n_embd, &n_embd));
  OK(qtr_context_free(ctx));
  free(mean);
  free(last);
  free(again);
}

/* ---- chat templates ------------------------------------------------------------------------------------------ */
static void test_chat(qtr_model* model) {
  const char* tmpl =
      "{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}"
      "{% if add_generation_prompt %}[assistant]{% endif %}";
  qtr_chat_message messages[2];
  char text[256];
  size_t length = 0, n = 0, n2 = 0;
  qtr_token tokens[128], direct[128];
  qtr_model_info info;
  info.struct_size = sizeof info;
  OK(qtr_model_get_info(model, &info));
  messages[0].role = "system";
  messages[0].content = "Be brief.";
  messages[1].role = "user";
  messages[1].content = "Tell me a story.";

  OK(qtr_chat_render(model, tmpl, messages, 2, 1, text, sizeof text, &length));
  CHECK(strcmp(text, "[system] Be brief.\n[user] Tell me a story.\n[assistant]") == 0);
  CHECK(length == strlen(text));
  OK(qtr_chat_render(model, tmpl, messages, 2, 0, text, sizeof text, &length));
  CHECK(strcmp(text, "[system] Be brief.\n[user] Tell me a story.\n") == 0);
  EXPECT_STATUS(QTR_ERR_BUFFER_TOO_SMALL, qtr_chat_render(model, tmpl, messages, 2, 1, text, 10, &length));
  CHECK(length == strlen("[system] Be brief.\n[user] Tell me a story.\n[assistant]"));
  OK(qtr_chat_render(model, tmpl, NULL, 0, 1, text, sizeof text, &length));
  CHECK(strcmp(text, "[assistant]") == 0);

  OK(qtr_chat_tokenize(model, tmpl, messages, 2, 1, tokens, 128, &n));
  OK(qtr_chat_render(model, tmpl, messages, 2, 1, text, sizeof text, &length));
  OK(qtr_tokenize(model, text, length, 1, 1, direct, 128, &n2));
  CHECK(n == n2 && memcmp(tokens, direct, n * sizeof *tokens) == 0);
  EXPECT_STATUS(QTR_ERR_BUFFER_TOO_SMALL, qtr_chat_tokenize(model, tmpl, messages, 2, 1, NULL, 0, &n2));
  CHECK(n2 == n);

  if (info.chat_template[0] == '\0') {
    EXPECT_STATUS(QTR_ERR_UNSUPPORTED, qtr_chat_render(model, NULL, messages, 2, 1, text, sizeof text, &length));
    EXPECT_STATUS(QTR_ERR_UNSUPPORTED, qtr_chat_tokenize(model, NULL, messages, 2, 1, tokens, 128, &n));
  }
  EXPECT_STATUS(QTR_ERR_BAD_FORMAT, qtr_chat_render(model, "{% for %}", messages, 2, 1, text, sizeof text, &length));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_chat_render(model, "\xfe", messages, 2, 1, text, sizeof text, &length));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_chat_render(model, tmpl, NULL, 2, 1, text, sizeof text, &length));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_chat_render(model, tmpl, messages, 2, 1, NULL, 4, &length));
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_chat_render(model, tmpl, messages, 2, 1, text, sizeof text, NULL));
  messages[1].content = "bad \xc3\x28 byte";
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_chat_render(model, tmpl, messages, 2, 1, text, sizeof text, &length));
  CHECK(strstr(qtr_last_error(), "message 1 content") != NULL);
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_chat_tokenize(model, tmpl, messages, 2, 1, tokens, 128, &n));
  messages[1].content = NULL;
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_chat_render(model, tmpl, messages, 2, 1, text, sizeof text, &length));
  messages[1].content = "fine";
  messages[0].role = NULL;
  EXPECT_STATUS(QTR_ERR_INVALID_ARGUMENT, qtr_chat_tokenize(model, tmpl, messages, 2, 1, tokens, 128, &n));
  /* a template that raises at render time */
  CHECK(qtr_chat_render(model, "{{ raise_exception('no') }}", NULL, 0, 1, text, sizeof text, &length) != QTR_OK);
  CHECK(strstr(qtr_last_error(), "no") != NULL);
}

/* ---- the model outlives its handle while a context uses it ---------------------------------------------------- */
static void test_model_freed_before_context(const char* path) {
  qtr_model* model = NULL;
  qtr_context* ctx = NULL;
  qtr_seq seq = 0;
  qtr_token bos[16];
  size_t n = 0, n_generated = 0;
  qtr_generate_options g = qtr_generate_options_default();
  OK(qtr_model_load(path, NULL, &model));
  OK(qtr_tokenize(model, "Hi", 2, 1, 0, bos, 16, &n));
  OK(qtr_context_create(model, NULL, &ctx));
  OK(qtr_model_free(model));
  OK(qtr_seq_create(ctx, &seq));
  g.n_predict = 5;
  g.stop_at_eog = 0;
  OK(qtr_generate(ctx, seq, NULL, bos, n, &g, NULL, &n_generated));
  CHECK(n_generated == 5);
  OK(qtr_context_free(ctx));
}

int main(int argc, char** argv) {
  qtr_model* model = NULL;
  qtr_model_options o;
  FILE* f;
  char* expected = NULL;
  size_t expected_size = 0;
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s MODEL.gguf [EXPECTED.txt]\n", argv[0]);
    return 2;
  }
  f = fopen(argv[1], "rb");
  if (f == NULL) {
    printf("SKIP: %s is not there\n", argv[1]);
    return 77;
  }
  fclose(f);
  if (argc == 3) {
    expected = read_file(argv[2], &expected_size);
    if (expected == NULL) {
      fprintf(stderr, "cannot read %s\n", argv[2]);
      return 1;
    }
  }

  test_version_and_options();
  test_load_errors(argv[1]);
  test_bad_handles(argv[1]);
  o = qtr_model_options_default();
  o.n_threads = 2;
  OK(qtr_model_load(argv[1], &o, &model));
  if (model != NULL) {
    test_tokenizer(model, expected != NULL);
    test_context(model);
    test_sampler(model);
    test_generate(model, expected, expected_size);
    test_embed(model);
    test_chat(model);
    OK(qtr_model_free(model));
  }
  test_model_freed_before_context(argv[1]);
  free(expected);

  printf("%d checks, %d failed (%s)\n", g_checks, g_failures, argv[1]);
  return g_failures == 0 ? 0 : 1;
}
