// qtr synth — write a llama-architecture GGUF with random weights at real shapes (fixed seed), for benchmarks:
// kernel speed does not depend on weight values. The vocabulary is synthetic SentencePiece (byte pieces + words).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "commands.hpp"
#include "kernels/quant_blocks.hpp"
#include "qtr/error.hpp"
#include "qtr/gguf_writer.hpp"
#include "qtr/vocab.hpp"

namespace qtr::cli {

namespace {

constexpr OptionSpec kOptions[] = {
    {"--shape", "NAME", "tinyllama-1.1b (default), llama-1b, smollm2-135m, smollm2-360m, or 'custom'"},
    {"--type", "TYPE", "type of the weight matrices (default q4_0): q4_0 q8_0 f16 f32 ..."},
    {"--out", "PATH", "GGUF file to write"},
    {"--seed", "S", "random seed (default 1)"},
    {"--n-embd", "N", "custom shape: embedding width"},
    {"--n-ff", "N", "custom shape: feed-forward width"},
    {"--n-layer", "N", "custom shape: layers"},
    {"--n-head", "N", "custom shape: query heads"},
    {"--n-head-kv", "N", "custom shape: key/value heads"},
    {"--n-vocab", "N", "custom shape: vocabulary size"},
};

struct Shape {
  const char* name;
  int64_t n_embd, n_ff, n_layer, n_head, n_head_kv, n_vocab;
  float rope_base;
};

constexpr Shape kShapes[] = {
    {"tinyllama-1.1b", 2048, 5632, 22, 32, 4, 32000, 10000.0f},
    {"llama-1b", 2048, 8192, 16, 32, 8, 128256, 500000.0f},
    {"smollm2-135m", 576, 1536, 30, 9, 3, 49152, 100000.0f},
    {"smollm2-360m", 960, 2560, 32, 15, 5, 49152, 100000.0f},
};

// A fast deterministic generator of roughly normal values (sum of uniforms).
struct Random {
  uint64_t state;
  uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
  float normal() {
    const uint64_t r = next();
    float s = 0;
    for (int i = 0; i < 4; ++i) s += static_cast<float>((r >> (16 * i)) & 0xFFFF) * (1.0f / 65536.0f);
    return (s - 2.0f) * 1.7320508f;  // variance of the sum of 4 uniforms is 1/3
  }
};

Vocab synthetic_vocab(int64_t n) {
  Vocab v;
  v.model = "llama";
  v.tokens = {"<unk>", "<s>", "</s>"};
  v.types = {TokenType::unknown, TokenType::control, TokenType::control};
  for (int b = 0; b < 256; ++b) {
    char piece[8];
    std::snprintf(piece, sizeof piece, "<0x%02X>", b);
    v.tokens.push_back(piece);
    v.types.push_back(TokenType::byte);
  }
  while (static_cast<int64_t>(v.tokens.size()) < n) {
    v.tokens.push_back("\xE2\x96\x81w" + std::to_string(v.tokens.size()));
    v.types.push_back(TokenType::normal);
  }
  v.tokens.resize(static_cast<size_t>(n));
  v.types.resize(static_cast<size_t>(n));
  for (size_t i = 0; i < v.tokens.size(); ++i) v.scores.push_back(-static_cast<float>(i));
  v.unk = 0;
  v.bos = 1;
  v.eos = 2;
  v.add_bos = true;
  return v;
}

int run(const Args& args) {
  if (!args.positional().empty()) throw UsageError{"unexpected argument '" + args.positional()[0] + "'"};
  const std::string out = args.require("--out");
  const std::string shape_name = args.string("--shape").value_or("tinyllama-1.1b");
  Shape s{"custom", 0, 0, 0, 0, 0, 0, 10000.0f};
  if (shape_name != "custom") {
    bool found = false;
    for (const auto& k : kShapes) {
      if (shape_name == k.name) {
        s = k;
        found = true;
      }
    }
    if (!found) throw UsageError{"unknown --shape '" + shape_name + "'"};
  }
  s.n_embd = args.integer("--n-embd", s.n_embd, 32, 1 << 16);
  s.n_ff = args.integer("--n-ff", s.n_ff, 32, 1 << 18);
  s.n_layer = args.integer("--n-layer", s.n_layer, 1, 1024);
  s.n_head = args.integer("--n-head", s.n_head, 1, 1024);
  s.n_head_kv = args.integer("--n-head-kv", s.n_head_kv, 1, 1024);
  s.n_vocab = args.integer("--n-vocab", s.n_vocab, 260, 1 << 20);
  if (s.n_embd == 0) throw UsageError{"--shape custom needs --n-embd, --n-ff, --n-layer, --n-head, --n-vocab"};
  if (s.n_head_kv == 0) s.n_head_kv = s.n_head;
  const auto type = parse_tensor_type(args.string("--type").value_or("q4_0"));
  if (!type || !quant::can_quantize(*type)) throw UsageError{"--type: cannot write weights as that type"};
  Random rng{static_cast<uint64_t>(args.integer("--seed", 1, 1, INT64_MAX)) * 0x9E3779B97F4A7C15ull};

  GgufWriter w;
  w.set("general.architecture", GgufValue{std::string("llama")});
  w.set("general.name", GgufValue{"synthetic " + shape_name});
  w.set("llama.context_length", GgufValue{uint32_t{4096}});
  w.set("llama.embedding_length", GgufValue{uint32_t(s.n_embd)});
  w.set("llama.feed_forward_length", GgufValue{uint32_t(s.n_ff)});
  w.set("llama.block_count", GgufValue{uint32_t(s.n_layer)});
  w.set("llama.attention.head_count", GgufValue{uint32_t(s.n_head)});
  w.set("llama.attention.head_count_kv", GgufValue{uint32_t(s.n_head_kv)});
  w.set("llama.rope.freq_base", GgufValue{s.rope_base});
  w.set("llama.attention.layer_norm_rms_epsilon", GgufValue{1e-5f});
  synthetic_vocab(s.n_vocab).to_gguf(w);

  auto add = [&](const std::string& name, int64_t n_in, int64_t n_out, TensorType t) {
    const float scale = 1.0f / std::sqrt(static_cast<float>(n_in));
    std::vector<float> row(static_cast<size_t>(n_in));
    const size_t row_bytes = quant::row_size(t, n_in);
    std::vector<uint8_t> data(row_bytes * static_cast<size_t>(n_out));
    for (int64_t r = 0; r < n_out; ++r) {
      for (auto& x : row) x = rng.normal() * scale;
      quant::quantize_row(t, row.data(), data.data() + r * row_bytes, n_in);
    }
    std::vector<int64_t> ne = {n_in};
    if (n_out > 1) ne.push_back(n_out);
    w.add_tensor(name, t, std::move(ne), std::move(data));
  };
  auto ones = [&](const std::string& name, int64_t n) {
    std::vector<uint8_t> data(static_cast<size_t>(n) * 4);
    const float one = 1.0f;
    for (int64_t i = 0; i < n; ++i) std::memcpy(data.data() + 4 * i, &one, 4);
    w.add_tensor(name, TensorType::F32, {n}, std::move(data));
  };
  const int64_t head_dim = s.n_embd / s.n_head;
  add("token_embd.weight", s.n_embd, s.n_vocab, *type);
  ones("output_norm.weight", s.n_embd);
  add("output.weight", s.n_embd, s.n_vocab, *type);
  for (int64_t i = 0; i < s.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    ones(p + "attn_norm.weight", s.n_embd);
    add(p + "attn_q.weight", s.n_embd, s.n_head * head_dim, *type);
    add(p + "attn_k.weight", s.n_embd, s.n_head_kv * head_dim, *type);
    add(p + "attn_v.weight", s.n_embd, s.n_head_kv * head_dim, *type);
    add(p + "attn_output.weight", s.n_head * head_dim, s.n_embd, *type);
    ones(p + "ffn_norm.weight", s.n_embd);
    add(p + "ffn_gate.weight", s.n_embd, s.n_ff, *type);
    add(p + "ffn_up.weight", s.n_embd, s.n_ff, *type);
    add(p + "ffn_down.weight", s.n_ff, s.n_embd, *type);
  }
  w.write(out);
  std::fprintf(stderr, "qtr synth: wrote %s (%s, %s weights)\n", out.c_str(), shape_name.c_str(),
               tensor_type_name(*type).c_str());
  return 0;
}

}  // namespace

const Command kSynthCommand{"synth", "Write a model with random weights at a real shape (for benchmarks).",
                            "--out PATH [--shape tinyllama-1.1b] [--type q4_0] [--seed S]", kOptions, &run};

}  // namespace qtr::cli
