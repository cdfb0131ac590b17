// The Qwen families. `qwen2` (Qwen 2 / 2.5): biases on the Q/K/V projections. `qwen3`: no biases, per-head RMSNorm
// on q and k (attn_q_norm / attn_k_norm) before RoPE. Both keep HF's Q/K layout and rotate halves (NeoX RoPE).
#include "decoder.hpp"

namespace qtr {

std::unique_ptr<Graph> make_qwen2_graph(const GgufFile& file, const ops::WeightOptions& options, int n_threads) {
  return make_decoder_graph(file, DecoderSpec{.qkv_bias = true, .qk_norm = false, .rope_neox = true}, options,
                            n_threads);
}

std::unique_ptr<Graph> make_qwen3_graph(const GgufFile& file, const ops::WeightOptions& options, int n_threads) {
  return make_decoder_graph(file, DecoderSpec{.qkv_bias = false, .qk_norm = true, .rope_neox = true}, options,
                            n_threads);
}

}  // namespace qtr
