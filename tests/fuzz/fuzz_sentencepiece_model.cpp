// libFuzzer target: arbitrary bytes as a SentencePiece .model protobuf.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "qtr/error.hpp"
#include "qtr/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The importer reads a path: write the input to a per-process temporary file.
  static const std::string path = "/tmp/qtr-fuzz-spm-" + std::to_string(::getpid()) + ".model";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    const auto tokenizer = qtr::Tokenizer::create(qtr::Vocab::from_sentencepiece_model(path));
    const auto ids = tokenizer->encode("fuzz me \xC3\xA4", qtr::EncodeOptions{true, false});
    return tokenizer->decode(ids).size() == 0xDEADBEEF ? 1 : 0;
  } catch (const qtr::Error&) {
    return 0;
  }
}
