/* generate — continue a prompt with a model through the qtr C API, printing the text as it comes.
 *
 *   cc -std=c99 generate.c $(pkg-config --cflags --libs qtr) -o generate
 *   ./generate MODEL.gguf ["PROMPT"] [N_PREDICT] [SEED]
 *
 * Without SEED the output is greedy (temperature 0); with it, sampled with the default chain. */
#include <qtr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints each piece of text as soon as it is complete UTF-8. Returning nonzero would stop generation. */
static int print_piece(const char* text, size_t length, void* user_data) {
  size_t* n_bytes = (size_t*)user_data;
  fwrite(text, 1, length, stdout);
  fflush(stdout);
  *n_bytes += length;
  return 0;
}

static int report(const char* what, qtr_status status) {
  fprintf(stderr, "generate: %s failed: %s: %s\n", what, qtr_status_name(status), qtr_last_error());
  return 1;
}

int main(int argc, char** argv) {
  const char* path;
  const char* prompt_text;
  long n_predict;
  qtr_model* model = NULL;
  qtr_context* context = NULL;
  qtr_sampler* sampler = NULL;
  qtr_token* prompt = NULL;
  qtr_seq seq = 0;
  size_t n_prompt = 0, n_generated = 0, n_bytes = 0;
  qtr_stop_reason reason = QTR_STOP_MAX_TOKENS;
  qtr_status status;
  qtr_model_options model_options;
  qtr_context_options context_options;
  qtr_generate_options options;
  int exit_code = 1;

  if (argc < 2 || argc > 5) {
    fprintf(stderr, "usage: %s MODEL [PROMPT] [N_PREDICT] [SEED]\n", argv[0]);
    return 2;
  }
  path = argv[1];
  prompt_text = argc > 2 ? argv[2] : "Once upon a time";
  n_predict = argc > 3 ? strtol(argv[3], NULL, 10) : 32;

  fprintf(stderr, "qtr %s (ABI %u)\n", qtr_version(), (unsigned)qtr_abi_version());
  model_options = qtr_model_options_default();
  model_options.n_threads = 2;
  status = qtr_model_load(path, &model_options, &model);
  if (status != QTR_OK) return report("qtr_model_load", status);

  context_options = qtr_context_options_default();
  context_options.n_ctx = 256;
  status = qtr_context_create(model, &context_options, &context);
  if (status != QTR_OK) { report("qtr_context_create", status); goto done; }
  status = qtr_seq_create(context, &seq);
  if (status != QTR_OK) { report("qtr_seq_create", status); goto done; }

  if (argc > 4) {
    qtr_sampler_params params = qtr_sampler_params_default();
    params.seed = strtoull(argv[4], NULL, 10);
    status = qtr_sampler_create(model, &params, &sampler);
    if (status != QTR_OK) { report("qtr_sampler_create", status); goto done; }
  }

  /* Ask for the token count first, then tokenize into a buffer of that size. */
  status = qtr_tokenize(model, prompt_text, strlen(prompt_text), 1, 0, NULL, 0, &n_prompt);
  if (status != QTR_OK && status != QTR_ERR_BUFFER_TOO_SMALL) { report("qtr_tokenize", status); goto done; }
  prompt = (qtr_token*)malloc(n_prompt * sizeof *prompt);
  if (prompt == NULL) goto done;
  status = qtr_tokenize(model, prompt_text, strlen(prompt_text), 1, 0, prompt, n_prompt, &n_prompt);
  if (status != QTR_OK) { report("qtr_tokenize", status); goto done; }

  options = qtr_generate_options_default();
  options.n_predict = n_predict;
  options.on_text = print_piece;
  options.user_data = &n_bytes;
  fputs(prompt_text, stdout);
  status = qtr_generate(context, seq, sampler, prompt, n_prompt, &options, &reason, &n_generated);
  putchar('\n');
  if (status != QTR_OK) { report("qtr_generate", status); goto done; }
  fprintf(stderr, "generated %zu tokens (%zu bytes), stopped: %s\n", n_generated, n_bytes,
          reason == QTR_STOP_EOG ? "end of generation" : reason == QTR_STOP_MAX_TOKENS ? "max tokens" : "other");
  exit_code = 0;

done:
  free(prompt);
  qtr_sampler_free(sampler);
  qtr_context_free(context);
  qtr_model_free(model);
  return exit_code;
}
