/* Loads a model through an installed qtr found with find_package(qtr), and tokenizes a word. */
#include <qtr.h>
#include <stdio.h>

int main(int argc, char** argv) {
  qtr_model* model = NULL;
  qtr_token tokens[16];
  size_t n = 0;
  if (argc != 2) return 2;
  if (qtr_model_load(argv[1], NULL, &model) != QTR_OK || qtr_tokenize(model, "hello", 5, 1, 0, tokens, 16, &n)) {
    fprintf(stderr, "consumer: %s\n", qtr_last_error());
    return 1;
  }
  printf("consumer: qtr %s, 'hello' is %zu tokens\n", qtr_version(), n);
  qtr_model_free(model);
  return QTR_VERSION_MAJOR == 0 && n > 0 ? 0 : 1;
}
