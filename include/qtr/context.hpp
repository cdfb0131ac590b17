// Context — many sequences over one model, in one paged KV cache of a fixed byte budget. A batch of
// (sequence, token, position) entries advances several sequences in one forward pass, so the weights are read once
// per step for all of them (like llama.cpp's llama_batch / llama_decode).
//
//   auto model = qtr::Model::load("model.gguf");
//   qtr::Context ctx(model, {.n_seq = 4});
//   qtr::SeqId a = ctx.create_sequence(), b = ctx.create_sequence();
//   std::vector<qtr::BatchEntry> batch = {{a, 1, 0}, {a, 450, 1, true}, {b, 1, 0, true}};
//   std::span<const float> logits = ctx.decode(batch);   // [2][n_vocab]: a's last entry, then b's
//
// A Context belongs to one thread at a time; the Model it runs may be shared by many contexts on many threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "qtr/model.hpp"

namespace qtr {

class KvPool;
using SeqId = int64_t;

struct ContextOptions {
  int n_threads = 0;            // 0: the model's default
  int64_t n_ctx = 0;            // most positions one sequence may hold; 0: the training context, at most 4096
  int n_seq = 1;                // sequences of n_ctx positions the default KV budget is sized for
  size_t kv_budget_bytes = 0;   // the KV cache's size; 0: room for n_seq full sequences
  std::string kv_type = "f16";  // element type of cached keys/values: f16, q8_0 or f32
  int64_t kv_page_size = 16;    // positions per page
  int64_t n_ubatch = 512;       // most rows one forward pass runs; larger batches run in slices of this size
};

// One row of a batch: `token` at position `pos` of sequence `seq`; `logits`: return this row's logits (and hidden
// state). The entries of one sequence must be consecutive in the batch, at consecutive positions that continue
// the sequence (the first at its current length).
struct BatchEntry {
  SeqId seq = 0;
  TokenId token = 0;
  int64_t pos = 0;
  bool logits = false;
};

struct KvMemory {
  size_t bytes_total = 0;      // the whole cache
  size_t bytes_used = 0;       // pages held by at least one sequence
  size_t bytes_per_token = 0;  // keys and values of one position in every layer
  int64_t pages_total = 0, pages_free = 0, pages_used = 0, pages_shared = 0;
};

class Context {
 public:
  explicit Context(std::shared_ptr<const Model> model, const ContextOptions& options = {});
  ~Context();
  Context(Context&&) noexcept;
  Context& operator=(Context&&) noexcept;

  // Sequences. Unknown ids are an Error(invalid_argument) naming the id.
  SeqId create_sequence();
  SeqId fork_sequence(SeqId source);  // shares source's cached positions (copy-on-write)
  void truncate_sequence(SeqId seq, int64_t n_keep);
  void remove_sequence(SeqId seq);
  int64_t sequence_length(SeqId seq) const;
  bool has_sequence(SeqId seq) const;

  // Runs the batch. Returns the logits of the entries marked `logits`, in batch order ([n][n_vocab]); the span is
  // valid until the next decode. Errors (Error(invalid_argument): ids outside the vocabulary, unknown sequences,
  // positions that skip or go back, more positions than n_ctx; Error(out_of_memory): the KV cache cannot hold
  // the batch) leave every sequence exactly as it was.
  std::span<const float> decode(std::span<const BatchEntry> batch);
  // The final hidden states (after the output norm) of the same entries ([n][n_embd]), for embeddings.
  std::span<const float> hidden_states() const { return hidden_; }

  const Model& model() const { return *model_; }
  int64_t n_ctx() const { return n_ctx_; }
  int n_threads() const { return n_threads_; }
  KvMemory kv_memory() const;

 private:
  void run_slice(std::span<const BatchEntry> batch, size_t first_output, float* logits, float* hidden);

  std::shared_ptr<const Model> model_;
  std::unique_ptr<KvPool> pool_;
  std::unique_ptr<ops::Workspace> workspace_;
  std::vector<float> logits_, hidden_;
  int64_t n_ctx_ = 0;
  int64_t n_ubatch_ = 512;
  int n_threads_ = 1;
};

}  // namespace qtr
