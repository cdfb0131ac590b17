// Context: several sequences in one batch give the logits each gives alone; a forked (prefix-shared) sequence
// gives the logits of a cold run; bad batches are errors that leave every sequence as it was; KV types.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "kernels/kv_types.hpp"
#include "qtr/context.hpp"
#include "qtr/error.hpp"
#include "test_support.hpp"
#include "tiny_llama.hpp"

namespace qtr {
namespace {

std::shared_ptr<const Model> tiny_model(const test::TempDir& dir, int64_t n_ctx = 128) {
  test::TinyLlamaSpec spec;
  spec.n_ctx = n_ctx;
  spec.n_embd = 128;  // head_dim 32: every KV type (q8_0 needs blocks of 32 per head)
  spec.n_ff = 96;
  test::tiny_llama(spec).write(dir / "tiny.gguf");
  return Model::load(dir / "tiny.gguf", LoadOptions{2});
}

std::vector<TokenId> random_tokens(size_t n, uint32_t seed, int64_t n_vocab) {
  std::mt19937 rng(seed);
  std::vector<TokenId> out(n);
  for (auto& t : out) t = static_cast<TokenId>(rng() % static_cast<uint32_t>(n_vocab));
  return out;
}

// Logits of every position of `tokens` run alone in a fresh context.
std::vector<float> alone(const std::shared_ptr<const Model>& model, const std::vector<TokenId>& tokens,
                         const ContextOptions& options) {
  Context ctx(model, options);
  const SeqId s = ctx.create_sequence();
  std::vector<BatchEntry> batch;
  for (size_t i = 0; i < tokens.size(); ++i) batch.push_back({s, tokens[i], static_cast<int64_t>(i), true});
  const auto l = ctx.decode(batch);
  return {l.begin(), l.end()};
}

TEST(Context, BatchOfSequencesGivesTheLogitsOfEachAlone) {
  test::TempDir dir;
  const auto model = tiny_model(dir);
  const int64_t n_vocab = model->config().n_vocab;
  for (const char* kv_type : {"f32", "f16", "q8_0"}) {
    SCOPED_TRACE(kv_type);
    ContextOptions options;
    options.kv_type = kv_type;
    options.n_seq = 4;
    options.kv_page_size = 4;  // many page boundaries
    // Four sequences of different lengths: prefill all together, then decode them together step by step, mixing a
    // prefilling sequence into a decoding batch.
    std::vector<std::vector<TokenId>> prompts = {random_tokens(9, 1, n_vocab), random_tokens(3, 2, n_vocab),
                                                 random_tokens(17, 3, n_vocab), random_tokens(1, 4, n_vocab)};
    std::vector<std::vector<float>> expected;
    Context ctx(model, options);
    std::vector<SeqId> seqs;
    for (size_t i = 0; i < prompts.size(); ++i) seqs.push_back(ctx.create_sequence());
    std::vector<BatchEntry> batch;
    for (size_t i = 0; i < 3; ++i) {  // sequence 3 joins later
      for (size_t j = 0; j < prompts[i].size(); ++j) batch.push_back({seqs[i], prompts[i][j], int64_t(j), true});
    }
    auto logits = ctx.decode(batch);
    size_t row = 0;
    for (size_t i = 0; i < 3; ++i) {
      const auto want = alone(model, prompts[i], options);
      const std::vector<float> got(logits.begin() + row * n_vocab, logits.begin() + (row + prompts[i].size()) * n_vocab);
      EXPECT_EQ(got, want) << "sequence " << i;
      row += prompts[i].size();
    }
    // Decode steps: each running sequence gets one new token; sequence 3 prefills its prompt inside step 0.
    std::vector<std::vector<TokenId>> full = prompts;
    for (int step = 0; step < 5; ++step) {
      batch.clear();
      for (size_t i = 0; i < 4; ++i) {
        if (i == 3 && step == 0) {
          batch.push_back({seqs[3], prompts[3][0], 0, true});
          continue;
        }
        const TokenId next = static_cast<TokenId>((step * 7 + static_cast<int>(i) * 5) % n_vocab);
        batch.push_back({seqs[i], next, static_cast<int64_t>(full[i].size()), true});
        full[i].push_back(next);
      }
      logits = ctx.decode(batch);
      for (size_t i = 0; i < 4; ++i) {
        const auto want = alone(model, full[i], options);
        const std::vector<float> got(logits.begin() + i * n_vocab, logits.begin() + (i + 1) * n_vocab);
        const std::vector<float> want_last(want.end() - n_vocab, want.end());
        EXPECT_EQ(got, want_last) << "step " << step << " sequence " << i;
      }
    }
  }
}

TEST(Context, ForkedPrefixGivesTheLogitsOfAColdRun) {
  test::TempDir dir;
  const auto model = tiny_model(dir);
  const int64_t n_vocab = model->config().n_vocab;
  ContextOptions options;
  options.n_seq = 3;
  options.kv_page_size = 4;
  const auto system = random_tokens(10, 7, n_vocab);  // ends inside a page: the fork shares a partly filled page
  const auto user_a = random_tokens(5, 8, n_vocab), user_b = random_tokens(6, 9, n_vocab);
  Context ctx(model, options);
  const SeqId base = ctx.create_sequence();
  std::vector<BatchEntry> batch;
  for (size_t i = 0; i < system.size(); ++i) batch.push_back({base, system[i], int64_t(i), false});
  ctx.decode(batch);
  for (const auto& user : {user_a, user_b}) {
    const SeqId s = ctx.fork_sequence(base);
    EXPECT_EQ(ctx.sequence_length(s), 10);
    batch.clear();
    for (size_t i = 0; i < user.size(); ++i) batch.push_back({s, user[i], int64_t(10 + i), true});
    const auto logits = ctx.decode(batch);
    std::vector<TokenId> whole = system;
    whole.insert(whole.end(), user.begin(), user.end());
    const auto cold = alone(model, whole, options);
    const std::vector<float> want(cold.end() - static_cast<ptrdiff_t>(user.size() * n_vocab), cold.end());
    EXPECT_EQ(std::vector<float>(logits.begin(), logits.end()), want);
  }
  // The base is untouched by its forks' writes (copy-on-write of the shared last page).
  batch = {{base, 3, 10, true}};
  const auto base_next = ctx.decode(batch);
  std::vector<TokenId> whole = system;
  whole.push_back(3);
  const auto cold = alone(model, whole, options);
  EXPECT_EQ(std::vector<float>(base_next.begin(), base_next.end()),
            std::vector<float>(cold.end() - n_vocab, cold.end()));
}

TEST(Context, BadBatchesLeaveEverySequenceAsItWas) {
  test::TempDir dir;
  const auto model = tiny_model(dir, 32);
  ContextOptions options;
  options.n_seq = 2;
  options.kv_page_size = 4;
  Context ctx(model, options);
  const SeqId a = ctx.create_sequence(), b = ctx.create_sequence();
  ctx.decode(std::vector<BatchEntry>{{a, 1, 0}, {a, 2, 1}, {b, 3, 0, true}});
  const KvMemory before = ctx.kv_memory();
  auto expect_unchanged = [&](const std::vector<BatchEntry>& batch, Errc code, const char* says) {
    try {
      ctx.decode(batch);
      ADD_FAILURE() << "no error for: " << says;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
    }
    EXPECT_EQ(ctx.sequence_length(a), 2);
    EXPECT_EQ(ctx.sequence_length(b), 1);
    EXPECT_EQ(ctx.kv_memory().pages_used, before.pages_used);
  };
  expect_unchanged({{a, 4, 2}, {b, 99999, 1}}, Errc::invalid_argument, "outside the vocabulary");
  expect_unchanged({{a, -1, 2}}, Errc::invalid_argument, "outside the vocabulary");
  expect_unchanged({{a, 4, 3}}, Errc::invalid_argument, "positions must continue");   // skips
  expect_unchanged({{a, 4, 1}}, Errc::invalid_argument, "positions must continue");   // goes back
  expect_unchanged({{a, 4, 2}, {a, 5, 2}}, Errc::invalid_argument, "positions must continue");
  expect_unchanged({{a, 4, 2}, {b, 5, 1}, {a, 6, 3}}, Errc::invalid_argument, "not consecutive");
  expect_unchanged({{a, 4, 2}, {777, 5, 0}}, Errc::invalid_argument, "unknown sequence 777");
  std::vector<BatchEntry> too_long;
  for (int64_t p = 2; p < 40; ++p) too_long.push_back({a, 1, p});
  expect_unchanged(too_long, Errc::invalid_argument, "context full");
  expect_unchanged({}, Errc::invalid_argument, "at least one");
  // A budget too small for the batch: out of pages, and nothing changes.
  ContextOptions tiny = options;
  tiny.kv_budget_bytes = 1;  // rounded up by nothing: the pool refuses
  EXPECT_THROW(Context(model, tiny), Error);
  ContextOptions small = options;
  small.n_seq = 1;
  small.n_ctx = 32;
  Context one(model, small);
  const SeqId x = one.create_sequence(), y = one.create_sequence();
  std::vector<BatchEntry> fill;
  for (int64_t p = 0; p < 30; ++p) fill.push_back({x, 1, p});
  one.decode(fill);
  std::vector<BatchEntry> more;
  for (int64_t p = 0; p < 20; ++p) more.push_back({y, 1, p});
  try {
    one.decode(more);
    ADD_FAILURE() << "no error when the KV cache is full";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::out_of_memory) << e.what();
  }
  EXPECT_EQ(one.sequence_length(x), 30);
  EXPECT_EQ(one.sequence_length(y), 0);
}

TEST(Context, KvTypesStayCloseToF32AndReportTheirSize) {
  test::TempDir dir;
  const auto model = tiny_model(dir);
  const auto tokens = random_tokens(40, 11, model->config().n_vocab);
  ContextOptions f32;
  f32.kv_type = "f32";
  const auto ref = alone(model, tokens, f32);
  for (const char* type : {"f16", "q8_0"}) {
    ContextOptions o;
    o.kv_type = type;
    const auto got = alone(model, tokens, o);
    float worst = 0.0f;
    for (size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::abs(got[i] - ref[i]));
    EXPECT_LT(worst, std::string(type) == "f16" ? 1e-2f : 5e-2f) << type;
    EXPECT_GT(worst, 0.0f) << type;  // really a different cache
    EXPECT_EQ(Context(model, o).kv_memory().bytes_per_token,
              static_cast<size_t>(model->config().n_layer * 2) *
                  kernels::kv_row_bytes(kernels::parse_kv_type(type), model->config().kv_dim()));
  }
  EXPECT_THROW(Context(model, ContextOptions{.kv_type = "int3"}), Error);
}

}  // namespace
}  // namespace qtr

