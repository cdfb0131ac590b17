// The pre-norm decoder graph shared by the llama-like families; what differs between them is a DecoderSpec.
#pragma once

#include "graph.hpp"

namespace qtr {

struct DecoderSpec {
  bool qkv_bias = false;   // Q/K/V projections have biases (qwen2)
  bool qk_norm = false;    // RMSNorm over each head of q and k before RoPE (qwen3)
  bool rope_neox = false;  // RoPE rotates the two halves of a head (HF layout), not adjacent pairs (llama GGUF)
  bool fused_qkv = false;  // one attn_qkv weight [n_embd] -> [q_dim + 2*kv_dim] (q, k, v rows in turn) (phi3)
  bool fused_gate_up = false;  // ffn_up is [n_embd] -> [2*n_ff]: gate rows, then up rows; no ffn_gate (phi3)
};

std::unique_ptr<Graph> make_decoder_graph(const GgufFile& file, const DecoderSpec& spec,
                                          const ops::WeightOptions& options, int n_threads);

}  // namespace qtr
