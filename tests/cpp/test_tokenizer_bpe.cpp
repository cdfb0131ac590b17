// Byte-level BPE tokenizer: llama.cpp's test vectors with the Llama-3 and Qwen3 vocabularies (imported from
// tokenizer.json, and passed through GGUF metadata), GPT-2 from its encoder.json + vocab.bpe, round trips,
// special tokens, and the errors of the tokenizer.json importer.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include "qtr/error.hpp"
#include "qtr/gguf.hpp"
#include "qtr/gguf_writer.hpp"
#include "qtr/json.hpp"
#include "qtr/tokenizer.hpp"
#include "qtr/utf8.hpp"
#include "test_support.hpp"

namespace qtr {
namespace {

using namespace std::string_literals;

// Vocab -> GGUF metadata (writer) -> Vocab (reader), as `qtr vocab` + `qtr tokenize` do.
Vocab through_gguf(const Vocab& v, const std::string& name) {
  GgufWriter w;
  v.to_gguf(w);
  const GgufFile f = GgufFile::parse(Blob::from_bytes(w.to_bytes(), name));
  return Vocab::from_gguf(f);
}

// Tokenizers are built once per file and route (tokenizer.json imports take a moment).
const Tokenizer& tokenizer(const std::filesystem::path& shared, const std::string& name, bool via_gguf) {
  static std::map<std::pair<std::string, bool>, std::unique_ptr<Tokenizer>> cache;
  auto& slot = cache[{name, via_gguf}];
  if (!slot) {
    Vocab v = Vocab::from_hf_tokenizer_json(shared / "tokenizers" / (name + ".tokenizer.json"));
    if (via_gguf) v = through_gguf(v, name + "-vocab.gguf");
    slot = Tokenizer::create(std::move(v));
  }
  return *slot;
}

// The 46 texts of a llama.cpp vector file and their expected ids (no BOS).
std::vector<std::pair<std::string, std::vector<TokenId>>> load_vectors(const std::filesystem::path& shared,
                                                                       const std::string& name) {
  const std::string inp = test::read_file(shared / "tokenizer-tests" / ("ggml-vocab-" + name + ".gguf.inp"));
  const std::string out = test::read_file(shared / "tokenizer-tests" / ("ggml-vocab-" + name + ".gguf.out"));
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::pair<std::string, std::vector<TokenId>>> vectors;
  std::istringstream lines(out);
  for (size_t start = 0;;) {
    const size_t at = inp.find(sep, start);
    if (at == std::string::npos) break;  // what follows the last separator is not a test
    std::string line;
    std::getline(lines, line);
    std::istringstream ids(line);
    std::vector<TokenId> expected;
    for (TokenId id; ids >> id;) expected.push_back(id);
    vectors.emplace_back(inp.substr(start, at - start), std::move(expected));
    start = at + sep.size();
  }
  return vectors;
}

// How many vectors the tokenizer reproduces exactly (each failure is reported with its text).
int vector_passes(const Tokenizer& tok, const std::filesystem::path& shared, const std::string& name) {
  const auto vectors = load_vectors(shared, name);
  EXPECT_EQ(vectors.size(), 46u);
  int passed = 0;
  for (const auto& [text, expected] : vectors) {
    const auto got = tok.encode(text, EncodeOptions{false, false});
    EXPECT_EQ(got, expected) << name << " text: '" << text << "'";
    passed += got == expected;
  }
  return passed;
}

TEST(ByteBpe, MatchesLlamaCppLlamaBpeVectorsFromTokenizerJson) {
  QTR_REQUIRE_SHARED(shared);
  EXPECT_EQ(vector_passes(tokenizer(shared, "llama3", false), shared, "llama-bpe"), 46);
}

TEST(ByteBpe, MatchesLlamaCppLlamaBpeVectorsThroughGguf) {
  QTR_REQUIRE_SHARED(shared);
  EXPECT_EQ(vector_passes(tokenizer(shared, "llama3", true), shared, "llama-bpe"), 46);
}

TEST(ByteBpe, MatchesLlamaCppQwen2VectorsFromTokenizerJson) {
  QTR_REQUIRE_SHARED(shared);
  EXPECT_EQ(vector_passes(tokenizer(shared, "qwen3", false), shared, "qwen2"), 46);
}

TEST(ByteBpe, MatchesLlamaCppQwen2VectorsThroughGguf) {
  QTR_REQUIRE_SHARED(shared);
  EXPECT_EQ(vector_passes(tokenizer(shared, "qwen3", true), shared, "qwen2"), 46);
}

TEST(HfTokenizerJson, ImportsLlama3) {
  QTR_REQUIRE_SHARED(shared);
  const Vocab v = Vocab::from_hf_tokenizer_json(shared / "tokenizers/llama3.tokenizer.json");
  EXPECT_EQ(v.model, "gpt2");
  EXPECT_EQ(v.pre, "llama-bpe");
  ASSERT_EQ(v.size(), 128256u);
  EXPECT_EQ(v.scores.size(), v.size());
  EXPECT_EQ(v.types.size(), v.size());
  EXPECT_EQ(v.merges.size(), 280147u);
  EXPECT_EQ(v.merges[0], "\xC4\xA0 \xC4\xA0");  // "Ġ Ġ"
  EXPECT_EQ(v.tokens[128000], "<|begin_of_text|>");
  EXPECT_EQ(v.types[128000], TokenType::control);
  EXPECT_EQ(v.types[9906], TokenType::normal);  // "Hello"
  EXPECT_EQ(v.bos, 128000);
  EXPECT_EQ(v.eos, 128001);  // <|end_of_text|>
  EXPECT_TRUE(v.add_bos);
  EXPECT_FALSE(v.add_eos);
  EXPECT_FALSE(v.add_space_prefix);
}

TEST(HfTokenizerJson, ImportsQwen3WithPairMerges) {
  QTR_REQUIRE_SHARED(shared);
  const Vocab v = Vocab::from_hf_tokenizer_json(shared / "tokenizers/qwen3.tokenizer.json");
  EXPECT_EQ(v.pre, "qwen2");
  ASSERT_EQ(v.size(), 151669u);
  EXPECT_EQ(v.merges.size(), 151387u);
  EXPECT_EQ(v.merges[0], "\xC4\xA0 \xC4\xA0");  // ["Ġ", "Ġ"] joined
  EXPECT_EQ(v.bos, kNoToken);
  EXPECT_EQ(v.eos, 151643);  // <|endoftext|>
  EXPECT_FALSE(v.add_bos);
  EXPECT_EQ(v.tokens[151644], "<|im_start|>");
  EXPECT_EQ(v.types[151644], TokenType::control);      // "special": true
  EXPECT_EQ(v.types[151659], TokenType::control);      // <|fim_prefix|>: not special, but looks it (llama.cpp)
  EXPECT_EQ(v.tokens[151667], "<think>");
  EXPECT_EQ(v.types[151667], TokenType::user_defined);  // not special
}

TEST(ByteBpe, AddsBosForLlama3Only) {
  QTR_REQUIRE_SHARED(shared);
  const auto& llama3 = tokenizer(shared, "llama3", true);
  EXPECT_EQ(llama3.encode("Hello world"), (std::vector<TokenId>{128000, 9906, 1917}));
  EXPECT_EQ(llama3.encode("", EncodeOptions{true, false}), std::vector<TokenId>{128000});
  EXPECT_TRUE(llama3.encode("", EncodeOptions{false, false}).empty());
  const auto& qwen = tokenizer(shared, "qwen3", true);
  EXPECT_EQ(qwen.encode("Hello world"), qwen.encode("Hello world", EncodeOptions{false, false}));
}

TEST(ByteBpe, RoundTripsMultilingualTextAndEmoji) {
  QTR_REQUIRE_SHARED(shared);
  const std::vector<std::string> texts = {
      "Hello world", "  leading spaces and\ttabs\n\nnewlines\r\n", "Äpfel über Straße", "нещо на Български",
      "日本語のテキスト", "我爱自然语言处理，今天天气很好！", "안녕하세요", "مرحبا بالعالم", "नमस्ते दुनिया",
      "🦙🚀 emoji ✓ 🏳️‍🌈 👨‍👩‍👧‍👦 🇫🇷", "a  b   c", "mixed 中文 and English 123 4567",
      "I'M HERE, you're there, it's", "nul\0and\x01\x7f controls"s, "\u00a0\u3000\u2028 odd spaces",
      "e\u0301 combining n\u0303", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \U0010FFFD"};
  for (const std::string name : {"llama3", "qwen3"}) {
    const auto& tok = tokenizer(shared, name, true);
    for (const auto& text : texts) {
      const auto ids = tok.encode(text, EncodeOptions{true, false});
      EXPECT_EQ(tok.decode(ids), text) << name;
      // Streaming: the same text, in chunks that are whole UTF-8 sequences.
      StreamingDecoder dec(tok);
      std::string streamed;
      for (TokenId id : ids) {
        const std::string chunk = dec.push(id);
        EXPECT_TRUE(utf8::is_valid(chunk)) << name << ": chunk of '" << text << "'";
        streamed += chunk;
      }
      streamed += dec.flush();
      EXPECT_EQ(streamed, text) << name;
    }
  }
}

TEST(ByteBpe, SplitsControlTokensOnlyWhenAskedAndUserDefinedAlways) {
  QTR_REQUIRE_SHARED(shared);
  const auto& qwen = tokenizer(shared, "qwen3", true);
  const std::string chat = "<|im_start|>user\nhi<|im_end|><think>";
  EXPECT_EQ(qwen.encode(chat, EncodeOptions{false, true}),
            (std::vector<TokenId>{151644, 872, 198, 6023, 151645, 151667}));  // as the HF tokenizer gives
  const auto plain = qwen.encode(chat, EncodeOptions{false, false});
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 151644), 0);
  EXPECT_EQ(plain.back(), 151667);  // <think> is user-defined: matched without parse_special
  EXPECT_EQ(qwen.decode(plain), chat);

