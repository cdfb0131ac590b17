// The generation loop: prompt -> sampled tokens -> text, with stop conditions.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qtr/constraint.hpp"
#include "qtr/model.hpp"
#include "qtr/sampling.hpp"

namespace qtr {

struct GenerateOptions {
  int64_t n_predict = 128;        // tokens to generate at most
  SamplingParams sampling;
  bool stop_at_eog = true;        // stop at an end-of-generation token (see end_of_generation_tokens)
  std::vector<std::string> stop;  // stop strings: the text before the first one found is emitted, then it stops
  bool penalize_prompt = true;    // the prompt's tokens enter the penalty window (as in llama.cpp)
  // Checked before every token: when it becomes true (set from any thread), generation stops with
  // StopReason::cancelled, without waiting for the next piece of text. May be null.
  const std::atomic<bool>* cancel = nullptr;
  // Constrained decoding (include/qtr/constraint.hpp): before each token the logits of tokens the constraint does
  // not allow are set to -inf (the first stage of the sampler chain); generation ends with StopReason::eog when
  // the text is complete and nothing may follow, and an end-of-generation token is only sampled where the text is
  // complete. Must be compiled for this model's vocabulary (Model::token_vocabulary()).
  std::shared_ptr<const Constraint> constraint;
  // A lazy constraint: generation is free until this text appears in the output, and from its first byte on the
  // output must follow `constraint` (whose language starts with the trigger). Empty: constrained from the start.
  std::string constraint_trigger;
};

enum class StopReason {
  max_tokens,    // n_predict tokens were generated
  eog,           // the model produced an end-of-generation token, or the constraint's text is complete
  stop_string,   // a stop string appeared in the text
  context_full,  // the session's context has no room for another token
  cancelled,     // on_text returned false
};

// "max tokens", "end of generation", "stop string", "context full", "cancelled".
const char* stop_reason_name(StopReason reason);

struct GenerateResult {
  std::vector<TokenId> tokens;  // the sampled ids (an end-of-generation token is not included)
  StopReason stop_reason = StopReason::max_tokens;
  std::string stop_string;      // the stop string found, for StopReason::stop_string
};

// The ids that end generation: the vocabulary's EOS, and control / user-defined tokens named like an end of turn
// or of text in the common vocabularies ("<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<end_of_turn>", "<|end|>",
// "<|endoftext|>", "<|end_of_text|>", "</s>", ...). Sorted, without duplicates.
std::vector<TokenId> end_of_generation_tokens(const Vocab& vocab);

// Runs `prompt` (which must not be empty) through the session, then samples up to n_predict tokens. Text is passed
// to on_text (may be null) in pieces of complete UTF-8, the stop string and what follows it left out; returning
// false from on_text stops the generation. Invalid options throw qtr::Error(invalid_argument) before any work.
GenerateResult generate(Session& session, std::span<const TokenId> prompt, const GenerateOptions& options,
                        const std::function<bool(std::string_view)>& on_text);

}  // namespace qtr
