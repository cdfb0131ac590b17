// Graph — one architecture's forward pass over its loaded weights. Each family lives in its own file and registers
// a factory in registry.cpp; the Session drives it.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "ops/ops.hpp"
#include "qtr/model_config.hpp"
#include "qtr/vocab.hpp"

namespace qtr {

class GgufFile;
class KvCache;

class Graph {
 public:
  virtual ~Graph() = default;
  virtual const ModelConfig& config() const = 0;

  // Runs `tokens` at positions pos0.. of one sequence, writing their keys/values into `cache`. Writes logits for
  // every token (all_logits) or for the last one only into `logits` ([rows][n_vocab]).
  virtual void forward(std::span<const TokenId> tokens, int64_t pos0, KvCache& cache, ops::Workspace& ws,
                       float* logits, bool all_logits, int n_threads) const = 0;

  // Bytes the weights occupy in their compute form (packed, converted or mapped).
  virtual size_t weight_bytes() const = 0;
};

// Builds the graph for the file's general.architecture; throws qtr::Error(unsupported) naming an unknown one.
std::unique_ptr<Graph> make_graph(const GgufFile& file, const ops::WeightOptions& options, int n_threads);

// Architecture factories (one per family file).
std::unique_ptr<Graph> make_llama_graph(const GgufFile& file, const ops::WeightOptions& options, int n_threads);
std::unique_ptr<Graph> make_qwen2_graph(const GgufFile& file, const ops::WeightOptions& options, int n_threads);
std::unique_ptr<Graph> make_qwen3_graph(const GgufFile& file, const ops::WeightOptions& options, int n_threads);
std::unique_ptr<Graph> make_gemma3_graph(const GgufFile& file, const ops::WeightOptions& options, int n_threads);

}  // namespace qtr
