// The pre-norm decoder graph shared by the llama-like families; what differs between them is a DecoderSpec.
#pragma once

#include "graph.hpp"

namespace qtr {

struct DecoderSpec {
  bool qkv_bias = false;   // Q/K/V projections have biases (qwen2)
  bool qk_norm = false;    // RMSNorm over each head of q and k before RoPE (qwen3)
  bool rope_neox = false;  // RoPE rotates the two halves of a head (HF layout), not adjacent pairs (llama GGUF)
};

std::unique_ptr<Graph> make_decoder_graph(const GgufFile& file, const DecoderSpec& spec,
                                          const ops::WeightOptions& options, int n_threads);

}  // namespace qtr
