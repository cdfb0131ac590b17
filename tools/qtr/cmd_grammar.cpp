// qtr grammar — compile a constraint for a model's vocabulary and walk texts through it token by token, timing
// every full next-token mask. A stable contract for outside checks (docs/structured-output.md):
//   qtr grammar --model M (--json-schema FILE | --grammar FILE | --regex RE) [--check FILE]... [--json]
// Exit 2 with a one-line error when the constraint does not compile; 0 when it does, whatever the checks say.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "commands.hpp"
#include "constraint_args.hpp"
#include "qtr/error.hpp"
#include "qtr/generate.hpp"
#include "qtr/gguf.hpp"
#include "qtr/hf_import.hpp"
#include "qtr/tokenizer.hpp"

namespace qtr::cli {
namespace {

constexpr OptionSpec kOptions[] = {
    {"--model", "PATH", "GGUF file (a vocabulary-only one is enough) or Hugging Face checkpoint directory"},
    {"--hf-tokenizer", "PATH", "take the vocabulary from a Hugging Face tokenizer.json instead of --model"},
    {"--check", "FILE", "walk the file's text through the constraint token by token (repeatable)", true},
    {"--json", "", "print JSON lines: {\"compile_ms\": ...}, then one line per --check"},
    {"--print-gbnf", "", "print the compiled grammar as GBNF"},
    QTR_CONSTRAINT_OPTION_SPECS,
};

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

struct CheckResult {
  bool accepted = false;
  size_t tokens = 0;
  std::vector<double> mask_us;
};

CheckResult check(const Constraint& c, std::shared_ptr<const Constraint> shared, const Tokenizer& tok,
                  const std::string& text) {
  CheckResult r;
  const std::vector<TokenId> ids = tok.encode(text, EncodeOptions{false, false});
  r.tokens = ids.size();
  ConstraintMatcher m(std::move(shared));
  std::vector<uint64_t> mask((c.vocabulary().n_vocab() + 63) / 64);
  // SentencePiece adds a dummy-prefix space the file does not have: the first token then counts without it.
  std::string joined;
  for (TokenId t : ids) joined += c.vocabulary().piece(t);
  const bool dummy_prefix = joined != text && joined == " " + text && !ids.empty();
  bool ok = true;
  for (size_t i = 0; i < ids.size() && ok; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    m.fill_mask(mask);
    r.mask_us.push_back(ms_since(t0) * 1000.0);
    const auto t = static_cast<size_t>(ids[i]);
    if (i == 0 && dummy_prefix) {
      ok = m.accept_bytes(std::string_view(c.vocabulary().piece(ids[0])).substr(1));
      continue;
    }
    ok = ((mask[t >> 6] >> (t & 63)) & 1) && m.accept(ids[i]);
  }
  r.accepted = ok && m.accepting();
  return r;
}

int run(const Args& args) {
  if (!args.positional().empty()) throw UsageError{"unexpected argument '" + args.positional()[0] + "'"};
  if (args.has("--model") == args.has("--hf-tokenizer")) throw UsageError{"give exactly one of --model and --hf-tokenizer"};
  if (!has_constraint(args)) throw UsageError{"give a constraint: --json-schema, --grammar, --regex, --choice or --json-object"};
  const auto t_vocab = std::chrono::steady_clock::now();
  Vocab vocab = args.has("--model") ? Vocab::from_gguf(open_model_file(args.require("--model")))
                                    : Vocab::from_hf_tokenizer_json(args.require("--hf-tokenizer"));
  const auto tokenizer = Tokenizer::create(vocab);
  const auto tv = TokenVocabulary::build(*tokenizer, end_of_generation_tokens(tokenizer->vocab()));
  const double vocab_ms = ms_since(t_vocab);

  std::shared_ptr<const Constraint> c;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    c = compile_constraint(args, tv, false);
  } catch (const Error& e) {
    std::fprintf(stderr, "qtr grammar: %s\n", e.what());
    return 2;
  }
  const double compile_ms = ms_since(t0);
  const bool json = args.flag("--json");
  if (args.flag("--print-gbnf")) std::fputs(c->gbnf().c_str(), stdout);
  if (json) {
    std::printf("{\"compile_ms\": %.3f, \"vocab_ms\": %.3f, \"n_vocab\": %zu, \"relaxed\": [", compile_ms, vocab_ms, tv->n_vocab());
    for (size_t i = 0; i < c->relaxed().size(); ++i) std::printf("%s%s", i ? ", " : "", json_string(c->relaxed()[i]).c_str());
    std::printf("]}\n");
  } else {
    std::printf("compiled in %.2f ms for %zu tokens (vocabulary indexed in %.1f ms)\n", compile_ms, tv->n_vocab(), vocab_ms);
    for (const auto& r : c->relaxed()) std::printf("relaxed: %s\n", r.c_str());
  }
  for (const std::string& file : args.strings("--check")) {
    const CheckResult r = check(*c, c, *tokenizer, read_text_file(file));
    std::vector<double> us = r.mask_us;
    std::sort(us.begin(), us.end());
    double mean = 0;
    for (double x : us) mean += x;
    mean = us.empty() ? 0 : mean / static_cast<double>(us.size());
    auto pct = [&](double q) { return us.empty() ? 0.0 : us[std::min(us.size() - 1, static_cast<size_t>(q * static_cast<double>(us.size())))]; };
    if (json) {
      std::printf("{\"file\": %s, \"accepted\": %s, \"tokens\": %zu, \"mask_us\": {\"mean\": %.2f, \"p50\": %.2f, \"p99\": %.2f, \"max\": %.2f}}\n",
                  json_string(file).c_str(), r.accepted ? "true" : "false", r.tokens, mean, pct(0.5), pct(0.99),
                  us.empty() ? 0.0 : us.back());
    } else {
      std::printf("%s: %s (%zu tokens; mask mean %.1f us, p99 %.1f us, max %.1f us)\n", file.c_str(),
                  r.accepted ? "accepted" : "rejected", r.tokens, mean, pct(0.99), us.empty() ? 0.0 : us.back());
    }
  }
  return 0;
}

}  // namespace

const Command kGrammarCommand{
    "grammar", "Compile a constraint for a vocabulary and check texts against it token by token, timing the masks.",
    "--model M (--json-schema FILE | --grammar FILE | --regex RE | --choice TEXT...) [--check FILE]... [--json]",
    kOptions, &run};

}  // namespace qtr::cli
