// Hugging Face -> GGUF translation for the llama-like families (LlamaForCausalLM, MistralForCausalLM,
// Qwen2ForCausalLM, Qwen3ForCausalLM): config keys and tensor names as data, in tables. For llama, Q and K rows are
// permuted from HF's rotate-half layout to the interleaved-pair layout GGUF uses (as llama.cpp's converter does);
// the Qwen families keep HF's layout (their graphs rotate halves).
#include <cstring>
#include <span>
#include <string>
#include <vector>

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
constexpr TensorName kLlamaGlobalTensors[] = {
    {"model.embed_tokens.weight", "token_embd.weight"},
    {"model.norm.weight", "output_norm.weight"},
    {"lm_head.weight", "output.weight"},
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

struct Family {
  const char* model_type;      // config.json "model_type"
  const char* architecture;    // GGUF general.architecture
  bool permute_qk;             // llama's GGUF RoPE layout
  std::span<const TensorName> extra_layer_tensors;
};
constexpr Family kFamilies[] = {
    {"llama", "llama", true, {}},
    {"mistral", "llama", true, {}},
    {"qwen2", "qwen2", false, kQwen2LayerTensors},
    {"qwen3", "qwen3", false, kQwen3LayerTensors},
};

int64_t config_int(const Json& config, const std::string& file, const char* key) {
  const Json* v = config.find(key);
  if (!v) throw Error(Errc::bad_format, file + ": missing key \"" + key + "\"");
  return v->as_int(file + ": " + key);
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

void add_tensor(GgufWriter& w, const std::string& name, const SafetensorsTensor& t, std::vector<uint8_t>* owned) {
  const TensorView v = t.view();
  if (v.type != TensorType::F32 && v.type != TensorType::F16 && v.type != TensorType::BF16) {
    throw Error(Errc::unsupported, "tensor '" + t.name + "' has dtype " + t.dtype + " (F32, F16 or BF16 expected)");
  }
  if (owned) w.add_tensor(name, v.type, v.ne, std::move(*owned));
  else w.add_tensor_view(name, v.type, v.ne, v.data);
}

Vocab checkpoint_vocab(const fs::path& dir) {
  if (fs::exists(dir / "tokenizer.model")) {
    Vocab v = Vocab::from_sentencepiece_model(dir / "tokenizer.model");
    return v;
  }
  throw Error(Errc::unsupported, dir.string() + ": no tokenizer.model (SentencePiece); tokenizer.json alone is not "
                                                "supported yet");
}

GgufWriter decoder_to_gguf(const SafetensorsCheckpoint& ckpt, const Json& config, const std::string& config_path,
                           const Family& family) {
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
  // RoPE base: "rope_theta", or (newer transformers) "rope_parameters": {"rope_theta", "rope_type"}.
  const Json* theta = config.find("rope_theta");
  if (const Json* params = config.find("rope_parameters"); params && params->is_object()) {
    if (const Json* type = params->find("rope_type"); type && type->as_string(config_path + ": rope_type") != "default") {
      throw Error(Errc::unsupported, config_path + ": rope_type '" + type->as_string("") + "' is not supported yet");
    }
    if (!theta) theta = params->find("rope_theta");
  }
  if (theta) {
    w.set(arch + ".rope.freq_base", GgufValue{static_cast<float>(theta->as_double(config_path + ": rope_theta"))});
  }
  if (const Json* scaling = config.find("rope_scaling"); scaling && !scaling->is_null()) {
    throw Error(Errc::unsupported, config_path + ": rope_scaling is not supported yet");
  }
  if (const Json* sliding = config.find("use_sliding_window"); sliding && sliding->is_bool() && sliding->as_bool("")) {
    throw Error(Errc::unsupported, config_path + ": use_sliding_window is not supported yet");
  }
  const int64_t n_head = config_int(config, config_path, "num_attention_heads");
  const int64_t n_head_kv = config.find("num_key_value_heads") ? config_int(config, config_path, "num_key_value_heads") : n_head;

  for (const TensorName& t : kLlamaGlobalTensors) {
    const SafetensorsTensor* src = ckpt.find(t.hf);
    if (!src) {
      if (std::string(t.hf) == "lm_head.weight") continue;  // tied embeddings
      ckpt.require(t.hf);                                    // throws "missing tensor"
    }
    add_tensor(w, t.gguf, *src, nullptr);
  }
  const int64_t n_layer = config_int(config, config_path, "num_hidden_layers");
  for (int64_t i = 0; i < n_layer; ++i) {
    std::vector<TensorName> names(std::begin(kLlamaLayerTensors), std::end(kLlamaLayerTensors));
    names.insert(names.end(), family.extra_layer_tensors.begin(), family.extra_layer_tensors.end());
    for (const TensorName& t : names) {
      const std::string hf = "model.layers." + std::to_string(i) + "." + t.hf;
      const std::string gguf = "blk." + std::to_string(i) + "." + t.gguf;
      const SafetensorsTensor& src = ckpt.require(hf);
      const bool rotated = std::string(t.hf) == "self_attn.q_proj.weight" || std::string(t.hf) == "self_attn.k_proj.weight";
      if (family.permute_qk && rotated) {
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
  GgufWriter w = decoder_to_gguf(ckpt, config, config_path, *family);
  checkpoint_vocab(dir).to_gguf(w);
  return GgufFile::parse(Blob::from_bytes(w.to_bytes(), dir.string()));
}

GgufFile open_model_file(const std::filesystem::path& path) {
  return is_hf_checkpoint(path) ? import_hf_checkpoint(path) : GgufFile::open(path);
}

}  // namespace qtr
