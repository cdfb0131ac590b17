/* One model, several threads, each with its own context and sampler, generating at the same time. Every thread must
 * produce the greedy tokens a single-threaded run produced, and see only its own qtr_last_error().
 *
 *   test_threads MODEL.gguf [THREADS_PER_CONTEXT]
 *
 * Exits 77 (ctest SKIP_RETURN_CODE) when MODEL does not exist. Run under ThreadSanitizer in a QTR_TSAN build. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qtr.h"

enum { kThreads = 4, kTokens = 24 };

typedef struct {
  const qtr_model* model;
  int n_threads;
  int index;
  qtr_token tokens[kTokens];
  size_t n_tokens;
  int failed;
} Job;

static int keep_token(qtr_token token, void* user_data) {
  Job* job = (Job*)user_data;
  if (job->n_tokens < kTokens) job->tokens[job->n_tokens++] = token;
  return 0;
}

static void* run(void* arg) {
  Job* job = (Job*)arg;
  qtr_context* ctx = NULL;
  qtr_sampler* sampler = NULL;
  qtr_context_options o = qtr_context_options_default();
  qtr_generate_options g = qtr_generate_options_default();
  qtr_sampler_params p = qtr_sampler_params_default();
  qtr_seq seq = 0;
  qtr_token prompt[32];
  size_t n = 0;
  char want[64];
  o.n_ctx = 64;
  o.n_threads = job->n_threads;
  p.temperature = 0.0f;
  g.n_predict = kTokens;
  g.stop_at_eog = 0;
  g.on_token = keep_token;
  g.user_data = job;
  if (qtr_context_create(job->model, &o, &ctx) != QTR_OK || qtr_seq_create(ctx, &seq) != QTR_OK ||
      qtr_sampler_create(job->model, &p, &sampler) != QTR_OK ||
      qtr_tokenize(job->model, "Once upon a time", 16, 1, 0, prompt, 32, &n) != QTR_OK ||
      qtr_generate(ctx, seq, sampler, prompt, n, &g, NULL, NULL) != QTR_OK) {
    fprintf(stderr, "thread %d: %s\n", job->index, qtr_last_error());
    job->failed = 1;
  }
  /* Each thread's last error is its own: fail with a message naming this thread, then read it back. */
  sprintf(want, "%d", 1000 + job->index);
  if (qtr_seq_remove(ctx, 1000 + job->index) != QTR_ERR_INVALID_ARGUMENT || strstr(qtr_last_error(), want) == NULL) {
    fprintf(stderr, "thread %d: last error '%s' does not name %s\n", job->index, qtr_last_error(), want);
    job->failed = 1;
  }
  qtr_sampler_free(sampler);
  qtr_context_free(ctx);
  return NULL;
}

int main(int argc, char** argv) {
  qtr_model* model = NULL;
  qtr_model_options mo = qtr_model_options_default();
  Job reference, jobs[kThreads];
  pthread_t threads[kThreads];
  FILE* f;
  int i, failures = 0;
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL.gguf [THREADS_PER_CONTEXT]\n", argv[0]);
    return 2;
  }
  f = fopen(argv[1], "rb");
  if (f == NULL) {
    printf("SKIP: %s is not there\n", argv[1]);
    return 77;
  }
  fclose(f);
  mo.n_threads = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 1;
  if (qtr_model_load(argv[1], &mo, &model) != QTR_OK) {
    fprintf(stderr, "load: %s\n", qtr_last_error());
    return 1;
  }
  memset(&reference, 0, sizeof reference);
  reference.model = model;
  reference.n_threads = mo.n_threads;
  run(&reference);
  failures += reference.failed;
  for (i = 0; i < kThreads; ++i) {
    memset(&jobs[i], 0, sizeof jobs[i]);
    jobs[i].model = model;
    jobs[i].n_threads = mo.n_threads;
    jobs[i].index = i + 1;
    if (pthread_create(&threads[i], NULL, run, &jobs[i]) != 0) return 1;
  }
  for (i = 0; i < kThreads; ++i) pthread_join(threads[i], NULL);
  for (i = 0; i < kThreads; ++i) {
    failures += jobs[i].failed;
    if (jobs[i].n_tokens != kTokens || memcmp(jobs[i].tokens, reference.tokens, sizeof reference.tokens) != 0) {
      fprintf(stderr, "thread %d generated other tokens than the single-threaded run\n", i + 1);
      ++failures;
    }
  }
  qtr_model_free(model);
  printf("%d threads x %d tokens, %d failures\n", kThreads, kTokens, failures);
  return failures == 0 ? 0 : 1;
}
