// Builds small random llama-architecture GGUF models for tests (fixed seed, real tensor names and metadata).
#pragma once

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "qtr/gguf_writer.hpp"
#include "qtr/vocab.hpp"

namespace qtr::test {

struct TinyLlamaSpec {
  int64_t n_vocab = 64, n_embd = 32, n_layer = 2, n_head = 4, n_head_kv = 2, n_ff = 48, n_ctx = 128;
  bool tied_output = false;
  TensorType weight_type = TensorType::F32;  // F32, F16 or BF16 for the matrices
  uint32_t seed = 1;
};

inline uint16_t f32_to_f16_bits(float f) {  // round-to-nearest-even, normal range only (test weights are small)
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000;
  int32_t exponent = static_cast<int32_t>((x >> 23) & 0xFF) - 127 + 15;
  uint32_t mantissa = x & 0x7FFFFF;
  if (exponent <= 0) return static_cast<uint16_t>(sign);  // flush tiny values to zero
  uint32_t half = (static_cast<uint32_t>(exponent) << 10) | (mantissa >> 13);
  const uint32_t rest = mantissa & 0x1FFF;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) ++half;
  return static_cast<uint16_t>(sign | half);
}

inline uint16_t f32_to_bf16_bits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  return static_cast<uint16_t>((x + 0x7FFF + ((x >> 16) & 1)) >> 16);
}

inline Vocab tiny_vocab(int64_t n) {
  Vocab v;
  v.model = "llama";
  for (int64_t i = 0; i < n; ++i) {
    if (i == 0) v.tokens.push_back("<unk>");
    else if (i == 1) v.tokens.push_back("<s>");
    else if (i == 2) v.tokens.push_back("</s>");
    else v.tokens.push_back("\xE2\x96\x81t" + std::to_string(i));
    v.scores.push_back(-static_cast<float>(i));
    v.types.push_back(i == 0 ? TokenType::unknown : i < 3 ? TokenType::control : TokenType::normal);
  }
  v.unk = 0;
  v.bos = 1;
  v.eos = 2;
  v.add_bos = true;
  return v;
}

inline GgufWriter tiny_llama(const TinyLlamaSpec& s) {
  GgufWriter w;
  w.set("general.architecture", GgufValue{std::string("llama")});
  w.set("general.name", GgufValue{std::string("tiny")});
  w.set("llama.context_length", GgufValue{uint32_t(s.n_ctx)});
  w.set("llama.embedding_length", GgufValue{uint32_t(s.n_embd)});
  w.set("llama.feed_forward_length", GgufValue{uint32_t(s.n_ff)});
  w.set("llama.block_count", GgufValue{uint32_t(s.n_layer)});
  w.set("llama.attention.head_count", GgufValue{uint32_t(s.n_head)});
  w.set("llama.attention.head_count_kv", GgufValue{uint32_t(s.n_head_kv)});
  w.set("llama.attention.layer_norm_rms_epsilon", GgufValue{1e-5f});
  tiny_vocab(s.n_vocab).to_gguf(w);

  std::mt19937 rng(s.seed);
  std::normal_distribution<float> normal(0.0f, 0.5f);
  auto add = [&](const std::string& name, std::vector<int64_t> ne, bool is_matrix, float offset = 0.0f) {
    int64_t n = 1;
    for (auto d : ne) n *= d;
    std::vector<float> values(static_cast<size_t>(n));
    for (auto& x : values) x = offset + normal(rng) / (is_matrix ? std::sqrt(static_cast<float>(ne[0])) : 4.0f);
    const TensorType type = is_matrix ? s.weight_type : TensorType::F32;
    std::vector<uint8_t> bytes;
    if (type == TensorType::F32) {
      bytes.resize(values.size() * 4);
      std::memcpy(bytes.data(), values.data(), bytes.size());
    } else {
      for (float x : values) {
        const uint16_t h = type == TensorType::F16 ? f32_to_f16_bits(x) : f32_to_bf16_bits(x);
        bytes.push_back(static_cast<uint8_t>(h & 0xFF));
        bytes.push_back(static_cast<uint8_t>(h >> 8));
      }
    }
    w.add_tensor(name, type, std::move(ne), std::move(bytes));
  };
  const int64_t hd = s.n_embd / s.n_head;
  add("token_embd.weight", {s.n_embd, s.n_vocab}, true);
  add("output_norm.weight", {s.n_embd}, false, 1.0f);
  if (!s.tied_output) add("output.weight", {s.n_embd, s.n_vocab}, true);
  for (int64_t i = 0; i < s.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    add(p + "attn_norm.weight", {s.n_embd}, false, 1.0f);
    add(p + "attn_q.weight", {s.n_embd, s.n_head * hd}, true);
    add(p + "attn_k.weight", {s.n_embd, s.n_head_kv * hd}, true);
    add(p + "attn_v.weight", {s.n_embd, s.n_head_kv * hd}, true);
    add(p + "attn_output.weight", {s.n_head * hd, s.n_embd}, true);
    add(p + "ffn_norm.weight", {s.n_embd}, false, 1.0f);
    add(p + "ffn_gate.weight", {s.n_embd, s.n_ff}, true);
    add(p + "ffn_up.weight", {s.n_embd, s.n_ff}, true);
    add(p + "ffn_down.weight", {s.n_ff, s.n_embd}, true);
  }
  return w;
}

}  // namespace qtr::test
