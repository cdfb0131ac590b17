// qtr's C++ API: load a model once, run sessions over it.
//
//   auto model = qtr::Model::load("model.gguf");
//   qtr::Session session(model);
//   auto ids = model->tokenizer().encode("Once upon a time");
//   std::span<const float> logits = session.eval(ids);   // logits of the last token
//
// A Model is immutable after load and may be shared by many sessions on many threads; a Session (its KV cache and
// scratch buffers) belongs to one thread at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qtr/model_config.hpp"
#include "qtr/tokenizer.hpp"

namespace qtr {

class GgufFile;
class TokenVocabulary;
class Graph;
namespace ops {
struct Workspace;
}

// How the float inputs of the quantized matmuls are rounded for the integer kernels (docs/accuracy.md).
enum class MatmulInputs {
  // The inputs of the Q/K/V, gate/up and down projections in two int8 terms (the second quantizes the first's
  // rounding error: about 15 bits); the attention output and the output head in one. Next-token distributions
  // within KL ~1e-3 of transformers on the same weights, for more integer work in prompt processing.
  precise,
  // Every input one int8 term per block of 32 (llama.cpp's scheme): the least work, KL ~1e-2 on small models.
  int8,
};

// "precise" / "int8", and back; parse throws qtr::Error(invalid_argument) naming the accepted values.
const char* matmul_inputs_name(MatmulInputs inputs);
MatmulInputs parse_matmul_inputs(std::string_view name);

struct LoadOptions {
  int n_threads = 0;      // default thread count for sessions (and for packing at load); 0 = all hardware threads
  std::string isa;        // kernels to use: "scalar", "avx2", "avx512", "neon"; empty = $QTR_ISA, else the best
  bool repack = true;     // pack quantized weights into kernel tiles (false: in-place kernels on the GGUF rows)
  bool use_mmap = true;   // map the GGUF file (false: read it into memory, e.g. for files that may change)
  MatmulInputs matmul_inputs = MatmulInputs::precise;
};

class Model {
 public:
  static std::shared_ptr<const Model> load(const std::filesystem::path& path, const LoadOptions& options = {});
  ~Model();

  const ModelConfig& config() const;
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  int default_threads() const { return n_threads_; }
  const Graph& graph() const { return *graph_; }
  const char* isa() const;             // the kernels in use ("avx512vnni", ...)
  MatmulInputs matmul_inputs() const { return matmul_inputs_; }
  size_t weight_bytes() const;         // weights in their compute form
  // The model's own chat template (GGUF tokenizer.chat_template, Jinja source); empty when the file has none.
  const std::string& chat_template() const { return chat_template_; }
  // The vocabulary as constraints need it (qtr/constraint.hpp), built on first use and then shared.
  std::shared_ptr<const TokenVocabulary> token_vocabulary() const;

 private:
  Model() = default;
  std::shared_ptr<const GgufFile> file_;  // keeps the mapping alive for zero-copy weights
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<Graph> graph_;
  std::string chat_template_;
  mutable std::once_flag token_vocabulary_once_;
  mutable std::shared_ptr<const TokenVocabulary> token_vocabulary_;
  int n_threads_ = 1;
  int isa_ = 0;  // kernels::Isa
  MatmulInputs matmul_inputs_ = MatmulInputs::precise;
};

struct SessionOptions {
  int64_t n_ctx = 0;            // context length; 0 = the model's training context, capped at 4096
  int n_threads = 0;            // 0 = the model's default
  std::string kv_type = "f16";  // element type of the cached keys/values: f16, q8_0 or f32
};

class Context;

// One sequence in a Context of its own: the simple form for one conversation or one document.
class Session {
 public:
  explicit Session(std::shared_ptr<const Model> model, const SessionOptions& options = {});
  ~Session();
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;

  // Appends `tokens` to the context and runs them. Returns the logits of the last token ([n_vocab]), or of every
  // token ([n_tokens][n_vocab]) when all_logits is set. The span is valid until the next eval/reset.
  // Throws qtr::Error(invalid_argument) for ids outside the vocabulary or when the context would overflow; the
  // context is then unchanged.
  std::span<const float> eval(std::span<const TokenId> tokens, bool all_logits = false);

  void reset();  // forget the context
  // Keeps the first n tokens of the context and forgets the rest (0 <= n <= n_past(), else invalid_argument).
  void truncate(int64_t n);
  int64_t n_past() const;
  int64_t n_ctx() const;
  const Model& model() const { return *model_; }
  Context& context() { return *context_; }
  // The final hidden states (after the output norm) of the last eval's returned rows ([rows][n_embd]).
  std::span<const float> hidden_states() const;

 private:
  std::shared_ptr<const Model> model_;
  std::unique_ptr<Context> context_;
  int64_t seq_ = 0;  // the sequence in context_
};

}  // namespace qtr
