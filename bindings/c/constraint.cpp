// Constraints: compiling a grammar, JSON Schema, regex, JSON or list of choices for a model's vocabulary into a
// shared, immutable qtr::Constraint behind a handle, and a sampler's progress through one (a ConstraintMatcher the
// sampler owns; it holds the Constraint through a shared_ptr, so the handle may be freed while samplers use it).
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "handles.hpp"
#include "io_helpers.hpp"
#include "qtr/model.hpp"
#include "sampler_constraint.hpp"

using namespace qtr::capi;

namespace qtr::capi {

bool same_vocabulary(const TokenVocabulary& a, const TokenVocabulary& b) {
  if (&a == &b) return true;
  if (a.n_vocab() != b.n_vocab() || a.eog() != b.eog()) return false;
  for (size_t t = 0; t < a.n_vocab(); ++t) {
    if (a.piece(static_cast<TokenId>(t)) != b.piece(static_cast<TokenId>(t))) return false;
  }
  return true;
}

TokenId sample_constrained(qtr_sampler& s, std::span<const float> logits) {
  if (!s.matcher) return s.sampler.sample(logits);
  s.masked.assign(logits.begin(), logits.end());
  s.matcher->apply(s.masked);
  return s.sampler.sample(s.masked);
}

void accept_constrained(qtr_sampler& s, std::span<const TokenId> tokens) {
  if (s.matcher) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (!s.matcher->accept(tokens[i])) {
        const bool finished = s.matcher->finished();
        s.matcher->rollback(i);
        invalid("token " + std::to_string(i) + " (id " + std::to_string(tokens[i]) + ") is not allowed by the " +
                "sampler's constraint" + (finished ? " (its text is already complete)" : "") +
                "; no token was accepted");
      }
    }
  }
  s.sampler.accept(tokens);
}

}  // namespace qtr::capi

namespace {

qtr_constraint_options constraint_defaults() {
  const qtr::ConstraintOptions d;
  qtr_constraint_options o{};
  o.struct_size = sizeof o;
  o.lenient = d.lenient ? 1 : 0;
  o.compact_json = d.compact_json ? 1 : 0;
  o.allow_unused_rules = d.allow_unused_rules ? 1 : 0;
  o.json_whitespace = d.json_whitespace;
  return o;
}

qtr::ConstraintOptions to_options(const qtr_constraint_options* options) {
  qtr_constraint_options o = constraint_defaults();
  read_options(options, o, "qtr_constraint_options");
  if (o.json_whitespace < 0) invalid("qtr_constraint_options.json_whitespace must be >= 0");
  qtr::ConstraintOptions out;
  out.lenient = o.lenient != 0;
  out.compact_json = o.compact_json != 0;
  out.allow_unused_rules = o.allow_unused_rules != 0;
  out.json_whitespace = o.json_whitespace;
  return out;
}

void hand_out(std::shared_ptr<const qtr::Constraint> compiled, qtr_constraint** out) {
  auto handle = std::make_unique<qtr_constraint>();
  handle->constraint = std::move(compiled);
  register_handle(handle.get(), HandleKind::constraint);
  *out = handle.release();
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) {
    if (!text.empty()) text += '\n';
    text += line;
  }
  return text;
}

}  // namespace