  const auto& llama3 = tokenizer(shared, "llama3", true);
  const auto ids = llama3.encode("<|begin_of_text|>hi<|eot_id|>", EncodeOptions{false, true});
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0], 128000);
  EXPECT_EQ(ids[2], llama3.find("<|eot_id|>"));
  EXPECT_EQ(llama3.decode(ids), "hi");
  EXPECT_EQ(llama3.decode(ids, true), "<|begin_of_text|>hi<|eot_id|>");
  EXPECT_EQ(llama3.token_to_piece(128000), "");
  EXPECT_EQ(llama3.token_to_piece(128000, true), "<|begin_of_text|>");
  EXPECT_EQ(llama3.token_to_piece(220), " ");  // "Ġ"
  EXPECT_EQ(llama3.token_to_piece(198), "\n");  // "Ċ"
  EXPECT_THROW(llama3.token_to_piece(-1), Error);
  EXPECT_THROW(llama3.token_to_piece(128256), Error);
}

TEST(ByteBpe, ReplacesInvalidUtf8LikeLlamaCpp) {
  QTR_REQUIRE_SHARED(shared);
  const auto& tok = tokenizer(shared, "llama3", true);
  // Each byte outside a valid sequence stands for U+FFFD (llama.cpp's unicode_cpts_from_utf8).
  EXPECT_EQ(tok.encode("a\xFF" "b\xE6\x88", EncodeOptions{false, false}),
            tok.encode("a\uFFFD" "b\uFFFD\uFFFD", EncodeOptions{false, false}));
}

