// ModelConfig — an architecture's hyperparameters as data, read from GGUF metadata (or config.json).
#pragma once

#include <cstdint>
#include <string>

namespace qtr {

struct ModelConfig {
  std::string architecture;  // general.architecture: "llama"
  std::string name;          // general.name, informational
  int64_t n_vocab = 0;
  int64_t n_embd = 0;        // residual stream width
  int64_t n_layer = 0;
  int64_t n_head = 0;        // query heads
  int64_t n_head_kv = 0;     // key/value heads (grouped-query attention when < n_head)
  int64_t head_dim = 0;      // n_embd / n_head unless the file says otherwise
  int64_t n_ff = 0;          // feed-forward hidden width
  int64_t n_ctx_train = 0;   // context length the model was trained for
  int64_t n_rot = 0;         // dimensions rotated by RoPE (<= head_dim)
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // linear RoPE scaling (rope.scaling.type = linear): positions times 1/factor
  bool rope_freq_factors = false;  // per-frequency divisors from rope_freqs.weight (Llama 3.1 "llama3" scaling)
  int64_t sliding_window = 0;      // attention.sliding_window: each query sees its last N keys (0: all)
  float rms_norm_eps = 1e-5f;
  bool tied_output = false;  // output projection shares token_embd

  int64_t q_dim() const { return n_head * head_dim; }
  int64_t kv_dim() const { return n_head_kv * head_dim; }
};

}  // namespace qtr
