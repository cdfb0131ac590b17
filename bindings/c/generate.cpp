// qtr_generate: the generation loop over one sequence of a context (qtr::generate runs on a Session; this is the
// same loop over Context::decode, so several sequences of one context can be generated in turn). A sampler's
// constraint is enforced as qtr::generate enforces GenerateOptions::constraint: the mask before the chain, an
// end-of-generation token only where the text is complete, and QTR_STOP_EOG once nothing may follow.
#include <algorithm>
#include <optional>

#include "context_run.hpp"
#include "handles.hpp"
#include "io_helpers.hpp"
#include "qtr/tokenizer.hpp"
#include "sampler_constraint.hpp"

using namespace qtr::capi;

namespace {

qtr_generate_options generate_defaults() {
  qtr_generate_options o{};
  o.struct_size = sizeof o;
  o.n_predict = 128;
  o.stop_at_eog = 1;
  o.penalize_prompt = 1;
  return o;
}

std::vector<std::string> stop_strings(const qtr_generate_options& o) {
  if (o.stop == nullptr && o.n_stop != 0) invalid("qtr_generate_options.stop is NULL but n_stop is " +
                                                  std::to_string(o.n_stop));
  std::vector<std::string> stops;
  for (size_t i = 0; i < o.n_stop; ++i) {
    stops.emplace_back(c_string(o.stop[i], "stop string " + std::to_string(i)));
  }
  return stops;
}

// Runs tokens at the end of `seq`, the last one with logits; returns them.
std::span<const float> run_tokens(qtr_context& c, qtr_seq seq, std::span<const qtr::TokenId> tokens) {
  const int64_t start = c.context.sequence_length(seq);
  std::vector<qtr::BatchEntry> batch(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    batch[i] = {seq, tokens[i], start + static_cast<int64_t>(i), i + 1 == tokens.size()};
  }
  run_batch(c, batch);
  return {c.logits, static_cast<size_t>(c.model->config().n_vocab)};
}

}  // namespace

extern "C" {

qtr_status qtr_generate_options_init(qtr_generate_options* options, size_t struct_size) {
  return guard([&] { init_options(options, struct_size, generate_defaults(), "qtr_generate_options"); });
}

qtr_status qtr_generate(qtr_context* context, qtr_seq seq, qtr_sampler* sampler, const qtr_token* prompt,
                        size_t n_prompt, const qtr_generate_options* options, qtr_stop_reason* stop_reason,
                        size_t* n_generated) {
  return guard([&] {
    qtr_context& c = context_of(context);
    if (sampler != nullptr) sampler_of(sampler);
    if (prompt == nullptr || n_prompt == 0) invalid("qtr_generate needs a non-empty prompt (at least BOS)");
    qtr_generate_options o = generate_defaults();
    read_options(options, o, "qtr_generate_options");
    if (o.n_predict < 0) invalid("qtr_generate_options.n_predict must be >= 0");
    if (!c.context.has_sequence(seq)) invalid("unknown sequence " + std::to_string(seq));
    const qtr::Tokenizer& tokenizer = c.model->tokenizer();
    std::optional<qtr::Sampler> greedy;
    if (sampler == nullptr) {
      qtr::SamplingParams params;
      params.temperature = 0.0f;
      greedy.emplace(params, tokenizer.n_vocab());
    }
    qtr::Sampler& chain = sampler != nullptr ? sampler->sampler : *greedy;
    qtr::ConstraintMatcher* matcher = sampler != nullptr && sampler->matcher ? &*sampler->matcher : nullptr;
    if (matcher != nullptr && !same_vocabulary(matcher->constraint().vocabulary(), *c.model->token_vocabulary())) {
      invalid("the sampler's constraint was compiled for another vocabulary than this context's model");
    }
    qtr::StopMatcher stops(stop_strings(o));
    const std::span<const qtr::TokenId> prompt_ids(prompt, n_prompt);
    qtr::StreamingDecoder decoder(tokenizer);
    decoder.prime(prompt_ids);

    qtr_stop_reason reason = QTR_STOP_MAX_TOKENS;
    size_t generated = 0;
    // Passes text through the stop matcher to on_text; false when generation must end.
    auto emit = [&](const std::string& text) {
      const qtr::StopMatcher::Result r = stops.push(text);
      if (!r.text.empty() && o.on_text != nullptr && o.on_text(r.text.data(), r.text.size(), o.user_data) != 0) {
        reason = QTR_STOP_CANCELLED;
        return false;
      }
      if (r.stopped) {
        reason = QTR_STOP_STRING;
        return false;
      }
      return true;
    };

    std::span<const float> logits = run_tokens(c, seq, prompt_ids);  // all-or-nothing: errors leave seq as it was
    if (o.penalize_prompt != 0) chain.accept(prompt_ids);
    bool running = true;
    for (int64_t i = 0; i < o.n_predict && running; ++i) {
      if (matcher != nullptr && matcher->finished()) {  // complete before this call (the sampler carries over)
        reason = QTR_STOP_EOG;
        break;
      }
      const qtr::TokenId next = sampler != nullptr ? sample_constrained(*sampler, logits) : chain.sample(logits);
      if (matcher != nullptr && !matcher->accept(next)) {
        fail(QTR_ERR_INTERNAL, "qtr_generate: the sampler chose a token its constraint does not allow");
      }
      // With a constraint, an end-of-generation token was allowed only because the text is complete: it ends the
      // generation even when stop_at_eog is 0.
      if ((o.stop_at_eog != 0 || matcher != nullptr) && std::binary_search(c.eog.begin(), c.eog.end(), next)) {
        reason = QTR_STOP_EOG;
        break;
      }
      chain.accept(next);
      ++generated;
      if (o.on_token != nullptr && o.on_token(next, o.user_data) != 0) {
        reason = QTR_STOP_CANCELLED;
        break;
      }
      running = emit(decoder.push(next));
      if (!running) break;
      if (matcher != nullptr && matcher->finished()) {  // the constraint's text is complete: nothing may follow
        reason = QTR_STOP_EOG;
        break;
      }
      if (i + 1 == o.n_predict) break;  // the last token need not run
      if (c.context.sequence_length(seq) >= c.context.n_ctx()) {
        reason = QTR_STOP_CONTEXT_FULL;
        break;
      }
      logits = run_tokens(c, seq, std::span<const qtr::TokenId>(&next, 1));
    }
    if (running && reason != QTR_STOP_CANCELLED) {
      // Generation is over: the held-back text still goes through the matcher (it may complete a stop string); a
      // callback that declines it now does not change why generation stopped.
      const qtr_stop_reason before = reason;
      if (emit(decoder.flush())) {
        const std::string rest = stops.flush();
        if (!rest.empty() && o.on_text != nullptr) o.on_text(rest.data(), rest.size(), o.user_data);
      }
      if (reason == QTR_STOP_CANCELLED) reason = before;
    }
    if (stop_reason != nullptr) *stop_reason = reason;
    if (n_generated != nullptr) *n_generated = generated;
    if (reason == QTR_STOP_CANCELLED) fail(QTR_ERR_CANCELLED, "generation cancelled by a callback");
  });
}

}  // extern "C"
