#include <omp.h>

#include <cstdlib>
#include <thread>

#include "models/graph.hpp"
#include "qtr/error.hpp"
#include "qtr/gguf.hpp"
#include "qtr/hf_import.hpp"
#include "qtr/model.hpp"
#include "runtime/kv_cache.hpp"

namespace qtr {

namespace {
int resolve_threads(int requested) {
  if (requested < 0) throw Error(Errc::invalid_argument, "thread count must be >= 0");
  if (requested > 0) return requested;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}
}  // namespace

std::shared_ptr<const Model> Model::load(const std::filesystem::path& path, const LoadOptions& options) {
  std::shared_ptr<Model> model(new Model());
  model->n_threads_ = resolve_threads(options.n_threads);
  model->file_ = std::make_shared<GgufFile>(open_model_file(path));
  const bool mapped = !is_hf_checkpoint(path);  // a converted checkpoint lives in owned memory, not a file map
  const kernels::Isa isa = kernels::select_isa(options.isa.empty() ? std::getenv("QTR_ISA") : options.isa.c_str());
  model->isa_ = static_cast<int>(isa);
  ops::WeightOptions weights;
  weights.isa = isa;
  weights.repack = options.repack;
  weights.release_mapped_source = mapped;
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
const char* Model::isa() const { return kernels::isa_name(static_cast<kernels::Isa>(isa_)); }
size_t Model::weight_bytes() const { return graph_->weight_bytes(); }

Session::Session(std::shared_ptr<const Model> model, const SessionOptions& options) : model_(std::move(model)) {
  if (!model_) throw Error(Errc::invalid_argument, "Session needs a model");
  const ModelConfig& c = model_->config();
  if (options.n_ctx < 0) throw Error(Errc::invalid_argument, "context length must be >= 0");
  n_ctx_ = options.n_ctx > 0 ? options.n_ctx : std::min<int64_t>(c.n_ctx_train, 4096);
  n_threads_ = options.n_threads > 0 ? options.n_threads : model_->default_threads();
  if (options.n_threads < 0) throw Error(Errc::invalid_argument, "thread count must be >= 0");
  cache_ = std::make_unique<KvCache>(c.n_layer, n_ctx_, c.kv_dim());
  workspace_ = std::make_unique<ops::Workspace>();
}

Session::~Session() = default;
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

std::span<const float> Session::eval(std::span<const TokenId> tokens, bool all_logits) {
  const ModelConfig& c = model_->config();
  if (tokens.empty()) throw Error(Errc::invalid_argument, "eval needs at least one token");
  for (TokenId id : tokens) {
    if (id < 0 || id >= c.n_vocab) {
      throw Error(Errc::invalid_argument, "token id " + std::to_string(id) + " is outside the vocabulary (" +
                                              std::to_string(c.n_vocab) + " tokens)");
    }
  }
  const auto n = static_cast<int64_t>(tokens.size());
  if (n_past_ + n > n_ctx_) {
    throw Error(Errc::invalid_argument, "context full: " + std::to_string(n_past_) + " + " + std::to_string(n) +
                                            " tokens exceed the context length " + std::to_string(n_ctx_));
  }
  const int64_t rows = all_logits ? n : 1;
  logits_.resize(static_cast<size_t>(rows * c.n_vocab));
  model_->graph().forward(tokens, n_past_, *cache_, *workspace_, logits_.data(), all_logits, n_threads_);
  n_past_ += n;
  return logits_;
}

void Session::reset() { n_past_ = 0; }

void Session::truncate(int64_t n) {
  if (n < 0 || n > n_past_) {
    throw Error(Errc::invalid_argument, "cannot truncate a context of " + std::to_string(n_past_) + " tokens to " +
                                            std::to_string(n));
  }
  n_past_ = n;  // the cache rows beyond n are overwritten by the next eval
}

}  // namespace qtr
