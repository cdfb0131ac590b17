// The pre-norm decoder shared by the llama-like families (llama, qwen2, qwen3, phi3), as GGUF stores them:
//
//   x = token_embd[token]
//   per layer:  q, k, v = Wq·n (+bq), Wk·n (+bk), Wv·n (+bv)            with n = rmsnorm(x) ⊙ attn_norm
//                 (phi3: one fused attn_qkv weight, split by rows at load)
//               q, k = rmsnorm_per_head(q) ⊙ q_norm, ... (qwen3)  ->  rope(q), rope(k)
//               x += Wo · attention(q, k, v)
//               x += Wdown · (silu(Wgate·n) ⊙ Wup·n)                    with n = rmsnorm(x) ⊙ ffn_norm
//                 (phi3: ffn_up holds gate rows then up rows, split at load)
//   logits = output · (rmsnorm(x) ⊙ output_norm)       (output = token_embd when the file has no output.weight)
//
// RoPE: llama's GGUF Q/K rows are permuted for GGML's "normal" mode (adjacent pairs); qwen stores HF's layout and
// rotates halves ("neox"). RoPE scaling as GGUF describes it: rope.scaling.type = linear (positions times
// 1/rope.scaling.factor) and/or a rope_freqs.weight tensor of n_rot/2 divisors of the frequencies (Llama 3.1).
// attention.sliding_window, when present, limits each query to its last N keys (Phi-3, Mistral).
// What differs between families is DecoderSpec, set in each family's file.
#include <cmath>
#include <cstring>
#include <vector>

#include "decoder.hpp"
#include "gguf_config.hpp"
#include "ops/attention.hpp"
#include "ops/ops.hpp"
#include "qtr/error.hpp"
#include "qtr/gguf.hpp"

