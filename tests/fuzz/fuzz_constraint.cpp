// libFuzzer target: arbitrary bytes as a constraint — the first byte picks GBNF, JSON Schema or regex, the rest is
// the source — compiled for a small byte-level vocabulary, then masks computed while walking a few tokens chosen
// from the fuzz input. Any outcome but success or a qtr::Error is a failure (crash, hang, sanitizer report).
#include <cstdint>
#include <memory>
#include <string_view>

#include "qtr/constraint.hpp"
#include "qtr/error.hpp"
#include "qtr/tokenizer.hpp"

namespace {

std::shared_ptr<const qtr::TokenVocabulary> vocabulary() {
  static const std::shared_ptr<const qtr::TokenVocabulary> v = [] {
    qtr::Vocab vocab;
    vocab.model = "llama";
    auto add = [&](std::string piece, qtr::TokenType type) {
      vocab.tokens.push_back(std::move(piece));
      vocab.scores.push_back(0);
      vocab.types.push_back(type);
    };
    add("<unk>", qtr::TokenType::unknown);
    add("<s>", qtr::TokenType::control);
    add("</s>", qtr::TokenType::control);
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      add(name, qtr::TokenType::byte);
    }
    for (const char* p : {"{\"", "\":", "\",", "\"}", "true", "null", "ab", "12", "é", "\xE2\x96\x81"}) add(p, qtr::TokenType::normal);
    vocab.unk = 0, vocab.bos = 1, vocab.eos = 2;
    auto tok = qtr::Tokenizer::create(std::move(vocab));
    const qtr::TokenId eos = 2;
    return qtr::TokenVocabulary::build(*tok, std::span<const qtr::TokenId>(&eos, 1));
  }();
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  qtr::ConstraintOptions o;
  o.max_source_bytes = 1 << 16;
  o.max_symbols = 1 << 18;
  o.max_states = 20000;
  o.max_stacks = 2000;
  o.allow_unused_rules = data[0] & 8;
  try {
    std::shared_ptr<const qtr::Constraint> c;
    switch (data[0] % 3) {
      case 0: c = qtr::Constraint::from_gbnf(text, vocabulary(), o); break;
      case 1: c = qtr::Constraint::from_json_schema(text, vocabulary(), o); break;
      default: c = qtr::Constraint::from_regex(text, vocabulary(), o); break;
    }
    qtr::ConstraintMatcher m(c);
    std::vector<uint64_t> mask((vocabulary()->n_vocab() + 63) / 64);
    for (size_t i = 0; i < 16 && !m.finished(); ++i) {
      m.fill_mask(mask);
      // Take the allowed token at the position the input's bytes point to.
      const size_t start = data[(i * 7) % size] * 131u % vocabulary()->n_vocab();
      for (size_t k = 0; k < vocabulary()->n_vocab(); ++k) {
        const size_t t = (start + k) % vocabulary()->n_vocab();
        if ((mask[t >> 6] >> (t & 63)) & 1) {
          if (!m.accept(static_cast<qtr::TokenId>(t))) return 1;  // a masked-in token must be accepted
          break;
        }
      }
    }
    if (m.steps() > 2) m.rollback(2);
  } catch (const qtr::Error&) {
  }
  return 0;
}
