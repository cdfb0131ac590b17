// Hugging Face -> GGUF translation for the llama-like families (LlamaForCausalLM, MistralForCausalLM,
// Qwen2ForCausalLM, Qwen3ForCausalLM, Phi3ForCausalLM, Gemma3ForCausalLM): config keys and tensor names as data, in
// tables. For llama, Q and K rows are permuted from HF's rotate-half layout to the interleaved-pair layout GGUF uses
// (as llama.cpp's converter does); the Qwen, Phi-3 and Gemma 3 families keep HF's layout (their graphs rotate halves).
//
// Gemma 3 ("gemma3_text", or the text part of a "gemma3" checkpoint: its "text_config" and its
// language_model tensors): keys config.json leaves out take Gemma3TextConfig's defaults, as transformers fills them
// in; every RMSNorm weight w is written as w + 1 in F32 (Gemma multiplies by 1 + w; GGUF stores the factor);
// query_pre_attn_scalar -> attention.scale = query_pre_attn_scalar^-0.5; layer_types -> attention.
// sliding_window_pattern (true = sliding); RoPE per layer type (add_gemma3_rope). Soft-capping, other activations,
// bidirectional attention and attention biases are refused, naming the key.
//
// RoPE settings come from "rope_parameters" (transformers >= 5) or "rope_scaling" (older files), with "rope_theta"
// and "partial_rotary_factor" also at the top level. Supported types: default; linear (GGUF rope.scaling.type =
// linear + rope.scaling.factor); llama3 (Llama 3.1: written as the rope_freqs.weight tensor of per-frequency
// divisors, as llama.cpp's converter does). Others (yarn, dynamic, longrope/su) are refused, naming the key.
//
// The vocabulary comes from tokenizer.model (SentencePiece) or, when there is none, from tokenizer.json
// (byte-level BPE), and is written as tokenizer.ggml.* keys.
#include <cmath>
#include <cstring>
#include <numbers>
#include <span>
#include <string>
#include <vector>

#include "ops/ops.hpp"
#include "qtr/error.hpp"
#include "qtr/gguf_writer.hpp"
#include "qtr/hf_import.hpp"
#include "qtr/json.hpp"
#include "qtr/safetensors.hpp"
#include "qtr/vocab.hpp"

