// qtr perplexity — perplexity of a model on a text file, llama.cpp-style: the text is tokenized once and cut into
// chunks of --ctx tokens; each chunk is evaluated from an empty context (BOS first, when the vocabulary adds one),
// and the second half of each chunk is scored, so every scored token has at least ctx/2 tokens of context.
#include <cmath>
#include <cstdio>

#include "commands.hpp"
#include "load_args.hpp"
#include "qtr/error.hpp"
#include "qtr/model.hpp"

namespace qtr::cli {

namespace {

constexpr OptionSpec kOptions[] = {
    {"--model", "PATH", "GGUF model file"},
    {"--file", "PATH", "text to score"},
    {"--ctx", "N", "tokens per chunk (default 512)"},
    {"--chunks", "N", "score at most N chunks (default: all)"},
    {"--threads", "N", "threads (default: all hardware threads)"},
    {"--kv-type", "TYPE", "element type of the KV cache: f16 (default), q8_0 or f32"},
    kMatmulInputsOption,
};

// -log softmax(logits)[target], in double precision.
double negative_log_likelihood(std::span<const float> logits, TokenId target) {
  double max = logits[0];
  for (float l : logits) max = std::max(max, static_cast<double>(l));
  double sum = 0.0;
  for (float l : logits) sum += std::exp(static_cast<double>(l) - max);
  return std::log(sum) + max - static_cast<double>(logits[static_cast<size_t>(target)]);
}

int run(const Args& args) {
  if (!args.positional().empty()) throw UsageError{"unexpected argument '" + args.positional()[0] + "'"};
  const std::string path = args.require("--model");
  const std::string text = read_text_file(args.require("--file"));
  const int64_t ctx = args.integer("--ctx", 512, 8, int64_t(1) << 20);
  const int64_t max_chunks = args.integer("--chunks", -1, -1, int64_t(1) << 30);
  LoadOptions load;
  read_matmul_inputs(args, load);
  load.n_threads = static_cast<int>(args.integer("--threads", 0, 1, 1024));
  const auto model = Model::load(path, load);
  const Tokenizer& tok = model->tokenizer();
  const std::vector<TokenId> tokens = tok.encode(text, EncodeOptions{false, false});
  const bool bos = tok.vocab().add_bos && tok.vocab().bos != kNoToken;
  const int64_t body = bos ? ctx - 1 : ctx;  // text tokens per chunk
  int64_t n_chunks = static_cast<int64_t>(tokens.size()) / body;
  if (max_chunks >= 0) n_chunks = std::min(n_chunks, max_chunks);
  if (n_chunks < 1) {
    throw Error(Errc::invalid_argument, "the text has " + std::to_string(tokens.size()) + " tokens, fewer than one chunk of " +
                                            std::to_string(body) + " (lower --ctx)");
  }
  SessionOptions so;
  so.n_ctx = ctx;
  so.kv_type = args.string("--kv-type").value_or("f16");
  Session session(model, so);
  double nll = 0.0;
  int64_t scored = 0;
  const auto n_vocab = static_cast<size_t>(model->config().n_vocab);
  for (int64_t c = 0; c < n_chunks; ++c) {
    std::vector<TokenId> chunk;
    if (bos) chunk.push_back(tok.vocab().bos);
    chunk.insert(chunk.end(), tokens.begin() + c * body, tokens.begin() + (c + 1) * body);
    session.reset();
    const auto logits = session.eval(chunk, /*all_logits=*/true);
    for (int64_t i = ctx / 2; i + 1 < static_cast<int64_t>(chunk.size()); ++i) {
      nll += negative_log_likelihood(logits.subspan(static_cast<size_t>(i) * n_vocab, n_vocab), chunk[static_cast<size_t>(i + 1)]);
      ++scored;
    }
    std::fprintf(stderr, "[%lld/%lld] perplexity so far %.4f\n", static_cast<long long>(c + 1),
                 static_cast<long long>(n_chunks), std::exp(nll / static_cast<double>(scored)));
  }
  std::printf("perplexity: %.4f (%lld tokens scored in %lld chunks of %lld)\n", std::exp(nll / static_cast<double>(scored)),
              static_cast<long long>(scored), static_cast<long long>(n_chunks), static_cast<long long>(ctx));
  return 0;
}

}  // namespace

const Command kPerplexityCommand{"perplexity", "Measure a model's perplexity on a text file.",
                                 "--model PATH --file TEXT [--ctx 512]", kOptions, &run};

}  // namespace qtr::cli
