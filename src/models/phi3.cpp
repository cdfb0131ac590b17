// The `phi3` family (Phi-3 / Phi-3.5 / Phi-4-mini dense models): the llama-like decoder with a fused Q/K/V
// projection (attn_qkv: q, k, v rows in turn), a fused gate/up projection (ffn_up: gate rows, then up rows), HF's
// rotate-half RoPE (NeoX mode), possibly over only the first rope.dimension_count dimensions of each head
// (partial_rotary_factor), and attention.sliding_window when the file gives one. LongRoPE (rope_factors_long /
// rope_factors_short) is refused by the decoder.
#include "decoder.hpp"

namespace qtr {

std::unique_ptr<Graph> make_phi3_graph(const GgufFile& file, const ops::WeightOptions& options, int n_threads) {
  return make_decoder_graph(
      file, DecoderSpec{.qkv_bias = false, .qk_norm = false, .rope_neox = true, .fused_qkv = true, .fused_gate_up = true},
      options, n_threads);
}

}  // namespace qtr