namespace qtr {

namespace {

namespace fs = std::filesystem;

// config.json key -> GGUF key (after the "<arch>." prefix), for integer hyperparameters.
struct ConfigKey {
  const char* hf;
  const char* gguf;
  bool required;
};
constexpr ConfigKey kLlamaIntKeys[] = {
    {"hidden_size", "embedding_length", true},        {"intermediate_size", "feed_forward_length", true},
    {"num_hidden_layers", "block_count", true},       {"num_attention_heads", "attention.head_count", true},
    {"num_key_value_heads", "attention.head_count_kv", false},
    {"max_position_embeddings", "context_length", false}, {"head_dim", "attention.key_length", false},
};

// HF tensor name -> GGUF tensor name; "{}" is the layer index.
struct TensorName {
  const char* hf;
  const char* gguf;
};
// Global tensors, after the model prefix ("model." in a ...ForCausalLM checkpoint); lm_head is named apart.
constexpr TensorName kLlamaGlobalTensors[] = {
    {"embed_tokens.weight", "token_embd.weight"},
    {"norm.weight", "output_norm.weight"},
};
constexpr TensorName kLlamaLayerTensors[] = {
    {"input_layernorm.weight", "attn_norm.weight"},      {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},        {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},   {"post_attention_layernorm.weight", "ffn_norm.weight"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},         {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
};

// Per-layer tensors only some families have.
constexpr TensorName kQwen2LayerTensors[] = {
    {"self_attn.q_proj.bias", "attn_q.bias"}, {"self_attn.k_proj.bias", "attn_k.bias"}, {"self_attn.v_proj.bias", "attn_v.bias"},
};
constexpr TensorName kQwen3LayerTensors[] = {
    {"self_attn.q_norm.weight", "attn_q_norm.weight"}, {"self_attn.k_norm.weight", "attn_k_norm.weight"},
};
// Phi-3: fused projections. qkv_proj rows are q, k, v in turn; gate_up_proj rows are gate, then up (GGUF ffn_up).
constexpr TensorName kPhi3LayerTensors[] = {
    {"input_layernorm.weight", "attn_norm.weight"},      {"self_attn.qkv_proj.weight", "attn_qkv.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},   {"post_attention_layernorm.weight", "ffn_norm.weight"},
    {"mlp.gate_up_proj.weight", "ffn_up.weight"},        {"mlp.down_proj.weight", "ffn_down.weight"},
};

// Gemma 3: Q/K norms, and norms after attention and after the MLP as well as before them.
constexpr TensorName kGemma3LayerTensors[] = {
    {"input_layernorm.weight", "attn_norm.weight"},
    {"self_attn.q_proj.weight", "attn_q.weight"},        {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},        {"self_attn.o_proj.weight", "attn_output.weight"},
    {"self_attn.q_norm.weight", "attn_q_norm.weight"},   {"self_attn.k_norm.weight", "attn_k_norm.weight"},
    {"post_attention_layernorm.weight", "post_attention_norm.weight"},
    {"pre_feedforward_layernorm.weight", "ffn_norm.weight"},
    {"post_feedforward_layernorm.weight", "post_ffw_norm.weight"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},         {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
};

struct Family {
  const char* model_type;      // config.json "model_type"
  const char* architecture;    // GGUF general.architecture
  bool permute_qk;             // llama's GGUF RoPE layout
  std::span<const TensorName> layer_tensors;
  std::span<const TensorName> extra_layer_tensors;
  bool sliding_window;         // config.json "sliding_window" (when not null) -> attention.sliding_window
  bool gemma3;                 // Gemma 3's defaults, (1 + w) norms and config keys (see the top of this file)
};
constexpr Family kFamilies[] = {
    {"llama", "llama", true, kLlamaLayerTensors, {}, false, false},
    {"mistral", "llama", true, kLlamaLayerTensors, {}, true, false},
    {"qwen2", "qwen2", false, kLlamaLayerTensors, kQwen2LayerTensors, false, false},
    {"qwen3", "qwen3", false, kLlamaLayerTensors, kQwen3LayerTensors, false, false},
    {"phi3", "phi3", false, kPhi3LayerTensors, {}, true, false},
    {"gemma3_text", "gemma3", false, kGemma3LayerTensors, {}, false, true},
    {"gemma3", "gemma3", false, kGemma3LayerTensors, {}, false, true},  // text_config + language_model tensors
};

// Where a checkpoint's decoder tensors are: "<model>embed_tokens.weight", "<model>layers.N....", and the output.
struct TensorPrefix {
  std::string model = "model.";
  std::string lm_head = "lm_head.weight";
};

int64_t config_int(const Json& config, const std::string& file, const char* key) {
  const Json* v = config.find(key);
  if (!v) throw Error(Errc::bad_format, file + ": missing key \"" + key + "\"");
  return v->as_int(file + ": " + key);
}

// A positive number from an object of config.json, named "<file>: <where>.<key>" in errors.
double positive_number(const Json& object, const std::string& file, const std::string& where, const char* key) {
  const std::string name = where.empty() ? key : where + "." + key;
  const Json* v = object.find(key);
  if (!v) throw Error(Errc::bad_format, file + ": missing key \"" + name + "\"");
  const double x = v->as_double(file + ": " + name);
  if (!(x > 0.0) || !std::isfinite(x)) {
    throw Error(Errc::bad_format, file + ": " + name + " = " + std::to_string(x) + " must be positive");
  }
  return x;
}

// Llama 3.1's frequency divisors, one per rotated pair (transformers' _compute_llama3_parameters, written as the
// divisor of each frequency the way llama.cpp's rope_freqs.weight holds it): with wavelength 2*pi/inv_freq_i,
//   wavelength < orig_ctx / high_freq_factor  -> 1 (kept);   wavelength > orig_ctx / low_freq_factor -> factor;
//   otherwise, with s = (orig_ctx / wavelength - low) / (high - low), 1 / ((1 - s) / factor + s).
std::vector<float> llama3_rope_divisors(double theta, int64_t n_rot, double factor, double low, double high,
                                        double orig_ctx) {
  std::vector<float> divisors(static_cast<size_t>(n_rot / 2));
  for (int64_t i = 0; i < n_rot / 2; ++i) {
    const double inv_freq = std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(n_rot));
    const double wavelength = 2.0 * std::numbers::pi / inv_freq;
    double d = 1.0;
    if (wavelength > orig_ctx / low) {
      d = factor;
    } else if (wavelength >= orig_ctx / high) {
      const double s = (orig_ctx / wavelength - low) / (high - low);
      d = 1.0 / ((1.0 - s) / factor + s);
    }
    divisors[static_cast<size_t>(i)] = static_cast<float>(d);
  }
  return divisors;
}

// The RoPE keys (and for llama3 the rope_freqs.weight tensor) from config.json; see the top of this file.
void add_rope(GgufWriter& w, const Json& config, const std::string& file, const std::string& arch, int64_t head_dim) {
  // The parameter object, as transformers picks it: a non-empty "rope_scaling" (older files), else
  // "rope_parameters" (either may be null or absent).
  const Json* params = nullptr;
  std::string where;
  for (const char* key : {"rope_scaling", "rope_parameters"}) {
    const Json* p = config.find(key);
    if (!p || p->is_null() || p->as_object(file + ": " + key).empty()) continue;
    params = p;
    where = key;
    break;
  }
  auto lookup = [&](const char* key) -> std::pair<const Json*, std::string> {  // params first, then top level
    if (params) {
      if (const Json* v = params->find(key); v && !v->is_null()) return {v, where + "." + key};
    }
    const Json* v = config.find(key);
    return {v && !v->is_null() ? v : nullptr, key};
  };

  double theta = 10000.0;  // the decoder's default when the file has no rope.freq_base
  if (auto [value, key] = lookup("rope_theta"); value) {
    theta = value->as_double(file + ": " + key);
    if (!(theta > 0.0) || !std::isfinite(theta)) throw Error(Errc::bad_format, file + ": " + key + " must be positive");
    w.set(arch + ".rope.freq_base", GgufValue{static_cast<float>(theta)});
  }
  int64_t n_rot = head_dim;
  if (auto [factor, key] = lookup("partial_rotary_factor"); factor) {
    const double f = factor->as_double(file + ": " + key);
    if (f > 0.0 && f <= 1.0) n_rot = static_cast<int64_t>(static_cast<double>(head_dim) * f);  // int(), as transformers
    if (!(f > 0.0 && f <= 1.0) || n_rot < 2 || n_rot % 2 != 0) {
      throw Error(Errc::bad_format, file + ": " + key + " = " + std::to_string(f) + " must be in (0, 1] and give an " +
                                        "even number of rotated dimensions of the head (" + std::to_string(head_dim) + ")");
    }
    w.set(arch + ".rope.dimension_count", GgufValue{static_cast<uint32_t>(n_rot)});
  }
  if (!params) return;

  std::string type = "default", type_key = where + ".rope_type";
  if (const Json* t = params->find("rope_type")) {
    type = t->as_string(file + ": " + type_key);
  } else if (const Json* old = params->find("type")) {
    type_key = where + ".type";
    type = old->as_string(file + ": " + type_key);
  }
  if (type == "default") return;
  if (type == "linear") {
    const double factor = positive_number(*params, file, where, "factor");
    w.set(arch + ".rope.scaling.type", GgufValue{std::string("linear")});
    w.set(arch + ".rope.scaling.factor", GgufValue{static_cast<float>(factor)});
    return;
  }
  if (type == "llama3") {
    const double factor = positive_number(*params, file, where, "factor");
    const double low = positive_number(*params, file, where, "low_freq_factor");
    const double high = positive_number(*params, file, where, "high_freq_factor");
    const double orig_ctx = params->find("original_max_position_embeddings")
                                ? positive_number(*params, file, where, "original_max_position_embeddings")
                                : positive_number(config, file, "", "max_position_embeddings");
    if (!(low < high)) {
      throw Error(Errc::bad_format, file + ": " + where + ".low_freq_factor must be below high_freq_factor");
    }
    const std::vector<float> divisors = llama3_rope_divisors(theta, n_rot, factor, low, high, orig_ctx);
    std::vector<uint8_t> bytes(divisors.size() * sizeof(float));
    std::memcpy(bytes.data(), divisors.data(), bytes.size());
    w.add_tensor("rope_freqs.weight", TensorType::F32, {static_cast<int64_t>(divisors.size())}, std::move(bytes));
    return;
  }
  throw Error(Errc::unsupported, file + ": " + type_key + " '" + type +
                                     "' is not supported (supported: default, linear, llama3)");
}

// HF stores each head's rows as [first halves of the rotated pairs; second halves]; GGUF's llama layout wants the
// pairs adjacent: new row h*hd + 2j + s = old row h*hd + s*hd/2 + j.
std::vector<uint8_t> permute_rope_rows(const SafetensorsTensor& t, int64_t n_heads) {
  if (t.shape.size() != 2 || n_heads <= 0 || t.shape[0] % (2 * n_heads) != 0) {
    throw Error(Errc::bad_format, "tensor '" + t.name + "' cannot be split into " + std::to_string(n_heads) +
                                      " heads of rotated pairs");
  }
  const int64_t rows = t.shape[0], head_dim = rows / n_heads, half = head_dim / 2;
  const size_t row_bytes = t.data.size() / static_cast<size_t>(rows);
  std::vector<uint8_t> out(t.data.size());
  for (int64_t h = 0; h < n_heads; ++h) {
    for (int64_t j = 0; j < half; ++j) {
      for (int64_t s = 0; s < 2; ++s) {
        const int64_t to = h * head_dim + 2 * j + s, from = h * head_dim + s * half + j;
        std::memcpy(out.data() + to * row_bytes, t.data.data() + from * row_bytes, row_bytes);
      }
    }
  }
  return out;
}

TensorView float_view(const SafetensorsTensor& t) {
  const TensorView v = t.view();
  if (v.type != TensorType::F32 && v.type != TensorType::F16 && v.type != TensorType::BF16) {
    throw Error(Errc::unsupported, "tensor '" + t.name + "' has dtype " + t.dtype + " (F32, F16 or BF16 expected)");
  }
  return v;
}

void add_tensor(GgufWriter& w, const std::string& name, const SafetensorsTensor& t, std::vector<uint8_t>* owned) {
  const TensorView v = float_view(t);
  if (owned) w.add_tensor(name, v.type, v.ne, std::move(*owned));
  else w.add_tensor_view(name, v.type, v.ne, v.data);
}

// --- Gemma 3 ----------------------------------------------------------------------------------------------------

// config.json with the keys Google's Gemma 3 configs leave out filled in from Gemma3TextConfig's defaults (as
// transformers does); the sizes (hidden_size, intermediate_size, num_hidden_layers) stay required.
Json with_gemma3_defaults(const Json& config, const std::string& file) {
  Json::Object merged = config.as_object(file);
  auto fill = [&](const char* key, Json value) {
    if (!config.find(key)) merged.emplace_back(key, std::move(value));
  };
  fill("num_attention_heads", Json(int64_t{8}));
  fill("num_key_value_heads", Json(int64_t{4}));
  fill("head_dim", Json(int64_t{256}));
  fill("max_position_embeddings", Json(int64_t{131072}));
  fill("rms_norm_eps", Json(1e-6));
  fill("query_pre_attn_scalar", Json(256.0));
  fill("sliding_window", Json(int64_t{4096}));
  fill("hidden_activation", Json(std::string("gelu_pytorch_tanh")));
  return Json(std::move(merged));
}

// The rope type of a parameter object: "rope_type", or the older "type"; "default" when neither is there.
// Returns {type, the key it came from}.
std::pair<std::string, std::string> rope_type_of(const Json& params, const std::string& file,
                                                 const std::string& where) {
  for (const char* key : {"rope_type", "type"}) {
    if (const Json* t = params.find(key)) return {t->as_string(file + ": " + where + "." + key), where + "." + key};
  }
  return {"default", where + ".rope_type"};
}

// Gemma 3's two RoPE settings. transformers >= 5 nests them by layer type in rope_parameters ({"full_attention":
// {...}, "sliding_attention": {...}}); older files have rope_theta (global layers), rope_local_base_freq (local
// layers) and rope_scaling (global layers only). A rope_scaling object overrides full_attention's type, as
// transformers merges it there. Absent thetas take transformers' defaults: 1e6 global, 1e4 local.
void add_gemma3_rope(GgufWriter& w, const Json& c, const std::string& file) {
  const Json* nested = c.find("rope_parameters");
  if (nested && nested->is_null()) nested = nullptr;
  const Json* full = nullptr;
  const Json* local = nullptr;
  if (nested) {
    nested->as_object(file + ": rope_parameters");
    full = nested->find("full_attention");
    local = nested->find("sliding_attention");
    if (full && full->is_null()) full = nullptr;
    if (local && local->is_null()) local = nullptr;
    if (!full && !local && !nested->as_object("").empty()) {
      throw Error(Errc::bad_format, file + ": rope_parameters must hold objects \"full_attention\" and "
                                           "\"sliding_attention\" (Gemma 3 sets RoPE per layer type)");
    }
    if (full) full->as_object(file + ": rope_parameters.full_attention");
    if (local) local->as_object(file + ": rope_parameters.sliding_attention");
  }
  // theta of one layer type: the nested object's rope_theta, else the top-level key, else the default.
  auto theta = [&](const Json* params, const char* where, const char* top_key, double fallback) {
    if (params && params->find("rope_theta")) {
      return positive_number(*params, file, std::string("rope_parameters.") + where, "rope_theta");
    }
    if (const Json* v = c.find(top_key); v && !v->is_null()) return positive_number(c, file, "", top_key);
    return fallback;
  };
  w.set("gemma3.rope.freq_base", GgufValue{static_cast<float>(theta(full, "full_attention", "rope_theta", 1e6))});
  w.set("gemma3.rope.freq_base_swa",
        GgufValue{static_cast<float>(theta(local, "sliding_attention", "rope_local_base_freq", 1e4))});

  if (local) {
    if (auto [type, key] = rope_type_of(*local, file, "rope_parameters.sliding_attention"); type != "default") {
      throw Error(Errc::unsupported, file + ": " + key + " '" + type +
                                         "' is not supported (Gemma 3's local layers use default RoPE)");
    }
  }
  const Json* scaling = c.find("rope_scaling");
  std::string where = "rope_scaling";
  if (!scaling || scaling->is_null() || scaling->as_object(file + ": rope_scaling").empty()) {
    scaling = full;
    where = "rope_parameters.full_attention";
  }
  if (!scaling) return;
  const auto [type, key] = rope_type_of(*scaling, file, where);
  if (type == "default") return;
  if (type != "linear") {
    throw Error(Errc::unsupported,
                file + ": " + key + " '" + type + "' is not supported for Gemma 3 (default, linear)");
  }
  w.set("gemma3.rope.scaling.type", GgufValue{std::string("linear")});
  w.set("gemma3.rope.scaling.factor", GgufValue{static_cast<float>(positive_number(*scaling, file, where, "factor"))});
}

// Which layers are local: layer_types ("sliding_attention" / "full_attention"), else every
// sliding_window_pattern-th layer global (transformers' older key, default 6).
GgufValue gemma3_sliding_pattern(const Json& c, const std::string& file, int64_t n_layer) {
  GgufArray pattern{GgufType::boolean, {}};
  if (const Json* types = c.find("layer_types"); types && !types->is_null()) {
    const Json::Array& items = types->as_array(file + ": layer_types");
    if (static_cast<int64_t>(items.size()) != n_layer) {
      throw Error(Errc::bad_format, file + ": layer_types has " + std::to_string(items.size()) +
                                        " entries, num_hidden_layers is " + std::to_string(n_layer));
    }
    for (size_t i = 0; i < items.size(); ++i) {
      const std::string where = "layer_types[" + std::to_string(i) + "]";
      const std::string& type = items[i].as_string(file + ": " + where);
      if (type != "sliding_attention" && type != "full_attention") {
        throw Error(Errc::unsupported, file + ": " + where + " '" + type +
                                           "' is not supported (sliding_attention, full_attention)");
      }
      pattern.items.push_back(GgufValue{type == "sliding_attention"});
    }
    return GgufValue{std::move(pattern)};
  }
  int64_t every = 6;
  for (const char* key : {"sliding_window_pattern", "_sliding_window_pattern"}) {
    if (const Json* v = c.find(key); v && !v->is_null()) {
      every = v->as_int(file + ": " + key);
      if (every < 1) throw Error(Errc::bad_format, file + ": " + key + " must be positive");
      break;
    }
  }
  for (int64_t i = 0; i < n_layer; ++i) pattern.items.push_back(GgufValue{(i + 1) % every != 0});
  return GgufValue{std::move(pattern)};
}

// Gemma 3's keys beyond the common ones; refuses what the gemma3 graph does not compute.
void add_gemma3_keys(GgufWriter& w, const Json& c, const std::string& file, int64_t n_layer) {
  for (const char* key : {"attn_logit_softcapping", "final_logit_softcapping"}) {
    if (const Json* v = c.find(key); v && !v->is_null()) {
      throw Error(Errc::unsupported, file + ": " + key + " is not supported (soft-capping; null expected)");
    }
  }
  for (const char* key : {"use_bidirectional_attention", "attention_bias"}) {
    if (const Json* v = c.find(key); v && !v->is_null() && v->as_bool(file + ": " + key)) {
      throw Error(Errc::unsupported, file + ": " + key + " = true is not supported");
    }
  }
  const std::string& act = c.find("hidden_activation")->as_string(file + ": hidden_activation");
  if (act != "gelu_pytorch_tanh") {
    throw Error(Errc::unsupported, file + ": hidden_activation '" + act + "' is not supported (gelu_pytorch_tanh is)");
  }
  const double scalar = positive_number(c, file, "", "query_pre_attn_scalar");
  w.set("gemma3.attention.scale", GgufValue{static_cast<float>(1.0 / std::sqrt(scalar))});
  const Json* window = c.find("sliding_window");
  if (window->is_null()) throw Error(Errc::unsupported, file + ": sliding_window = null is not supported");
  const int64_t v = window->as_int(file + ": sliding_window");
  if (v <= 0 || v > (int64_t{1} << 24)) throw Error(Errc::bad_format, file + ": sliding_window out of range");
  w.set("gemma3.attention.sliding_window", GgufValue{static_cast<uint32_t>(v)});
  w.set("gemma3.attention.sliding_window_pattern", gemma3_sliding_pattern(c, file, n_layer));
  add_gemma3_rope(w, c, file);
}

// A Gemma RMSNorm weight w (the model multiplies by 1 + w) written as the F32 factor w + 1, added in float32 as
// transformers does.
void add_gemma_norm(GgufWriter& w, const std::string& name, const SafetensorsTensor& t) {
  const TensorView v = float_view(t);
  if (v.ne.size() != 1) {
    throw Error(Errc::bad_format, "tensor '" + t.name + "' has shape " + v.shape_string() + ", expected a vector");
  }
  std::vector<float> factor = ops::load_vector(v, v.ne[0]);
  for (float& x : factor) x += 1.0f;
  std::vector<uint8_t> bytes(factor.size() * sizeof(float));
  std::memcpy(bytes.data(), factor.data(), bytes.size());
  w.add_tensor(name, TensorType::F32, v.ne, std::move(bytes));
}

// tokenizer.model (SentencePiece) when there is one, else tokenizer.json (byte-level BPE).
Vocab checkpoint_vocab(const fs::path& dir) {
  if (fs::exists(dir / "tokenizer.model")) return Vocab::from_sentencepiece_model(dir / "tokenizer.model");
  if (fs::exists(dir / "tokenizer.json")) return Vocab::from_hf_tokenizer_json(dir / "tokenizer.json");
  throw Error(Errc::io, dir.string() + ": no tokenizer.model (SentencePiece) or tokenizer.json (byte-level BPE)");
}

GgufWriter decoder_to_gguf(const SafetensorsCheckpoint& ckpt, const Json& config, const std::string& config_path,
                           const Family& family, const TensorPrefix& prefix) {
  GgufWriter w;
  const std::string arch = family.architecture;
  w.set("general.architecture", GgufValue{arch});
  w.set("general.name", GgufValue{ckpt.directory().filename().string()});
  for (const ConfigKey& k : kLlamaIntKeys) {
    if (!k.required && !config.find(k.hf)) continue;
    const int64_t v = config_int(config, config_path, k.hf);
    if (v <= 0 || v > (int64_t{1} << 31)) throw Error(Errc::bad_format, config_path + ": " + k.hf + " out of range");
    w.set(arch + "." + k.gguf, GgufValue{static_cast<uint32_t>(v)});
  }
  if (const Json* eps = config.find("rms_norm_eps")) {
    w.set(arch + ".attention.layer_norm_rms_epsilon", GgufValue{static_cast<float>(eps->as_double(config_path + ": rms_norm_eps"))});
  }
  const int64_t n_head = config_int(config, config_path, "num_attention_heads");
  const int64_t n_head_kv = config.find("num_key_value_heads") ? config_int(config, config_path, "num_key_value_heads") : n_head;
  const Json* head_dim_key = config.find("head_dim");
  const bool explicit_head_dim = head_dim_key && !head_dim_key->is_null();
  const int64_t head_dim = explicit_head_dim ? config_int(config, config_path, "head_dim")
                                             : config_int(config, config_path, "hidden_size") / n_head;
  if (head_dim < 2 || head_dim > 4096) {  // n_head > 0: checked with the integer keys above
    throw Error(Errc::bad_format, config_path + ": " + (explicit_head_dim ? "head_dim" : "hidden_size / num_attention_heads") +
                                      " = " + std::to_string(head_dim) + " is out of range (2..4096)");
  }
  const int64_t n_layer = config_int(config, config_path, "num_hidden_layers");
  if (family.gemma3) add_gemma3_keys(w, config, config_path, n_layer);
  else add_rope(w, config, config_path, arch, head_dim);
  if (const Json* sliding = config.find("use_sliding_window"); sliding && sliding->is_bool() && sliding->as_bool("")) {
    throw Error(Errc::unsupported, config_path + ": use_sliding_window is not supported yet");
  }
  if (const Json* window = config.find("sliding_window"); family.sliding_window && window && !window->is_null()) {
    const int64_t v = window->as_int(config_path + ": sliding_window");
    if (v <= 0 || v > (int64_t{1} << 24)) throw Error(Errc::bad_format, config_path + ": sliding_window out of range");
    w.set(arch + ".attention.sliding_window", GgufValue{static_cast<uint32_t>(v)});
  }

  // Gemma's norms are stored as w for a factor of 1 + w: written as the factor.
  auto is_gemma_norm = [&](const std::string& gguf) { return family.gemma3 && gguf.ends_with("norm.weight"); };
  for (const TensorName& t : kLlamaGlobalTensors) {
    const SafetensorsTensor& src = ckpt.require(prefix.model + t.hf);
    if (is_gemma_norm(t.gguf)) add_gemma_norm(w, t.gguf, src);
    else add_tensor(w, t.gguf, src, nullptr);
  }
  if (const SafetensorsTensor* head = ckpt.find(prefix.lm_head)) add_tensor(w, "output.weight", *head, nullptr);
  // (no lm_head: tied embeddings)
  for (int64_t i = 0; i < n_layer; ++i) {
    std::vector<TensorName> names(family.layer_tensors.begin(), family.layer_tensors.end());
    names.insert(names.end(), family.extra_layer_tensors.begin(), family.extra_layer_tensors.end());
    for (const TensorName& t : names) {
      const std::string hf = prefix.model + "layers." + std::to_string(i) + "." + t.hf;
      const std::string gguf = "blk." + std::to_string(i) + "." + t.gguf;
      const SafetensorsTensor& src = ckpt.require(hf);
      const bool rotated = std::string(t.hf) == "self_attn.q_proj.weight" || std::string(t.hf) == "self_attn.k_proj.weight";
      if (is_gemma_norm(gguf)) {
        add_gemma_norm(w, gguf, src);
      } else if (family.permute_qk && rotated) {
        auto rows = permute_rope_rows(src, std::string(t.hf) == "self_attn.q_proj.weight" ? n_head : n_head_kv);
        add_tensor(w, gguf, src, &rows);
      } else {
        add_tensor(w, gguf, src, nullptr);
      }
    }
  }
  return w;
}

}  // namespace

bool is_hf_checkpoint(const std::filesystem::path& path) {
  return fs::is_directory(path) && fs::exists(path / "config.json");
}

GgufFile import_hf_checkpoint(const std::filesystem::path& dir) {
  if (!is_hf_checkpoint(dir)) throw Error(Errc::io, dir.string() + ": not a checkpoint directory (no config.json)");
  const SafetensorsCheckpoint ckpt = SafetensorsCheckpoint::open(dir);
  const std::string config_path = (dir / "config.json").string();
  const Json& config = ckpt.config();
  config.as_object(config_path);  // "<file>: expected an object, found ..."
  const Json* type = config.find("model_type");
  if (!type) throw Error(Errc::bad_format, config_path + ": missing key \"model_type\"");
  const std::string& model_type = type->as_string(config_path + ": model_type");
  const Family* family = nullptr;
  std::string known;
  for (const Family& f : kFamilies) {
    if (model_type == f.model_type) family = &f;
    known += (known.empty() ? "" : ", ") + std::string(f.model_type);
  }
  if (!family) {
    throw Error(Errc::unsupported, config_path + ": unsupported model_type '" + model_type + "' (supported: " + known + ")");
  }
  GgufWriter w;
  if (!family->gemma3) {
    w = decoder_to_gguf(ckpt, config, config_path, *family, TensorPrefix{});
  } else if (model_type == "gemma3_text") {
    w = decoder_to_gguf(ckpt, with_gemma3_defaults(config, config_path), config_path, *family, TensorPrefix{});
  } else {
    // Gemma3ForConditionalGeneration: the text model's config and tensors; the vision tower is left out.
    const Json* text = config.find("text_config");
    if (!text) throw Error(Errc::bad_format, config_path + ": missing key \"text_config\"");
    const std::string text_path = config_path + ": text_config";
    TensorPrefix prefix{"model.language_model.", "lm_head.weight"};  // as transformers >= 5 saves it
    if (ckpt.find("language_model.model.embed_tokens.weight")) {
      prefix = {"language_model.model.", "language_model.lm_head.weight"};  // older transformers
    }
    w = decoder_to_gguf(ckpt, with_gemma3_defaults(*text, text_path), text_path, *family, prefix);
  }
  checkpoint_vocab(dir).to_gguf(w);
  return GgufFile::parse(Blob::from_bytes(w.to_bytes(), dir.string()));
}

GgufFile open_model_file(const std::filesystem::path& path) {
  return is_hf_checkpoint(path) ? import_hf_checkpoint(path) : GgufFile::open(path);
}

}  // namespace qtr