namespace qtr {
namespace {

// One batch of many positions (prefill) gives the logits of running the positions one by one (decode), for head
// shapes of real models (head_dim 64 with 3 query heads per kv head: SmolLM2; 256 with 4: Gemma 3), across many
// 16-key blocks of the attention kernels.
TEST(Context, PrefillEqualsTokenByToken) {
  struct Shape {
    int64_t n_embd, n_head, n_head_kv;
  };
  for (const Shape shape : {Shape{576, 9, 3}, Shape{1024, 4, 1}, Shape{128, 4, 2}}) {
    SCOPED_TRACE(shape.n_embd);
    test::TempDir dir;
    test::TinyLlamaSpec spec;
    spec.n_embd = shape.n_embd;
    spec.n_head = shape.n_head;
    spec.n_head_kv = shape.n_head_kv;
    spec.n_ff = 64;
    spec.n_layer = 1;
    test::tiny_llama(spec).write(dir / "m.gguf");
    const auto model = Model::load(dir / "m.gguf", LoadOptions{1});
    const auto tokens = random_tokens(40, 5, model->config().n_vocab);
    ContextOptions o;
    o.kv_type = "f32";
    const auto batched = alone(model, tokens, o);
    Context ctx(model, o);
    const SeqId s = ctx.create_sequence();
    const auto n_vocab = static_cast<size_t>(model->config().n_vocab);
    for (size_t i = 0; i < tokens.size(); ++i) {
      const auto l = ctx.decode(std::vector<BatchEntry>{{s, tokens[i], static_cast<int64_t>(i), true}});
      for (size_t j = 0; j < n_vocab; ++j) {
        ASSERT_NEAR(l[j], batched[i * n_vocab + j], 1e-4) << "position " << i << " token " << j;
      }
    }
  }
}

}  // namespace
}  // namespace qtr

