// Reading an architecture's hyperparameters from GGUF metadata (`<arch>.*` keys), with range checks: the values
// come from files made by strangers and size every allocation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "qtr/model_config.hpp"

namespace qtr {

class GgufFile;

// The unsigned integer `key`, which must lie in 1..limit; `fallback` when absent (absent without fallback: error).
int64_t gguf_positive(const GgufFile& file, const std::string& key, int64_t limit,
                      std::optional<int64_t> fallback = {});

// The common decoder hyperparameters: widths, layer and head counts, RoPE base and dimensions, norm epsilon.
ModelConfig read_decoder_config(const GgufFile& file);

}  // namespace qtr
