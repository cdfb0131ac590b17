// libFuzzer target: arbitrary bytes as a chat template (they come from model files), parsed and, when that
// succeeds, rendered for a small conversation under tight budgets. Any outcome but a qtr::Error is a failure.
#include <cstdint>
#include <string_view>

#include "qtr/chat_template.hpp"
#include "qtr/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    qtr::ChatTemplateOptions options;
    options.max_steps = 200'000;
    options.max_output_bytes = 1 << 20;
    options.max_call_depth = 50;
    const auto tmpl = qtr::ChatTemplate::parse(std::string_view(reinterpret_cast<const char*>(data), size),
                                               "fuzz.jinja", options);
    qtr::ChatTemplateInputs inputs;
    inputs.messages = {{"system", "Be brief."}, {"user", "Hi \xF0\x9F\x98\x80 \"quoted\""}, {"assistant", "Hello!"},
                       {"user", "Bye"}};
    inputs.bos_token = "<s>";
    inputs.eos_token = "</s>";
    return tmpl.render(inputs).size() == 0xDEADBEEF ? 1 : 0;
  } catch (const qtr::Error&) {
    return 0;
  }
}