#include "qtr/embedding.hpp"

namespace qtr {
namespace {

TEST(Embedding, PooledHiddenStateIsNormalisedDeterministicAndLeavesNoSequence) {
  test::TempDir dir;
  const auto model = tiny_model(dir);
  Context ctx(model);
  const auto tokens = random_tokens(12, 3, model->config().n_vocab);
  const auto mean = embed(ctx, tokens, Pooling::mean);
  const auto last = embed(ctx, tokens, Pooling::last);
  ASSERT_EQ(mean.size(), static_cast<size_t>(model->config().n_embd));
  double norm = 0.0;
  for (float v : mean) norm += double(v) * v;
  EXPECT_NEAR(norm, 1.0, 1e-5);
  EXPECT_NE(mean, last);
  EXPECT_EQ(mean, embed(ctx, tokens, Pooling::mean));
  // The last token's state equals the hidden state Context::decode reports for it.
  const SeqId s = ctx.create_sequence();
  std::vector<BatchEntry> batch;
  for (size_t i = 0; i < tokens.size(); ++i) batch.push_back({s, tokens[i], int64_t(i), i + 1 == tokens.size()});
  ctx.decode(batch);
  const auto hidden = ctx.hidden_states();
  const auto raw = embed(ctx, tokens, Pooling::last, /*normalize=*/false);
  EXPECT_EQ(std::vector<float>(hidden.begin(), hidden.end()), raw);
  ctx.remove_sequence(s);
  EXPECT_EQ(ctx.kv_memory().pages_used, 0);
  EXPECT_THROW(embed(ctx, std::span<const TokenId>()), Error);
}

}  // namespace
}  // namespace qtr