namespace qtr {

namespace {

// Weight names, GGUF spelling; {} is the layer index.
struct DecoderTensorNames {
  static std::string layer(int64_t i, const char* what, const char* kind = "weight") {
    return "blk." + std::to_string(i) + "." + what + "." + kind;
  }
  static constexpr const char* token_embd = "token_embd.weight";
  static constexpr const char* output_norm = "output_norm.weight";
  static constexpr const char* output = "output.weight";
  static constexpr const char* rope_freqs = "rope_freqs.weight";
};

struct DecoderLayer {
  std::vector<float> attn_norm;  // [n_embd]
  std::vector<float> bq, bk, bv;  // [q_dim], [kv_dim], [kv_dim] (qkv_bias)
  std::vector<float> q_norm, k_norm;  // [head_dim] (qk_norm)
  ops::Matrix wq;                // [n_embd] -> [q_dim]
  ops::Matrix wk;                // [n_embd] -> [kv_dim]
  ops::Matrix wv;                // [n_embd] -> [kv_dim]
  ops::Matrix wo;                // [q_dim] -> [n_embd]
  std::vector<float> ffn_norm;   // [n_embd]
  ops::Matrix w_gate;            // [n_embd] -> [n_ff]
  ops::Matrix w_up;              // [n_embd] -> [n_ff]
  ops::Matrix w_down;            // [n_ff] -> [n_embd]
};

// Linear RoPE scaling: rope.scaling.type "linear" with rope.scaling.factor, or the older rope.scale_linear.
// Other scaling types (yarn, longrope) are not implemented and are refused rather than run wrongly.
float read_rope_freq_scale(const GgufFile& f, const std::string& a) {
  const std::string type = f.get_string(a + "rope.scaling.type").value_or("none");
  std::string factor_key;
  if (type == "linear") {
    factor_key = a + "rope.scaling.factor";
    f.require_float(factor_key);  // throws "missing GGUF key"
  } else if (type != "none") {
    throw Error(Errc::unsupported, f.source() + ": GGUF key '" + a + "rope.scaling.type' = '" + type +
                                       "' is not supported (none, linear)");
  } else if (f.get_float(a + "rope.scale_linear")) {
    factor_key = a + "rope.scale_linear";
  }
  if (factor_key.empty()) return 1.0f;
  const double factor = f.require_float(factor_key);
  if (!(factor >= 1e-3 && factor <= 1e6)) {
    throw Error(Errc::bad_format, f.source() + ": GGUF key '" + factor_key + "' = " + std::to_string(factor) +
                                      " is out of range");
  }
  return static_cast<float>(1.0 / factor);
}

// The common hyperparameters (gguf_config.cpp), plus RoPE scaling and the sliding window.
ModelConfig read_config(const GgufFile& f) {
  ModelConfig c = read_decoder_config(f);
  const std::string a = c.architecture + ".";
  c.rope_freq_scale = read_rope_freq_scale(f, a);
  if (f.get_uint(a + "attention.sliding_window")) {
    c.sliding_window = gguf_positive(f, a + "attention.sliding_window", int64_t(1) << 24);
  }
  return c;
}

// A fused weight (several projections stacked by rows), checked to be {n_in, n_rows} before it is split.
TensorView fused(TensorView view, int64_t n_in, int64_t n_rows) {
  if (view.ne.size() != 2 || view.ne[0] != n_in || view.ne[1] != n_rows) {
    throw Error(Errc::bad_format, "tensor '" + view.name + "' has shape " + view.shape_string() + ", expected [" +
                                      std::to_string(n_in) + ", " + std::to_string(n_rows) + "]");
  }
  return view;
}

// Rows [first, first + n) of a 2-D weight, as a view of its own (zero-copy; rows are whole blocks of any type).
TensorView rows_of(const TensorView& view, int64_t first, int64_t n) {
  const size_t row_bytes = view.data.size() / static_cast<size_t>(view.ne[1]);
  TensorView part = view;
  part.name = view.name + " rows " + std::to_string(first) + ".." + std::to_string(first + n);
  part.ne = {view.ne[0], n};
  part.data = view.data.subspan(static_cast<size_t>(first) * row_bytes, static_cast<size_t>(n) * row_bytes);
  return part;
}

class DecoderGraph final : public Graph {
 public:
  DecoderGraph(const GgufFile& f, const DecoderSpec& spec, const ops::WeightOptions& options, int n_threads)
      : config_(read_config(f)), spec_(spec), isa_(options.isa) {
    using N = DecoderTensorNames;
    const auto& c = config_;
    const TensorView embd = f.require_tensor(N::token_embd);
    config_.n_vocab = embd.dim(1);
    if (embd.ne.size() != 2 || embd.dim(0) != c.n_embd || config_.n_vocab < 1) {
      throw Error(Errc::bad_format, "tensor 'token_embd.weight' has shape " + embd.shape_string() +
                                        ", expected [" + std::to_string(c.n_embd) + ", n_vocab]");
    }
    token_embd_ = ops::Embedding::from_view(embd, c.n_embd, config_.n_vocab);
    // The projections after a norm or the FFN activation take options.inputs; the attention output and the
    // output head one int8 term (ops::WeightOptions::with_int8_inputs).
    auto matrix = [&](const TensorView& view, int64_t n_in, int64_t n_out) {
      return ops::Matrix::from_view(view, n_in, n_out, options, n_threads);
    };
    auto int8_matrix = [&](const TensorView& view, int64_t n_in, int64_t n_out) {
      return ops::Matrix::from_view(view, n_in, n_out, options.with_int8_inputs(), n_threads);
    };
    output_norm_ = ops::load_vector(f.require_tensor(N::output_norm), c.n_embd);
    if (auto freqs = f.optional_tensor(N::rope_freqs)) {
      rope_freq_factors_ = ops::load_vector(*freqs, c.n_rot / 2);
      for (float v : rope_freq_factors_) {
        if (!(v > 0.0f) || !std::isfinite(v)) {
          throw Error(Errc::bad_format, f.source() + ": tensor 'rope_freqs.weight' holds a factor that is not positive");
        }
      }
      config_.rope_freq_factors = true;
    }
    for (const char* longrope : {"rope_factors_long.weight", "rope_factors_short.weight"}) {
      if (f.optional_tensor(longrope)) {
        throw Error(Errc::unsupported, f.source() + ": tensor '" + std::string(longrope) +
                                           "': LongRoPE scaling is not supported");
      }
    }
    if (auto out = f.optional_tensor(N::output)) {
      output_ = int8_matrix(*out, c.n_embd, config_.n_vocab);
    } else {
      config_.tied_output = true;
      ops::WeightOptions keep = options.with_int8_inputs();
      keep.release_mapped_source = false;  // the embedding rows are still read from the map
      output_ = ops::Matrix::from_view(embd, c.n_embd, config_.n_vocab, keep, n_threads);
    }
    layers_.resize(static_cast<size_t>(c.n_layer));
    for (int64_t i = 0; i < c.n_layer; ++i) {
      DecoderLayer& l = layers_[static_cast<size_t>(i)];
      l.attn_norm = ops::load_vector(f.require_tensor(N::layer(i, "attn_norm")), c.n_embd);
      if (spec_.fused_qkv) {
        const TensorView qkv = fused(f.require_tensor(N::layer(i, "attn_qkv")), c.n_embd, c.q_dim() + 2 * c.kv_dim());
        l.wq = matrix(rows_of(qkv, 0, c.q_dim()), c.n_embd, c.q_dim());
        l.wk = matrix(rows_of(qkv, c.q_dim(), c.kv_dim()), c.n_embd, c.kv_dim());
        l.wv = matrix(rows_of(qkv, c.q_dim() + c.kv_dim(), c.kv_dim()), c.n_embd, c.kv_dim());
      } else {
        l.wq = matrix(f.require_tensor(N::layer(i, "attn_q")), c.n_embd, c.q_dim());
        l.wk = matrix(f.require_tensor(N::layer(i, "attn_k")), c.n_embd, c.kv_dim());
        l.wv = matrix(f.require_tensor(N::layer(i, "attn_v")), c.n_embd, c.kv_dim());
      }
      l.wo = int8_matrix(f.require_tensor(N::layer(i, "attn_output")), c.q_dim(), c.n_embd);
      if (spec_.qkv_bias) {
        l.bq = ops::load_vector(f.require_tensor(N::layer(i, "attn_q", "bias")), c.q_dim());
        l.bk = ops::load_vector(f.require_tensor(N::layer(i, "attn_k", "bias")), c.kv_dim());
        l.bv = ops::load_vector(f.require_tensor(N::layer(i, "attn_v", "bias")), c.kv_dim());
      }
      if (spec_.qk_norm) {
        l.q_norm = ops::load_vector(f.require_tensor(N::layer(i, "attn_q_norm")), c.head_dim);
        l.k_norm = ops::load_vector(f.require_tensor(N::layer(i, "attn_k_norm")), c.head_dim);
      }
      l.ffn_norm = ops::load_vector(f.require_tensor(N::layer(i, "ffn_norm")), c.n_embd);
      if (spec_.fused_gate_up) {
        const TensorView gate_up = fused(f.require_tensor(N::layer(i, "ffn_up")), c.n_embd, 2 * c.n_ff);
        l.w_gate = matrix(rows_of(gate_up, 0, c.n_ff), c.n_embd, c.n_ff);
        l.w_up = matrix(rows_of(gate_up, c.n_ff, c.n_ff), c.n_embd, c.n_ff);
      } else {
        l.w_gate = matrix(f.require_tensor(N::layer(i, "ffn_gate")), c.n_embd, c.n_ff);
        l.w_up = matrix(f.require_tensor(N::layer(i, "ffn_up")), c.n_embd, c.n_ff);
      }
      l.w_down = matrix(f.require_tensor(N::layer(i, "ffn_down")), c.n_ff, c.n_embd);
    }
  }

