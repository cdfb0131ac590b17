// Options every command that loads a model shares.
#pragma once

#include <string_view>

#include "args.hpp"
#include "qtr/error.hpp"
#include "qtr/model.hpp"

namespace qtr::cli {

inline constexpr OptionSpec kMatmulInputsOption = {
    "--matmul-inputs", "MODE",
    "precise (default): projection inputs in two int8 terms, close to float; int8: one term, faster prompts"};

// --matmul-inputs into load.matmul_inputs; a bad value is a UsageError.
inline void read_matmul_inputs(const Args& args, LoadOptions& load) {
  if (auto mode = args.string("--matmul-inputs")) {
    try {
      load.matmul_inputs = parse_matmul_inputs(*mode);
    } catch (const Error& e) {
      throw UsageError{"--matmul-inputs: " + std::string(e.what())};
    }
  }
}

}  // namespace qtr::cli