TEST(ByteBpe, TokenizesLongTextsQuickly) {
  QTR_REQUIRE_SHARED(shared);
  const auto& tok = tokenizer(shared, "llama3", true);
  std::string text;
  const char* words[] = {"hello ", "Straße ", "日本語 ", "🦙 ", "12345 ", "don't ", "\n\n", "   ", "x,y;z "};
  for (size_t i = 0; text.size() < 100000; ++i) text += words[(i * 7 + i / 3) % std::size(words)];
  const std::string long_word(100000, 'a');       // one 100 KB word: BPE with a heap, not quadratic
  const std::string long_space(100000, ' ');      // one 100 KB whitespace run
  for (const std::string* t : {&std::as_const(text), &long_word, &long_space}) {
    const auto start = std::chrono::steady_clock::now();
    const auto ids = tok.encode(*t, EncodeOptions{false, false});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(seconds, 5.0);  // well under 0.1 s in a release build; the bound only catches quadratic blow-ups
    EXPECT_EQ(tok.decode(ids), *t);
  }
}

// GPT-2 from its original files (encoder.json, vocab.bpe), built by hand into a Vocab.
Vocab gpt2_vocab(const std::filesystem::path& shared, const std::string& pre) {
  const Json encoder = read_json_file((shared / "tokenizers/gpt2.encoder.json").string());
  Vocab v;
  v.model = "gpt2";
  v.pre = pre;
  v.add_space_prefix = false;
  for (const auto& [text, id] : encoder.as_object("encoder.json")) {
    const auto i = static_cast<size_t>(id.as_int("encoder.json id"));
    if (i >= v.tokens.size()) v.tokens.resize(i + 1);
    v.tokens[i] = text;
  }
  v.types.assign(v.tokens.size(), TokenType::normal);
  v.types[50256] = TokenType::control;  // <|endoftext|>
  v.scores.assign(v.tokens.size(), 0.0f);
  std::istringstream merges(test::read_file(shared / "tokenizers/gpt2.vocab.bpe"));
  for (std::string line; std::getline(merges, line);) {
    if (!line.empty() && line.rfind("#version", 0) != 0) v.merges.push_back(line);
  }
  v.eos = 50256;
  return v;
}