  const ModelConfig& config() const override { return config_; }

  size_t weight_bytes() const override {
    size_t total = output_.bytes() + token_embd_.view().data.size();
    for (const auto& l : layers_) {
      for (const ops::Matrix* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) total += m->bytes();
    }
    return total;
  }

  std::vector<int64_t> layer_windows() const override {
    return std::vector<int64_t>(static_cast<size_t>(config_.n_layer), config_.sliding_window);
  }

  void forward(const ForwardBatch& batch, KvPool& kv, ops::Workspace& ws, float* logits, float* hidden,
               int n_threads) const override {
    const ModelConfig& c = config_;
    const auto n = static_cast<int64_t>(batch.tokens.size());
    const int64_t d = c.n_embd;
    const DecoderActivations a(ws, c, n);
    float *x = a.x, *xn = a.xn, *q = a.q, *k = a.k, *v = a.v, *attn = a.attn, *proj = a.proj, *gate = a.gate,
          *up = a.up;

    for (int64_t t = 0; t < n; ++t) token_embd_.lookup(batch.tokens[t], x + t * d);
    const ops::AttentionShape shape{c.n_head, c.n_head_kv, c.head_dim, c.sliding_window};
    const ops::KvKernels kv_kernels = ops::find_kv_kernels(isa_, kv.type());
    const float* freq_factors = rope_freq_factors_.empty() ? nullptr : rope_freq_factors_.data();
    const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
    for (int64_t il = 0; il < c.n_layer; ++il) {
      const DecoderLayer& l = layers_[static_cast<size_t>(il)];
      ops::rmsnorm(x, l.attn_norm.data(), xn, d, n, c.rms_norm_eps);
      const ops::MatmulOutput qkv[] = {{&l.wq, q}, {&l.wk, k}, {&l.wv, v}};
      ops::matmul_many(qkv, xn, n, n_threads, ws);
      if (spec_.qkv_bias) {
        ops::add_rows(q, l.bq.data(), c.q_dim(), n);
        ops::add_rows(k, l.bk.data(), c.kv_dim(), n);
        ops::add_rows(v, l.bv.data(), c.kv_dim(), n);
      }
      if (spec_.qk_norm) {  // RMSNorm over each head's vector, in place
        ops::rmsnorm(q, l.q_norm.data(), q, c.head_dim, n * c.n_head, c.rms_norm_eps);
        ops::rmsnorm(k, l.k_norm.data(), k, c.head_dim, n * c.n_head_kv, c.rms_norm_eps);
      }
      const auto rope = spec_.rope_neox ? ops::rope_neox : ops::rope_normal;
      for (int64_t t = 0; t < n; ++t) {
        const int64_t pos = batch.positions[t];
        rope(q + t * c.q_dim(), c.n_head, c.head_dim, c.n_rot, pos, c.rope_freq_base, c.rope_freq_scale,
             freq_factors);
        rope(k + t * c.kv_dim(), c.n_head_kv, c.head_dim, c.n_rot, pos, c.rope_freq_base, c.rope_freq_scale,
             freq_factors);
      }
      ops::attention_paged(kv, il, batch.segments, q, k, v, attn, shape, scale, n_threads, kv_kernels);
      ops::matmul(l.wo, attn, proj, n, n_threads, ws);
      ops::add_inplace(x, proj, n * d);

      ops::rmsnorm(x, l.ffn_norm.data(), xn, d, n, c.rms_norm_eps);
      const ops::MatmulOutput gate_up[] = {{&l.w_gate, gate}, {&l.w_up, up}};
      ops::matmul_many(gate_up, xn, n, n_threads, ws);
      ops::silu_mul(gate, up, gate, n * c.n_ff, n_threads);
      ops::matmul(l.w_down, gate, proj, n, n_threads, ws);
      ops::add_inplace(x, proj, n * d);
    }
    ops::output_head(x, batch.output_rows, output_norm_.data(), d, c.rms_norm_eps, output_, xn, logits, hidden,
                     n_threads, ws);
  }

 private:
  ModelConfig config_;  // from metadata, completed by the tensors (n_vocab, tied output)
  ops::Embedding token_embd_;  // [n_embd] x n_vocab rows
  std::vector<float> output_norm_;
  std::vector<float> rope_freq_factors_;  // [n_rot/2] from rope_freqs.weight; empty: none
  ops::Matrix output_;         // token_embd itself when tied
  std::vector<DecoderLayer> layers_;
  DecoderSpec spec_;
  kernels::Isa isa_;
};

}  // namespace

std::unique_ptr<Graph> make_decoder_graph(const GgufFile& file, const DecoderSpec& spec,
                                          const ops::WeightOptions& options, int n_threads) {
  return std::make_unique<DecoderGraph>(file, spec, options, n_threads);
}

}  // namespace qtr
