// qtr vocab — turn a SentencePiece .model file or a Hugging Face tokenizer.json (byte-level BPE) into a
// vocabulary-only GGUF (tokenizer.ggml.* metadata).
#include <cstdio>

#include "commands.hpp"
#include "qtr/gguf_writer.hpp"
#include "qtr/vocab.hpp"

namespace qtr::cli {

namespace {

constexpr OptionSpec kOptions[] = {
    {"--spm", "PATH", "SentencePiece model (tokenizer.model)"},
    {"--hf-tokenizer", "PATH", "Hugging Face tokenizer.json (byte-level BPE: Llama 3, Qwen2/3, GPT-2)"},
    {"--out", "PATH", "GGUF file to write"},
};

int run(const Args& args) {
  if (!args.positional().empty()) throw UsageError{"unexpected argument '" + args.positional()[0] + "'"};
  if (args.has("--spm") == args.has("--hf-tokenizer")) throw UsageError{"give exactly one of --spm and --hf-tokenizer"};
  const std::string out = args.require("--out");
  const Vocab vocab = args.has("--spm") ? Vocab::from_sentencepiece_model(args.require("--spm"))
                                        : Vocab::from_hf_tokenizer_json(args.require("--hf-tokenizer"));
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
                            "(--spm tokenizer.model | --hf-tokenizer tokenizer.json) --out vocab.gguf", kOptions, &run};

}  // namespace qtr::cli
