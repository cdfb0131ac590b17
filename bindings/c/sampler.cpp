// Samplers: a qtr::Sampler behind a handle, with the progress through an attached constraint (constraint.cpp).
#include <memory>

#include "handles.hpp"
#include "io_helpers.hpp"
#include "sampler_constraint.hpp"

using namespace qtr::capi;

namespace {

qtr_sampler_params sampler_defaults() {
  const qtr::SamplingParams d;
  qtr_sampler_params p{};
  p.struct_size = sizeof p;
  p.temperature = d.temperature;
  p.top_k = d.top_k;
  p.top_p = d.top_p;
  p.min_p = d.min_p;
  p.repeat_penalty = d.repeat_penalty;
  p.penalty_last_n = d.penalty_last_n;
  p.presence_penalty = d.presence_penalty;
  p.frequency_penalty = d.frequency_penalty;
  p.seed = d.seed;
  p.logit_bias = nullptr;
  p.n_logit_bias = 0;
  return p;
}

}  // namespace

extern "C" {

qtr_status qtr_sampler_params_init(qtr_sampler_params* params, size_t struct_size) {
  return guard([&] { init_options(params, struct_size, sampler_defaults(), "qtr_sampler_params"); });
}

qtr_status qtr_sampler_create(const qtr_model* model, const qtr_sampler_params* params, qtr_sampler** out_sampler) {
  return guard([&] {
    const size_t n_vocab = model == nullptr ? 0 : model_of(model).model->tokenizer().n_vocab();
    require(out_sampler, "out_sampler");
    qtr_sampler_params p = sampler_defaults();
    read_options(params, p, "qtr_sampler_params");
    if (p.logit_bias == nullptr && p.n_logit_bias != 0) {
      invalid("qtr_sampler_params.logit_bias is NULL but n_logit_bias is " + std::to_string(p.n_logit_bias));
    }
    qtr::SamplingParams s;
    s.temperature = p.temperature;
    s.top_k = p.top_k;
    s.top_p = p.top_p;
    s.min_p = p.min_p;
    s.repeat_penalty = p.repeat_penalty;
    s.penalty_last_n = p.penalty_last_n;
    s.presence_penalty = p.presence_penalty;
    s.frequency_penalty = p.frequency_penalty;
    s.seed = p.seed;
    for (size_t i = 0; i < p.n_logit_bias; ++i) s.logit_bias.push_back({p.logit_bias[i].token, p.logit_bias[i].bias});
    auto handle = std::make_unique<qtr_sampler>(qtr::Sampler(std::move(s), n_vocab), n_vocab);
    register_handle(handle.get(), HandleKind::sampler);
    *out_sampler = handle.release();
  });
}

qtr_status qtr_sampler_free(qtr_sampler* sampler) {
  return guard([&] {
    if (sampler == nullptr) return;
    unregister_handle(sampler, HandleKind::sampler, "qtr_sampler_free");
    delete sampler;
  });
}

qtr_status qtr_sampler_sample(qtr_sampler* sampler, const float* logits, size_t n_logits, qtr_token* out_token) {
  return guard([&] {
    qtr_sampler& s = sampler_of(sampler);
    require(out_token, "out_token");
    require(logits, "logits");
    if (n_logits == 0) invalid("n_logits is 0");
    *out_token = sample_constrained(s, std::span<const float>(logits, n_logits));
  });
}

qtr_status qtr_sampler_accept(qtr_sampler* sampler, const qtr_token* tokens, size_t n_tokens) {
  return guard([&] {
    qtr_sampler& s = sampler_of(sampler);
    if (tokens == nullptr && n_tokens != 0) invalid("tokens is NULL but n_tokens is " + std::to_string(n_tokens));
    for (size_t i = 0; i < n_tokens; ++i) {
      if (tokens[i] < 0) invalid("token " + std::to_string(i) + ": id " + std::to_string(tokens[i]) + " is negative");
    }
    accept_constrained(s, std::span<const qtr::TokenId>(tokens, n_tokens));
  });
}

qtr_status qtr_sampler_reset(qtr_sampler* sampler) {
  return guard([&] {
    qtr_sampler& s = sampler_of(sampler);
    s.sampler.reset();
    if (s.matcher) s.matcher->reset();
  });
}

}  // extern "C"