TEST(ByteBpe, Gpt2AndSmolLmPreTokenizers) {
  QTR_REQUIRE_SHARED(shared);
  const auto gpt2 = Tokenizer::create(through_gguf(gpt2_vocab(shared, "gpt2"), "gpt2-vocab.gguf"));
  // Ids as the Hugging Face tokenizer gives them.
  EXPECT_EQ(gpt2->encode("Hello world 12345"), (std::vector<TokenId>{15496, 995, 17031, 2231}));
  const auto smollm = Tokenizer::create(gpt2_vocab(shared, "smollm"));  // digits split apart first
  EXPECT_EQ(smollm->encode("Hello world 12345"), (std::vector<TokenId>{15496, 995, 220, 16, 17, 18, 19, 20}));
  EXPECT_EQ(gpt2->decode(gpt2->encode("  Grüße\n\n 🦙 ")), "  Grüße\n\n 🦙 ");
}

// ---- errors ----------------------------------------------------------------------------------------------------

// The qtr::Error that `f` throws (a test failure when it throws none).
template <class F>
Error error_from(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no qtr::Error thrown";
  return Error(Errc::internal, "");
}

// A minimal tokenizer.json: "a", "b" and their merge, with `model` and `pre` spliced in.
std::string tiny_json(const std::string& model, const std::string& pre) {
  return R"({"added_tokens": [{"id": 3, "content": "<|end|>", "special": true}],
             "pre_tokenizer": )" + pre + R"(, "model": )" + model + "}";
}
const std::string kTinyModel = R"({"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]})";
const std::string kByteLevel = R"({"type": "ByteLevel", "add_prefix_space": false, "use_regex": true})";

std::filesystem::path write(const test::TempDir& dir, const std::string& text) {
  const auto path = dir / "tokenizer.json";
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(HfTokenizerJson, ImportsAMinimalFile) {
  test::TempDir dir;
  const Vocab v = Vocab::from_hf_tokenizer_json(write(dir, tiny_json(kTinyModel, kByteLevel)));
  EXPECT_EQ(v.pre, "gpt2");
  EXPECT_EQ(v.tokens, (std::vector<std::string>{"a", "b", "ab", "<|end|>"}));
  EXPECT_EQ(v.eos, kNoToken);
  const auto tok = Tokenizer::create(v);
  EXPECT_EQ(tok->encode("abab<|end|>", EncodeOptions{false, true}), (std::vector<TokenId>{2, 2, 3}));

  // A TemplateProcessing post-processor names the tokens added around the text: here EOS after it.
  std::string with_template = tiny_json(kTinyModel, kByteLevel);
  with_template.insert(1, R"("post_processor": {"type": "TemplateProcessing", "single": [
      {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "<|end|>", "type_id": 0}}]}, )");
  const Vocab t = Vocab::from_hf_tokenizer_json(write(dir, with_template));
  EXPECT_EQ(t.eos, 3);
  EXPECT_TRUE(t.add_eos);
  EXPECT_FALSE(t.add_bos);
  EXPECT_EQ(Tokenizer::create(t)->encode("ab"), (std::vector<TokenId>{2, 3}));
}

