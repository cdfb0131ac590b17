// The `llama` family: Llama 1/2/3, SmolLM/SmolLM2, TinyLlama, Mistral. GGUF keys `llama.*`; Q/K rows stored
// permuted for GGML's adjacent-pair RoPE.
#include "decoder.hpp"

namespace qtr {

std::unique_ptr<Graph> make_llama_graph(const GgufFile& file, const ops::WeightOptions& options, int n_threads) {
  return make_decoder_graph(file, DecoderSpec{}, options, n_threads);
}

}  // namespace qtr
