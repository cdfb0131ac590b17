// libFuzzer target: arbitrary bytes as a GGUF file. Parsing must either succeed or throw qtr::Error; a file that
// parses is then used the way a loader would (tensor views, metadata printing, tokenizer construction).
#include <cstdint>
#include <vector>

#include "qtr/error.hpp"
#include "qtr/gguf.hpp"
#include "qtr/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const qtr::GgufFile file =
        qtr::GgufFile::parse(qtr::Blob::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz.gguf"));
    uint64_t sum = 0;
    for (const auto& info : file.tensor_infos()) {
      const qtr::TensorView view = file.tensor(info);
      if (!view.data.empty()) sum += view.data.front() + view.data.back();
    }
    for (const auto& [key, value] : file.metadata()) sum += value.to_string().size();
    if (file.has("tokenizer.ggml.model")) {
      const auto tokenizer = qtr::Tokenizer::create(qtr::Vocab::from_gguf(file));
      const auto ids = tokenizer->encode("Hello world \xF0\x9F\xA6\x99 <s>", qtr::EncodeOptions{true, true});
      sum += tokenizer->decode(ids).size();
    }
    return sum == 0xDEADBEEF ? 1 : 0;  // keep the work observable
  } catch (const qtr::Error&) {
    return 0;
  }
}
