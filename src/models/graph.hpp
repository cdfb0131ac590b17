// Graph — one architecture's forward pass over its loaded weights. Each family lives in its own file and registers
// a factory in registry.cpp; a Context drives it with batches of rows from many sequences.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "ops/kv_attention.hpp"
#include "ops/ops.hpp"
#include "qtr/model_config.hpp"
#include "qtr/vocab.hpp"

namespace qtr {

class GgufFile;

// One forward pass: rows of several sequences (segments; see ops::BatchSegment), and the rows whose outputs are
// wanted. The pool has room reserved for every row's position.
struct ForwardBatch {
  std::span<const TokenId> tokens;                // [n_rows]
  std::span<const int64_t> positions;             // [n_rows] each row's position in its sequence
  std::span<const ops::BatchSegment> segments;    // cover rows 0 .. n_rows-1 in order
  std::span<const int64_t> output_rows;           // ascending rows whose logits / hidden states are wanted
};

class Graph {
 public:
  virtual ~Graph() = default;
  virtual const ModelConfig& config() const = 0;

  // Runs the batch, writing every row's keys/values into `kv`. For the output rows, writes the logits into `logits`
  // ([n_out][n_vocab], may be null) and the final hidden states, after the output norm, into `hidden`
  // ([n_out][n_embd], may be null).
  virtual void forward(const ForwardBatch& batch, KvPool& kv, ops::Workspace& ws, float* logits, float* hidden,
                       int n_threads) const = 0;

  // The attention window of each layer ([n_layer]; 0 = full attention): the KV cache keeps only that many
  // positions for a windowed layer.
  virtual std::vector<int64_t> layer_windows() const = 0;

  // Bytes the weights occupy in their compute form (packed, converted or mapped).
  virtual size_t weight_bytes() const = 0;
};

// The activation buffers of a decoder's forward pass over n rows, from the workspace: [n][width] each.
struct DecoderActivations {
  DecoderActivations(ops::Workspace& ws, const ModelConfig& c, int64_t n)
      : x(ws.buffer(0, n * c.n_embd)), xn(ws.buffer(1, n * c.n_embd)), q(ws.buffer(2, n * c.q_dim())),
        k(ws.buffer(3, n * c.kv_dim())), v(ws.buffer(4, n * c.kv_dim())), attn(ws.buffer(5, n * c.q_dim())),
        proj(ws.buffer(6, n * c.n_embd)), gate(ws.buffer(7, n * c.n_ff)), up(ws.buffer(8, n * c.n_ff)) {}
  float* x;     // residual stream
  float* xn;    // its normalised copy
  float *q, *k, *v;
  float* attn;  // attention output
  float* proj;  // an output projection's result
  float *gate, *up;
};

// Builds the graph for the file's general.architecture; throws qtr::Error(unsupported) naming an unknown one.
std::unique_ptr<Graph> make_graph(const GgufFile& file, const ops::WeightOptions& options, int n_threads);

// Architecture factories (one per family file).
std::unique_ptr<Graph> make_llama_graph(const GgufFile& file, const ops::WeightOptions& options, int n_threads);
std::unique_ptr<Graph> make_qwen2_graph(const GgufFile& file, const ops::WeightOptions& options, int n_threads);
std::unique_ptr<Graph> make_qwen3_graph(const GgufFile& file, const ops::WeightOptions& options, int n_threads);
std::unique_ptr<Graph> make_phi3_graph(const GgufFile& file, const ops::WeightOptions& options, int n_threads);
std::unique_ptr<Graph> make_gemma3_graph(const GgufFile& file, const ops::WeightOptions& options, int n_threads);

}  // namespace qtr