extern "C" {

qtr_status qtr_constraint_options_init(qtr_constraint_options* options, size_t struct_size) {
  return guard([&] { init_options(options, struct_size, constraint_defaults(), "qtr_constraint_options"); });
}

qtr_status qtr_constraint_create(const qtr_model* model, qtr_constraint_kind kind, const char* text, size_t length,
                                 const qtr_constraint_options* options, qtr_constraint** out_constraint) {
  return guard([&] {
    const qtr_model& m = model_of(model);
    require(out_constraint, "out_constraint");
    if (text == nullptr && length != 0) invalid("text is NULL but its length is " + std::to_string(length));
    const std::string_view source = text == nullptr ? std::string_view() : std::string_view(text, length);
    check_utf8(source, "the constraint's text");
    const qtr::ConstraintOptions o = to_options(options);
    const int k = enum_value(kind);
    if ((k == QTR_CONSTRAINT_JSON_OBJECT || k == QTR_CONSTRAINT_JSON) && !source.empty()) {
      invalid("QTR_CONSTRAINT_JSON and QTR_CONSTRAINT_JSON_OBJECT take no text (NULL, 0)");
    }
    auto vocab = m.model->token_vocabulary();
    switch (k) {
      case QTR_CONSTRAINT_GBNF: return hand_out(qtr::Constraint::from_gbnf(source, vocab, o), out_constraint);
      case QTR_CONSTRAINT_JSON_SCHEMA:
        return hand_out(qtr::Constraint::from_json_schema(source, vocab, o), out_constraint);
      case QTR_CONSTRAINT_REGEX: return hand_out(qtr::Constraint::from_regex(source, vocab, o), out_constraint);
      case QTR_CONSTRAINT_JSON_OBJECT: return hand_out(qtr::Constraint::json(vocab, true, o), out_constraint);
      case QTR_CONSTRAINT_JSON: return hand_out(qtr::Constraint::json(vocab, false, o), out_constraint);
      default: invalid("unknown qtr_constraint_kind " + std::to_string(k));
    }
  });
}

qtr_status qtr_constraint_create_choices(const qtr_model* model, const char* const* choices, size_t n_choices,
                                         const qtr_constraint_options* options, qtr_constraint** out_constraint) {
  return guard([&] {
    const qtr_model& m = model_of(model);
    require(out_constraint, "out_constraint");
    if (choices == nullptr || n_choices == 0) invalid("qtr_constraint_create_choices needs at least one choice");
    std::vector<std::string> texts;
    texts.reserve(n_choices);
    for (size_t i = 0; i < n_choices; ++i) texts.emplace_back(c_string(choices[i], "choice " + std::to_string(i)));
    const qtr::ConstraintOptions o = to_options(options);
    hand_out(qtr::Constraint::from_choices(texts, m.model->token_vocabulary(), o), out_constraint);
  });
}

qtr_status qtr_constraint_free(qtr_constraint* constraint) {
  return guard([&] {
    if (constraint == nullptr) return;
    unregister_handle(constraint, HandleKind::constraint, "qtr_constraint_free");
    delete constraint;
  });
}

qtr_status qtr_constraint_gbnf(const qtr_constraint* constraint, char* text, size_t capacity, size_t* length) {
  return guard([&] {
    const qtr_constraint& c = constraint_of(constraint);
    require(length, "length");
    check_buffer(text, capacity, "text");
    write_text(c.constraint->gbnf(), text, capacity, length);
  });
}

qtr_status qtr_constraint_relaxed(const qtr_constraint* constraint, char* text, size_t capacity, size_t* length) {
  return guard([&] {
    const qtr_constraint& c = constraint_of(constraint);
    require(length, "length");
    check_buffer(text, capacity, "text");
    write_text(joined(c.constraint->relaxed()), text, capacity, length);
  });
}

qtr_status qtr_sampler_set_constraint(qtr_sampler* sampler, const qtr_constraint* constraint) {
  return guard([&] {
    qtr_sampler& s = sampler_of(sampler);
    if (constraint == nullptr) {
      s.matcher.reset();
      return;
    }
    const qtr_constraint& c = constraint_of(constraint);
    const size_t n_vocab = c.constraint->vocabulary().n_vocab();
    if (s.n_vocab != 0 && s.n_vocab != n_vocab) {
      invalid("the constraint was compiled for a vocabulary of " + std::to_string(n_vocab) +
              " tokens, the sampler's model has " + std::to_string(s.n_vocab));
    }
    s.matcher.emplace(c.constraint);
  });
}

qtr_status qtr_sampler_constraint_state(const qtr_sampler* sampler, int* accepting, int* finished) {
  return guard([&] {
    const qtr_sampler& s = sampler_of(sampler);
    const bool a = s.matcher ? s.matcher->accepting() : true;
    const bool f = s.matcher ? s.matcher->finished() : false;
    if (accepting != nullptr) *accepting = a ? 1 : 0;
    if (finished != nullptr) *finished = f ? 1 : 0;
  });
}

qtr_status qtr_sampler_constraint_rollback(qtr_sampler* sampler, size_t n) {
  return guard([&] {
    qtr_sampler& s = sampler_of(sampler);
    if (!s.matcher) invalid("qtr_sampler_constraint_rollback: the sampler has no constraint");
    if (n > s.matcher->steps()) {
      invalid("qtr_sampler_constraint_rollback: " + std::to_string(n) + " tokens, but only " +
              std::to_string(s.matcher->steps()) + " were accepted since the constraint was attached or reset");
    }
    s.matcher->rollback(n);
  });
}

qtr_status qtr_sampler_constraint_apply(qtr_sampler* sampler, float* logits, size_t n_logits) {
  return guard([&] {
    qtr_sampler& s = sampler_of(sampler);
    if (logits == nullptr && n_logits != 0) invalid("logits is NULL but n_logits is " + std::to_string(n_logits));
    if (s.matcher && n_logits != 0) s.matcher->apply(std::span<float>(logits, n_logits));
  });
}

}  // extern "C"
