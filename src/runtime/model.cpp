#include <omp.h>

#include <cstdlib>
#include <thread>

#include "models/graph.hpp"
#include "qtr/blob.hpp"
#include "qtr/context.hpp"
#include "qtr/error.hpp"
#include "qtr/gguf.hpp"
#include "qtr/hf_import.hpp"
#include "qtr/model.hpp"

#include "qtr/constraint.hpp"
#include "qtr/generate.hpp"

namespace qtr {

namespace {
int resolve_threads(int requested) {
  if (requested < 0) throw Error(Errc::invalid_argument, "thread count must be >= 0");
  if (requested > 0) return requested;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}
}  // namespace

const char* matmul_inputs_name(MatmulInputs inputs) {
  return inputs == MatmulInputs::precise ? "precise" : "int8";
}

MatmulInputs parse_matmul_inputs(std::string_view name) {
  if (name == "precise") return MatmulInputs::precise;
  if (name == "int8") return MatmulInputs::int8;
  throw Error(Errc::invalid_argument, "unknown matmul inputs '" + std::string(name) + "' (expected precise or int8)");
}

std::shared_ptr<const Model> Model::load(const std::filesystem::path& path, const LoadOptions& options) {
  std::shared_ptr<Model> model(new Model());
  model->n_threads_ = resolve_threads(options.n_threads);
  const bool checkpoint = is_hf_checkpoint(path);
  model->file_ = std::make_shared<GgufFile>(checkpoint || options.use_mmap ? open_model_file(path)
                                                                         : GgufFile::parse(Blob::read_file(path)));
  const bool mapped = !checkpoint && options.use_mmap;  // converted or read files live in owned memory
  const kernels::Isa isa = kernels::select_isa(options.isa.empty() ? std::getenv("QTR_ISA") : options.isa.c_str());
  model->isa_ = static_cast<int>(isa);
  ops::WeightOptions weights;
  weights.isa = isa;
  weights.repack = options.repack;
  weights.release_mapped_source = mapped;
  weights.inputs = options.matmul_inputs == MatmulInputs::precise ? ops::InputQuant::int8x2 : ops::InputQuant::int8;
  model->matmul_inputs_ = options.matmul_inputs;
  model->graph_ = make_graph(*model->file_, weights, model->n_threads_);
  model->tokenizer_ = Tokenizer::create(Vocab::from_gguf(*model->file_));
  model->chat_template_ = model->file_->get_string("tokenizer.chat_template").value_or("");
  const auto n_vocab = static_cast<size_t>(model->graph_->config().n_vocab);
  if (model->tokenizer_->n_vocab() != n_vocab) {
    throw Error(Errc::bad_format, path.string() + ": the tokenizer has " +
                                      std::to_string(model->tokenizer_->n_vocab()) +
                                      " tokens but the embedding matrix has " + std::to_string(n_vocab) + " rows");
  }
  return model;
}

Model::~Model() = default;

const ModelConfig& Model::config() const { return graph_->config(); }
std::shared_ptr<const TokenVocabulary> Model::token_vocabulary() const {
  std::call_once(token_vocabulary_once_, [this] {
    token_vocabulary_ = TokenVocabulary::build(*tokenizer_, end_of_generation_tokens(tokenizer_->vocab()));
  });
  return token_vocabulary_;
}

const char* Model::isa() const { return kernels::isa_name(static_cast<kernels::Isa>(isa_)); }
size_t Model::weight_bytes() const { return graph_->weight_bytes(); }

Session::Session(std::shared_ptr<const Model> model, const SessionOptions& options) : model_(std::move(model)) {
  if (!model_) throw Error(Errc::invalid_argument, "Session needs a model");
  ContextOptions c;
  c.n_ctx = options.n_ctx;
  c.n_threads = options.n_threads;
  c.kv_type = options.kv_type;
  context_ = std::make_unique<Context>(model_, c);
  seq_ = context_->create_sequence();
}

Session::~Session() = default;
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

std::span<const float> Session::eval(std::span<const TokenId> tokens, bool all_logits) {
  if (tokens.empty()) throw Error(Errc::invalid_argument, "eval needs at least one token");
  const int64_t n_past = context_->sequence_length(seq_);
  const auto n = static_cast<int64_t>(tokens.size());
  if (n_past + n > context_->n_ctx()) {
    throw Error(Errc::invalid_argument, "context full: " + std::to_string(n_past) + " + " + std::to_string(n) +
                                            " tokens exceed the context length " + std::to_string(context_->n_ctx()));
  }
  std::vector<BatchEntry> batch(tokens.size());
  for (int64_t i = 0; i < n; ++i) {
    batch[static_cast<size_t>(i)] = {seq_, tokens[static_cast<size_t>(i)], n_past + i, all_logits || i == n - 1};
  }
  return context_->decode(batch);
}

std::span<const float> Session::hidden_states() const { return context_->hidden_states(); }
int64_t Session::n_past() const { return context_->sequence_length(seq_); }
int64_t Session::n_ctx() const { return context_->n_ctx(); }
void Session::reset() { context_->truncate_sequence(seq_, 0); }

void Session::truncate(int64_t n) {
  if (n < 0 || n > n_past()) {
    throw Error(Errc::invalid_argument, "cannot truncate a context of " + std::to_string(n_past()) + " tokens to " +
                                            std::to_string(n));
  }
  context_->truncate_sequence(seq_, n);
}

}  // namespace qtr
