// Conversions between Python objects and the qtr C++ types the bindings pass around.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "qtr/chat_template.hpp"
#include "qtr/generate.hpp"
#include "qtr/json.hpp"
#include "qtr/vocab.hpp"

namespace qtr::python {

// UTF-8 bytes -> str; invalid bytes become U+FFFD (errors="replace"), so text from a model never raises.
pybind11::str utf8_to_str(std::string_view text);

// A sequence of ints (list, tuple, NumPy integer array) -> token ids, each checked against [0, n_vocab):
// TypeError for other objects, qtr.InvalidArgument naming the first id outside the vocabulary.
std::vector<TokenId> to_token_ids(pybind11::handle ids, size_t n_vocab);

// None, a str, or a sequence of str -> stop strings (TypeError otherwise).
std::vector<std::string> to_stop_strings(pybind11::handle stop);

// A sequence of {"role": str, "content": str} mappings -> chat messages (TypeError / qtr.InvalidArgument).
std::vector<ChatMessage> to_chat_messages(pybind11::handle messages);

// None or a dict of JSON-serialisable values -> Json (through json.dumps); null for None.
Json to_json(pybind11::handle variables);

// The sampling keyword arguments shared by generate() and chat().
struct SamplingArgs {
  int64_t max_tokens = 128;
  float temperature = 0.8f;
  int32_t top_k = 40;
  float top_p = 0.95f;
  float min_p = 0.05f;
  float repeat_penalty = 1.0f;
  int32_t penalty_last_n = 64;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  pybind11::object logit_bias;  // None or {token id: bias}
  pybind11::object seed;        // None (random) or an int in [0, 2^64)
  pybind11::object stop;        // None, str or sequence of str
};

// Builds and validates GenerateOptions (qtr.InvalidArgument naming the bad parameter) before any work starts.
GenerateOptions to_generate_options(const SamplingArgs& args, size_t n_vocab);

// Hands `data` to NumPy without copying: the array owns the vector through a capsule. Shape [rows][cols], or [cols]
// when rows < 0.
pybind11::array_t<float> vector_to_array(std::vector<float>&& data, int64_t rows, int64_t cols);

}  // namespace qtr::python
