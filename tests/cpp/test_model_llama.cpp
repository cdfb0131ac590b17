// The llama graph: the stories260K golden output, thread-count independence, F16/BF16/tied weights, and errors
// that leave the session unchanged.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "qtr/error.hpp"
#include "qtr/generate.hpp"
#include "qtr/model.hpp"
#include "test_support.hpp"
#include "tiny_llama.hpp"

namespace qtr {
namespace {

std::shared_ptr<const Model> write_and_load(const test::TempDir& dir, const GgufWriter& w, const char* name) {
  w.write(dir / name);
  return Model::load(dir / name, LoadOptions{2});
}

TEST(LlamaGraph, StoriesGoldenOutput) {
  QTR_REQUIRE_SHARED(shared);
  const auto model = Model::load(shared / "models/stories260K.gguf");
  EXPECT_EQ(model->config().n_vocab, 512);
  EXPECT_EQ(model->config().n_head_kv, 4);
  EXPECT_FALSE(model->config().tied_output);
  Session session(model);
  GenerateOptions options;
  options.n_predict = 200;
  options.sampling.temperature = 0.0f;
  std::string text;
  const auto bos = model->tokenizer().encode("", EncodeOptions{true, false});
  generate(session, bos, options, [&](std::string_view piece) {
    text += piece;
    return true;
  });
  EXPECT_EQ(text, test::read_file(shared / "models/stories260K.expected.txt"));
}

TEST(LlamaGraph, LogitsDoNotDependOnThreadCountOrBatching) {
  QTR_REQUIRE_SHARED(shared);
  const auto model = Model::load(shared / "models/stories260K.gguf");
  const auto ids = model->tokenizer().encode("Once upon a time, there was a little dog named Max. He liked to run.");
  ASSERT_GT(ids.size(), 10u);
  auto logits_with = [&](int threads) {
    Session s(model, SessionOptions{0, threads});
    const auto l = s.eval(ids, true);
    return std::vector<float>(l.begin(), l.end());
  };
  const auto one = logits_with(1);
  EXPECT_EQ(one, logits_with(2));
  EXPECT_EQ(one, logits_with(3));
  // Token by token gives the same last-position logits as the batch (within float rounding of the batched sums).
  Session s(model, SessionOptions{0, 2});
  std::span<const float> last;
  for (TokenId id : ids) last = s.eval(std::span<const TokenId>(&id, 1));
  const size_t n_vocab = static_cast<size_t>(model->config().n_vocab);
  for (size_t i = 0; i < n_vocab; ++i) EXPECT_NEAR(last[i], one[(ids.size() - 1) * n_vocab + i], 1e-5);
}

TEST(LlamaGraph, SeededSamplingIsReproducible) {
  QTR_REQUIRE_SHARED(shared);
  const auto model = Model::load(shared / "models/stories260K.gguf");
  auto run = [&](uint64_t seed) {
    Session s(model);
    GenerateOptions o;
    o.n_predict = 40;
    o.sampling.temperature = 0.9f;
    o.sampling.seed = seed;
    return generate(s, std::vector<TokenId>{1}, o, nullptr).tokens;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
}

TEST(LlamaGraph, HalfPrecisionWeightsMatchTheirF32Values) {
  test::TempDir dir;
  for (TensorType type : {TensorType::F16, TensorType::BF16}) {
    test::TinyLlamaSpec spec;
    spec.weight_type = type;
    const auto half = write_and_load(dir, test::tiny_llama(spec), "half.gguf");
    Session s(half);
    const std::vector<TokenId> ids = {1, 5, 9, 13, 40, 63};
    const auto logits = s.eval(ids, true);
    for (float x : logits) ASSERT_TRUE(std::isfinite(x));
    // Same model at F32: values differ only by the rounding to 16 bits, so the logits stay close.
    spec.weight_type = TensorType::F32;
    const auto full = write_and_load(dir, test::tiny_llama(spec), "full.gguf");
    Session s32(full);
    const auto logits32 = s32.eval(ids, true);
    double max_err = 0;
    for (size_t i = 0; i < logits.size(); ++i) max_err = std::max<double>(max_err, std::fabs(logits[i] - logits32[i]));
    EXPECT_LT(max_err, type == TensorType::F16 ? 0.02 : 0.1) << tensor_type_name(type);
  }
}

TEST(LlamaGraph, TiedOutputUsesTheEmbedding) {
  test::TempDir dir;
  test::TinyLlamaSpec spec;
  spec.tied_output = true;
  const auto model = write_and_load(dir, test::tiny_llama(spec), "tied.gguf");
  EXPECT_TRUE(model->config().tied_output);
  Session s(model);
  const auto logits = s.eval(std::vector<TokenId>{1, 7});
  EXPECT_EQ(logits.size(), 64u);
}

TEST(LlamaGraph, BadInputLeavesTheSessionUnchanged) {
  test::TempDir dir;
  test::TinyLlamaSpec spec;
  spec.n_ctx = 8;
  const auto model = write_and_load(dir, test::tiny_llama(spec), "small.gguf");
  Session s(model, SessionOptions{8, 1});
  const std::vector<TokenId> first = {1, 4, 5};
  const auto reference = std::vector<float>(s.eval(first).begin(), s.eval(first).end());  // n_past 6 after this
  s.reset();
  s.eval(first);
  EXPECT_THROW(s.eval(std::vector<TokenId>{64}), Error);      // outside the vocabulary
  EXPECT_THROW(s.eval(std::vector<TokenId>{-1}), Error);
  EXPECT_THROW(s.eval(std::vector<TokenId>{}), Error);
  EXPECT_THROW(s.eval(std::vector<TokenId>(6, 3)), Error);    // 3 + 6 > n_ctx 8
  EXPECT_EQ(s.n_past(), 3);
  const auto next = s.eval(std::vector<TokenId>{1, 4, 5});
  EXPECT_EQ(s.n_past(), 6);
  EXPECT_EQ(std::vector<float>(next.begin(), next.end()), reference);
}

TEST(LlamaGraph, UnknownArchitectureAndMissingTensorsAreNamed) {
  test::TempDir dir;
  GgufWriter w = test::tiny_llama({});
  w.set("general.architecture", GgufValue{std::string("mamba9")});
  w.write(dir / "arch.gguf");
  try {
    Model::load(dir / "arch.gguf");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::unsupported);
    EXPECT_NE(std::string(e.what()).find("unsupported architecture 'mamba9'"), std::string::npos) << e.what();
  }
  test::TinyLlamaSpec spec;
  spec.n_layer = 3;
  GgufWriter partial = test::tiny_llama(spec);
  partial.set("llama.block_count", GgufValue{uint32_t{4}});
  partial.write(dir / "missing.gguf");
  try {
    Model::load(dir / "missing.gguf");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing tensor 'blk.3.attn_norm.weight'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace qtr
