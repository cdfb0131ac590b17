// qtr tokenize — print the token ids of a text. Works on vocabulary-only GGUF files (no tensors needed).
#include <cstdio>

#include "commands.hpp"
#include "qtr/gguf.hpp"
#include "qtr/hf_import.hpp"
#include "qtr/tokenizer.hpp"

namespace qtr::cli {

namespace {

constexpr OptionSpec kOptions[] = {
    {"--model", "PATH", "GGUF file holding tokenizer.ggml.* metadata, or a Hugging Face checkpoint directory"},
    {"--text", "TEXT", "the text to tokenize"},
    {"--file", "PATH", "read the text from a file (bytes as they are)"},
    {"--no-bos", "", "add no special tokens (no BOS/EOS)"},
    {"--parse-special", "", "recognise control tokens such as <s> written in the text"},
};

int run(const Args& args) {
  if (!args.positional().empty()) throw UsageError{"unexpected argument '" + args.positional()[0] + "'"};
  const std::string path = args.require("--model");
  if (args.has("--text") == args.has("--file")) throw UsageError{"give exactly one of --text and --file"};
  const std::string text = args.has("--text") ? args.require("--text") : read_text_file(args.require("--file"));
  const GgufFile file = open_model_file(path);
  const auto tokenizer = Tokenizer::create(Vocab::from_gguf(file));
  const auto ids = tokenizer->encode(text, EncodeOptions{!args.flag("--no-bos"), args.flag("--parse-special")});
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) line += (i ? " " : "") + std::to_string(ids[i]);
  line += "\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
  return 0;
}

}  // namespace

const Command kTokenizeCommand{"tokenize", "Print the token ids of a text, separated by spaces.",
                               "--model PATH (--text TEXT | --file PATH) [--no-bos]", kOptions, &run};

}  // namespace qtr::cli