TEST(HfTokenizerJson, RejectsMalformedFiles) {
  test::TempDir dir;
  auto fails = [&](const std::string& text, const std::string& key) {
    const auto path = write(dir, text);
    const Error e = error_from([&] { Vocab::from_hf_tokenizer_json(path); });
    EXPECT_EQ(e.code(), Errc::bad_format) << e.what();
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << "'" << key << "' not in: " << e.what();
  };
  fails("{\"model\": {", "invalid JSON");
  fails("[1, 2]", "top level");
  fails(tiny_json(R"({"type": "BPE", "merges": []})", kByteLevel), "model.vocab");
  fails(R"({"pre_tokenizer": null})", "model");
  fails(tiny_json(R"({"vocab": {"a": "zero"}, "merges": []})", kByteLevel), "model.vocab[\"a\"]");
  fails(tiny_json(R"({"vocab": {"a": -1}, "merges": []})", kByteLevel), "model.vocab[\"a\"]");
  fails(tiny_json(R"({"vocab": {"a": 0, "b": 0}, "merges": []})", kByteLevel), "model.vocab[\"b\"]");
  fails(tiny_json(R"({"vocab": {"a": 0}})", kByteLevel), "model.merges");
  fails(tiny_json(R"({"vocab": {"a": 0}, "merges": ["ab"]})", kByteLevel), "model.merges[0]");
  fails(tiny_json(R"({"vocab": {"a": 0}, "merges": ["a b", "a "]})", kByteLevel), "model.merges[1]");
  fails(tiny_json(R"({"vocab": {"a": 0}, "merges": [["a"]]})", kByteLevel), "model.merges[0]");
  fails(tiny_json(R"({"vocab": {"a": 0}, "merges": [["a", 1]]})", kByteLevel), "model.merges[0][1]");
  fails(tiny_json(R"({"vocab": {"a": 0}, "merges": [7]})", kByteLevel), "model.merges[0]");
  fails(R"({"added_tokens": [{"id": 3}], "pre_tokenizer": )" + kByteLevel + R"(, "model": )" + kTinyModel + "}",
        "added_tokens[0].content");
}

TEST(HfTokenizerJson, RejectsTokenizersQtrCannotRun) {
  test::TempDir dir;
  auto unsupported = [&](const std::string& text, const std::string& what) {
    const auto path = write(dir, text);
    const Error e = error_from([&] { Vocab::from_hf_tokenizer_json(path); });
    EXPECT_EQ(e.code(), Errc::unsupported) << e.what();
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << "'" << what << "' not in: " << e.what();
  };
  unsupported(tiny_json(R"({"type": "Unigram", "vocab": []})", kByteLevel), "Unigram");
  unsupported(tiny_json(kTinyModel, R"({"type": "Metaspace", "replacement": "_"})"), "Metaspace");
  unsupported(tiny_json(kTinyModel, "null"), "pre_tokenizer");
  unsupported(tiny_json(kTinyModel, R"({"type": "Sequence", "pretokenizers": [
      {"type": "Split", "pattern": {"Regex": "\\p{L}+"}, "behavior": "Isolated", "invert": false}, )" +
                                        kByteLevel + "]}"),
              "\\p{L}+");
}

TEST(ByteBpe, RejectsUnknownPreTokenizersAndBadMerges) {
  Vocab v;
  v.model = "gpt2";
  v.tokens = {"a", "b", "ab"};
  v.scores = {0, 0, 0};
  v.types = {TokenType::normal, TokenType::normal, TokenType::normal};
  v.merges = {"a b"};
  v.pre = "falcon";
  Error e = error_from([&] { Tokenizer::create(v); });
  EXPECT_EQ(e.code(), Errc::unsupported);
  EXPECT_NE(std::string(e.what()).find("'falcon'"), std::string::npos) << e.what();
  v.pre = "";
  EXPECT_EQ(error_from([&] { Tokenizer::create(v); }).code(), Errc::unsupported);
  v.pre = "qwen2";
  EXPECT_EQ(Tokenizer::create(v)->encode("ab ba"), (std::vector<TokenId>{2, 1, 0}));  // no "Ġ": the space drops
  v.merges = {"ab"};
  e = error_from([&] { Tokenizer::create(v); });
  EXPECT_EQ(e.code(), Errc::bad_format);
  EXPECT_NE(std::string(e.what()).find("tokenizer.ggml.merges[0]"), std::string::npos) << e.what();
}

}  // namespace
}  // namespace qtr
