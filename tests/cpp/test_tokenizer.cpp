// SentencePiece tokenizer: llama.cpp's test vectors with the Llama-2 vocabulary, round trips, streaming decoding.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "qtr/error.hpp"
#include "qtr/gguf.hpp"
#include "qtr/gguf_writer.hpp"
#include "qtr/tokenizer.hpp"
#include "test_support.hpp"

namespace qtr {
namespace {

// Llama-2 vocabulary imported from the .model file, passed through GGUF metadata (writer -> reader), as
// `qtr vocab` + `qtr tokenize` do.
std::unique_ptr<Tokenizer> llama2_tokenizer(const std::filesystem::path& shared) {
  const Vocab imported = Vocab::from_sentencepiece_model(shared / "tokenizers/llama2.tokenizer.model");
  GgufWriter w;
  imported.to_gguf(w);
  const GgufFile f = GgufFile::parse(Blob::from_bytes(w.to_bytes(), "llama2-vocab.gguf"));
  return Tokenizer::create(Vocab::from_gguf(f));
}

TEST(SentencePiece, ImportsTheLlama2Model) {
  QTR_REQUIRE_SHARED(shared);
  const Vocab v = Vocab::from_sentencepiece_model(shared / "tokenizers/llama2.tokenizer.model");
  ASSERT_EQ(v.size(), 32000u);
  EXPECT_EQ(v.tokens[1], "<s>");
  EXPECT_EQ(v.types[1], TokenType::control);
  EXPECT_EQ(v.tokens[13], "<0x0A>");
  EXPECT_EQ(v.types[13], TokenType::byte);
  EXPECT_EQ(v.bos, 1);
  EXPECT_EQ(v.eos, 2);
  EXPECT_EQ(v.unk, 0);
  EXPECT_TRUE(v.add_space_prefix);
}

TEST(SentencePiece, MatchesLlamaCppTestVectors) {
  QTR_REQUIRE_SHARED(shared);
  const auto tok = llama2_tokenizer(shared);
  const std::string inp = test::read_file(shared / "tokenizer-tests/ggml-vocab-llama-spm.gguf.inp");
  const std::string out = test::read_file(shared / "tokenizer-tests/ggml-vocab-llama-spm.gguf.out");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (size_t start = 0;;) {
    const size_t at = inp.find(sep, start);
    if (at == std::string::npos) break;
    texts.push_back(inp.substr(start, at - start));
    start = at + sep.size();
  }
  std::istringstream lines(out);
  int passed = 0;
  for (const auto& text : texts) {
    std::string line;
    std::getline(lines, line);
    std::istringstream ids(line);
    std::vector<TokenId> expected;
    for (TokenId id; ids >> id;) expected.push_back(id);
    const auto got = tok->encode(text, EncodeOptions{false, false});
    EXPECT_EQ(got, expected) << "text: '" << text << "'";
    passed += got == expected;
  }
  EXPECT_EQ(texts.size(), 46u);
  EXPECT_EQ(passed, 46);
}

TEST(SentencePiece, RoundTripsMultilingualTextAndEmoji) {
  QTR_REQUIRE_SHARED(shared);
  const auto tok = llama2_tokenizer(shared);
  for (const std::string text : {"Hello world", "  leading spaces and\ttabs\n\nnewlines", "Äpfel über Straße",
                                  "нещо на Български", "日本語のテキスト", "🦙🚀 emoji ✓", "a  b   c",
                                  "mixed 中文 and English 123"}) {
    const auto ids = tok->encode(text, EncodeOptions{true, false});
    ASSERT_FALSE(ids.empty());
    EXPECT_EQ(ids[0], 1);  // BOS
    EXPECT_EQ(tok->decode(ids), text);
  }
}

TEST(SentencePiece, ParsesSpecialTokensOnlyWhenAsked) {
  QTR_REQUIRE_SHARED(shared);
  const auto tok = llama2_tokenizer(shared);
  const auto plain = tok->encode("<s>hi", EncodeOptions{false, false});
  EXPECT_NE(plain.front(), 1);
  const auto special = tok->encode("<s>hi", EncodeOptions{false, true});
  EXPECT_EQ(special.front(), 1);
  EXPECT_TRUE(tok->encode("", EncodeOptions{false, false}).empty());
  EXPECT_EQ(tok->encode("", EncodeOptions{true, false}), std::vector<TokenId>{1});
}

TEST(StreamingDecoder, HoldsBackIncompleteUtf8AndStripsTheDummyPrefix) {
  QTR_REQUIRE_SHARED(shared);
  const auto tok = llama2_tokenizer(shared);
  // "🦙" has no piece in Llama-2: it is encoded as four byte tokens.
  const auto ids = tok->encode("🦙 ok", EncodeOptions{true, false});
  StreamingDecoder dec(*tok);
  std::vector<std::string> chunks;
  for (TokenId id : ids) chunks.push_back(dec.push(id));
  std::string all;
  for (const auto& c : chunks) all += c;
  all += dec.flush();
  EXPECT_EQ(all, "🦙 ok");
  for (const auto& c : chunks) EXPECT_TRUE(c.empty() || (static_cast<unsigned char>(c[0]) & 0xC0) != 0x80);
  // A stray continuation byte becomes U+FFFD; an unfinished sequence is flushed as U+FFFD.
  StreamingDecoder bad(*tok);
  EXPECT_EQ(bad.push(tok->find("<0x80>")), "\xEF\xBF\xBD");
  EXPECT_EQ(bad.push(tok->find("<0xF0>")), "");
  EXPECT_EQ(bad.flush(), "\xEF\xBF\xBD");
  EXPECT_THROW(bad.push(32000), Error);
}

TEST(SentencePiece, DecodesBytePiecesAndRejectsBadIds) {
  QTR_REQUIRE_SHARED(shared);
  const auto tok = llama2_tokenizer(shared);
  EXPECT_EQ(tok->token_to_piece(13), "\n");
  EXPECT_EQ(tok->token_to_piece(1), "");
  EXPECT_EQ(tok->token_to_piece(1, true), "<s>");
  EXPECT_THROW(tok->token_to_piece(-1), Error);
  EXPECT_THROW(tok->token_to_piece(32000), Error);
}

TEST(Tokenizer, RejectsUnknownModels) {
  Vocab v;
  v.model = "wordpiece";
  v.tokens = {"a"};
  v.scores = {0};
  v.types = {TokenType::normal};
  EXPECT_THROW(Tokenizer::create(v), Error);
}

}  // namespace
}  // namespace qtr
