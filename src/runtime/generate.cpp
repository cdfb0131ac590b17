#include "qtr/generate.hpp"

#include <algorithm>
#include <optional>
#include <array>
#include <atomic>

#include "qtr/error.hpp"
#include "qtr/tokenizer.hpp"

namespace qtr {

namespace {

// Texts of tokens that end a turn or a document in the common chat vocabularies.
constexpr std::array<std::string_view, 12> kEndOfGenerationNames = {
    "</s>",          "<|endoftext|>", "<|end_of_text|>", "<|im_end|>", "<|eot_id|>",  "<|eom_id|>",
    "<end_of_turn>", "<|end|>",       "<|return|>",      "<EOT>",      "<|eot|>",     "<｜end▁of▁sentence｜>",
};

}  // namespace

const char* stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::max_tokens: return "max tokens";
    case StopReason::eog: return "end of generation";
    case StopReason::stop_string: return "stop string";
    case StopReason::context_full: return "context full";
    case StopReason::cancelled: return "cancelled";
  }
  return "unknown";
}

std::vector<TokenId> end_of_generation_tokens(const Vocab& vocab) {
  std::vector<TokenId> ids;
  if (vocab.eos != kNoToken) ids.push_back(vocab.eos);
  for (size_t i = 0; i < vocab.size() && i < vocab.types.size(); ++i) {
    const TokenType type = vocab.types[i];
    if (type != TokenType::control && type != TokenType::user_defined) continue;
    if (std::find(kEndOfGenerationNames.begin(), kEndOfGenerationNames.end(), vocab.tokens[i]) !=
        kEndOfGenerationNames.end()) {
      ids.push_back(static_cast<TokenId>(i));
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

GenerateResult generate(Session& session, std::span<const TokenId> prompt, const GenerateOptions& options,
                        const std::function<bool(std::string_view)>& on_text) {
  if (prompt.empty()) throw Error(Errc::invalid_argument, "generate needs a non-empty prompt (at least BOS)");
  if (options.n_predict < 0) throw Error(Errc::invalid_argument, "n_predict must be >= 0");
  const Tokenizer& tokenizer = session.model().tokenizer();
  Sampler sampler(options.sampling, tokenizer.n_vocab());
  StopMatcher stops(options.stop);
  const std::vector<TokenId> eog =
      options.stop_at_eog ? end_of_generation_tokens(tokenizer.vocab()) : std::vector<TokenId>{};
  StreamingDecoder decoder(tokenizer);
  decoder.prime(prompt);
  if (options.penalize_prompt) sampler.accept(prompt);

  GenerateResult result;
  // Passes text through the stop matcher to on_text; false when generation must end.
  auto emit = [&](const std::string& text) {
    const StopMatcher::Result r = stops.push(text);
    if (!r.text.empty() && on_text && !on_text(r.text)) {
      result.stop_reason = StopReason::cancelled;
      return false;
    }
    if (r.stopped) {
      result.stop_reason = StopReason::stop_string;
      result.stop_string = std::string(stops.matched());
      return false;
    }
    return true;
  };

  std::optional<ConstraintMatcher> matcher;
  std::vector<float> masked;  // [n_vocab] the logits with the constraint's mask applied
  if (options.constraint) {
    if (options.constraint->vocabulary().n_vocab() != tokenizer.n_vocab()) {
      throw Error(Errc::invalid_argument, "generate: the constraint was compiled for another vocabulary");
    }
    matcher.emplace(options.constraint);
  }
  bool constrained = matcher.has_value() && options.constraint_trigger.empty();
  std::string free_text;  // lazy constraint: the raw bytes generated while waiting for the trigger

  std::span<const float> logits = session.eval(prompt);
  for (int64_t i = 0; i < options.n_predict; ++i) {
    if (options.cancel && options.cancel->load(std::memory_order_relaxed)) {
      result.stop_reason = StopReason::cancelled;
      return result;
    }
    if (constrained && matcher->finished()) {
      result.stop_reason = StopReason::eog;
      break;
    }
    std::span<const float> sample_from = logits;
    if (constrained) {
      masked.assign(logits.begin(), logits.end());
      matcher->apply(masked);
      sample_from = masked;
    }
    const TokenId next = sampler.sample(sample_from);
    if (constrained && !matcher->accept(next)) {
      throw Error(Errc::internal, "generate: the sampler chose a token the constraint does not allow");
    }
    if (matcher && !constrained && !options.constraint->vocabulary().is_eog(next)) {
      free_text += options.constraint->vocabulary().piece(next);
      const size_t at = free_text.find(options.constraint_trigger);
      if (at != std::string::npos) {  // the trigger is out: from its first byte on, the constraint holds
        constrained = true;
        if (!matcher->accept_bytes(std::string_view(free_text).substr(at))) {
          // What the model wrote after the trigger, within this token, already leaves the language.
          sampler.accept(next);
          result.tokens.push_back(next);
          emit(decoder.push(next));
          result.stop_reason = StopReason::eog;
          break;
        }
      }
    }
    if (std::binary_search(eog.begin(), eog.end(), next) || (constrained && matcher->finished() && matcher->steps() &&
                                                             options.constraint->vocabulary().is_eog(next))) {
      result.stop_reason = StopReason::eog;
      break;
    }
    sampler.accept(next);
    result.tokens.push_back(next);
    if (!emit(decoder.push(next))) return result;
    if (constrained && matcher->finished()) {  // the constraint's text is complete: nothing may follow
      result.stop_reason = StopReason::eog;
      break;
    }
    if (i + 1 == options.n_predict) break;  // no need to run the last token
    if (session.n_past() >= session.n_ctx()) {
      result.stop_reason = StopReason::context_full;
      break;
    }
    logits = session.eval(std::span<const TokenId>(&next, 1));
  }
  // Generation is over: the rest of the text still goes through the matcher (it may complete a stop string), but
  // a callback that declines it does not change why generation stopped.
  const StopReason reason = result.stop_reason;
  if (emit(decoder.flush())) {
    const std::string rest = stops.flush();
    if (!rest.empty() && on_text) on_text(rest);
  }
  if (result.stop_reason == StopReason::cancelled) result.stop_reason = reason;
  return result;
}

}  // namespace qtr