#include "qtr/prefix_cache.hpp"

namespace qtr {
namespace {

// Decodes tokens[from ..] into seq and returns the last position's logits.
std::vector<float> finish(Context& ctx, SeqId seq, const std::vector<TokenId>& tokens, size_t from) {
  std::vector<BatchEntry> batch;
  for (size_t i = from; i < tokens.size(); ++i) batch.push_back({seq, tokens[i], int64_t(i), i + 1 == tokens.size()});
  const auto l = ctx.decode(batch);
  return {l.begin(), l.end()};
}

TEST(PrefixCache, AHitGivesTheLogitsOfAColdRunAndSkipsTheSharedPrefix) {
  test::TempDir dir;
  const auto model = tiny_model(dir);
  const int64_t n_vocab = model->config().n_vocab;
  ContextOptions options;
  options.n_seq = 6;
  options.kv_page_size = 4;
  Context ctx(model, options);
  PrefixCache cache(ctx, 2);
  auto system = random_tokens(13, 21, n_vocab);
  auto request = [&](uint32_t seed, size_t n) {
    auto t = system;
    const auto user = random_tokens(n, seed, n_vocab);
    t.insert(t.end(), user.begin(), user.end());
    return t;
  };
  const auto a = request(1, 5), b = request(2, 7);
  auto hit = cache.acquire(a);
  EXPECT_EQ(hit.n_cached, 0);
  finish(ctx, hit.seq, a, 0);
  cache.store(hit.seq, a);
  ctx.remove_sequence(hit.seq);
  EXPECT_EQ(cache.size(), 1u);

  hit = cache.acquire(b);  // shares the system prompt with a
  EXPECT_EQ(hit.n_cached, 13);
  const auto got = finish(ctx, hit.seq, b, static_cast<size_t>(hit.n_cached));
  const auto cold = alone(model, b, options);
  EXPECT_EQ(got, std::vector<float>(cold.end() - n_vocab, cold.end()));
  ctx.remove_sequence(hit.seq);

  hit = cache.acquire(a);  // the whole request is cached: all but its last token are reused
  EXPECT_EQ(hit.n_cached, static_cast<int64_t>(a.size()) - 1);
  const auto again = finish(ctx, hit.seq, a, static_cast<size_t>(hit.n_cached));
  const auto cold_a = alone(model, a, options);
  EXPECT_EQ(again, std::vector<float>(cold_a.end() - n_vocab, cold_a.end()));
  ctx.remove_sequence(hit.seq);
  EXPECT_EQ(cache.hits(), 2);

  // LRU: a third distinct prefix pushes out the least recently used entry.
  const auto other = random_tokens(9, 99, n_vocab);
  hit = cache.acquire(other);
  finish(ctx, hit.seq, other, 0);
  cache.store(hit.seq, other);
  ctx.remove_sequence(hit.seq);
  const auto third = random_tokens(6, 98, n_vocab);
  hit = cache.acquire(third);
  finish(ctx, hit.seq, third, 0);
  cache.store(hit.seq, third);
  ctx.remove_sequence(hit.seq);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.acquire(a).n_cached, 0);  // a was the least recently used
}

TEST(PrefixCache, DecodeEvictsEntriesWhenTheCacheIsFull) {
  test::TempDir dir;
  const auto model = tiny_model(dir, 32);
  ContextOptions options;
  options.n_seq = 1;
  options.n_ctx = 32;
  options.kv_page_size = 4;
  Context ctx(model, options);
  PrefixCache cache(ctx, 4);
  const auto prompt = random_tokens(28, 5, model->config().n_vocab);
  auto hit = cache.acquire(prompt);
  finish(ctx, hit.seq, prompt, 0);
  cache.store(hit.seq, prompt);
  ctx.remove_sequence(hit.seq);
  // A different 28-token request does not fit beside the cached one: decode drops the entry and succeeds.
  const auto other = random_tokens(28, 6, model->config().n_vocab);
  hit = cache.acquire(other);
  std::vector<BatchEntry> batch;
  for (size_t i = 0; i < other.size(); ++i) batch.push_back({hit.seq, other[i], int64_t(i), i + 1 == other.size()});
  EXPECT_THROW(ctx.decode(batch), Error);
  EXPECT_NO_THROW(cache.decode(batch));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(ctx.sequence_length(hit.seq), 28);
}

}  // namespace
}  // namespace qtr

