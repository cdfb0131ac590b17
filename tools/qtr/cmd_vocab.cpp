// qtr vocab — turn a SentencePiece .model file into a vocabulary-only GGUF (tokenizer.ggml.* metadata).
#include <cstdio>

#include "commands.hpp"
#include "qtr/gguf_writer.hpp"
#include "qtr/vocab.hpp"

namespace qtr::cli {

namespace {

constexpr OptionSpec kOptions[] = {
    {"--spm", "PATH", "SentencePiece model (tokenizer.model)"},
    {"--out", "PATH", "GGUF file to write"},
};

int run(const Args& args) {
  if (!args.positional().empty()) throw UsageError{"unexpected argument '" + args.positional()[0] + "'"};
  const std::string spm = args.require("--spm");
  const std::string out = args.require("--out");
  const Vocab vocab = Vocab::from_sentencepiece_model(spm);
  GgufWriter writer;
  writer.set("general.architecture", GgufValue{std::string("llama")});
  writer.set("general.name", GgufValue{std::string("vocab")});
  vocab.to_gguf(writer);
  writer.write(out);
  std::fprintf(stderr, "qtr vocab: wrote %zu tokens to %s\n", vocab.size(), out.c_str());
  return 0;
}

}  // namespace

const Command kVocabCommand{"vocab", "Convert a tokenizer into a vocabulary-only GGUF file.",
                            "--spm tokenizer.model --out vocab.gguf", kOptions, &run};

}  // namespace qtr::cli
