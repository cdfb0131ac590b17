// Hugging Face checkpoints (config.json + *.safetensors + tokenizer.model) as GGUF: metadata translated from
// config.json, tensors renamed to GGUF's names (and, for llama, Q/K rows permuted to GGUF's RoPE layout).
// Model::load and `qtr quantize` accept such a directory through this conversion.
#pragma once

#include <filesystem>
#include <memory>

#include "qtr/gguf.hpp"

namespace qtr {

// True when `path` is a directory holding config.json (a Hugging Face checkpoint).
bool is_hf_checkpoint(const std::filesystem::path& path);

// Converts the checkpoint into an in-memory GGUF file (tensors keep their dtype: F32, F16 or BF16).
// Throws qtr::Error naming the file, key or tensor on anything missing or malformed, and Errc::unsupported for an
// architecture (config.json "model_type") that has no mapping yet.
GgufFile import_hf_checkpoint(const std::filesystem::path& dir);

// A model file of either kind: a GGUF file (memory-mapped) or a Hugging Face checkpoint directory (converted).
GgufFile open_model_file(const std::filesystem::path& path);

}  // namespace qtr