#include <thread>

#include "qtr/generate.hpp"

namespace qtr {
namespace {

// One Model shared by several threads, a Session each, generating at the same time: every thread gets the tokens
// it gets alone.
TEST(Context, OneModelServesSeveralThreadsAtOnce) {
  test::TempDir dir;
  const auto model = tiny_model(dir);
  auto run = [&](uint32_t seed) {
    Session session(model, SessionOptions{0, 1});
    GenerateOptions options;
    options.n_predict = 24;
    options.sampling.seed = seed;
    options.stop_at_eog = false;
    const auto prompt = random_tokens(5, seed, model->config().n_vocab);
    return generate(session, prompt, options, nullptr).tokens;
  };
  std::vector<std::vector<TokenId>> alone_results;
  for (uint32_t s = 1; s <= 4; ++s) alone_results.push_back(run(s));
  std::vector<std::vector<TokenId>> threaded(4);
  std::vector<std::thread> threads;
  for (uint32_t s = 1; s <= 4; ++s) threads.emplace_back([&, s] { threaded[s - 1] = run(s); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(threaded, alone_results);
}

}  // namespace
}  // namespace qtr

namespace qtr {
namespace {

TEST(GenerateCancel, FlagStopsBeforeTheNextToken) {
  test::TempDir dir;
  const auto model = tiny_model(dir);
  Session session(model);
  std::atomic<bool> cancel{false};
  GenerateOptions options;
  options.n_predict = 1000;
  options.stop_at_eog = false;
  options.cancel = &cancel;
  int pieces = 0;
  const auto prompt = random_tokens(3, 1, model->config().n_vocab);
  const auto result = generate(session, prompt, options, [&](std::string_view) {
    if (++pieces == 5) cancel = true;  // as another thread would
    return true;
  });
  EXPECT_EQ(result.stop_reason, StopReason::cancelled);
  EXPECT_LT(result.tokens.size(), 1000u);
  session.reset();
  const auto none = generate(session, prompt, options, nullptr);  // already set: no token at all
  EXPECT_EQ(none.stop_reason, StopReason::cancelled);
  EXPECT_TRUE(none.tokens.empty());
}

}  // namespace
}  // namespace qtr

namespace qtr {
namespace {

TEST(Context, Q8KvNeedsHeadsOfWholeBlocks) {
  test::TempDir dir;
  test::TinyLlamaSpec spec;  // head_dim 8
  test::tiny_llama(spec).write(dir / "t.gguf");
  const auto model = Model::load(dir / "t.gguf");
  try {
    Context ctx(model, ContextOptions{.kv_type = "q8_0"});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("multiple of 32"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace qtr

namespace qtr {
namespace {

TEST(ModelLoad, ReadingInsteadOfMappingGivesTheSameLogits) {
  test::TempDir dir;
  test::TinyLlamaSpec spec;
  spec.weight_type = TensorType::F16;
  test::tiny_llama(spec).write(dir / "m.gguf");
  LoadOptions read;
  read.use_mmap = false;
  const auto a = Model::load(dir / "m.gguf"), b = Model::load(dir / "m.gguf", read);
  const auto tokens = random_tokens(9, 4, a->config().n_vocab);
  EXPECT_EQ(alone(a, tokens, {}), alone(b, tokens, {}));
  EXPECT_THROW(Model::load(dir / "missing.gguf", read), Error);
}

}  // namespace
}  // namespace qtr
