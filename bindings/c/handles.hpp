// The structs behind the C API's opaque handles, and the table of live handles that lets every entry point reject
// NULL, freed and foreign handle pointers without reading the memory they point to.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "qtr.h"
#include "qtr/constraint.hpp"
#include "qtr/context.hpp"
#include "qtr/model.hpp"
#include "qtr/sampling.hpp"

struct qtr_model {
  std::shared_ptr<const qtr::Model> model;
  std::vector<qtr::TokenId> eog;  // end-of-generation tokens, sorted
};

struct qtr_context {
  qtr_context(std::shared_ptr<const qtr::Model> m, std::vector<qtr::TokenId> eog_tokens,
              const qtr::ContextOptions& options)
      : model(std::move(m)), eog(std::move(eog_tokens)), context(model, options) {}

  std::shared_ptr<const qtr::Model> model;  // keeps the model alive after qtr_model_free
  std::vector<qtr::TokenId> eog;
  qtr::Context context;
  // The output rows of the last run ([n_outputs][n_vocab]); n_outputs is 0 after a failure.
  const float* logits = nullptr;
  size_t n_outputs = 0;
};

struct qtr_sampler {
  qtr_sampler(qtr::Sampler s, size_t vocab_size) : sampler(std::move(s)), n_vocab(vocab_size) {}
  qtr::Sampler sampler;
  size_t n_vocab = 0;                             // of the model it was created with; 0: none given
  std::optional<qtr::ConstraintMatcher> matcher;  // the attached constraint's progress (sampler_constraint.hpp)
  std::vector<float> masked;                      // scratch: the logits with the constraint's mask applied
};

struct qtr_constraint {
  std::shared_ptr<const qtr::Constraint> constraint;  // samplers share it, so the handle may be freed first
};

namespace qtr::capi {

enum class HandleKind { model, context, sampler, constraint };

// Adds a freshly allocated handle to the table (may throw std::bad_alloc).
void register_handle(const void* handle, HandleKind kind);
// Removes a handle from the table; throws Failure(QTR_ERR_INVALID_HANDLE) when it is not a live handle of `kind`.
void unregister_handle(const void* handle, HandleKind kind, const char* what);
// Throws Failure(QTR_ERR_INVALID_HANDLE) naming `what` when `handle` is NULL or not a live handle of `kind`.
void check_handle(const void* handle, HandleKind kind, const char* what);

inline const qtr_model& model_of(const qtr_model* m) {
  check_handle(m, HandleKind::model, "model");
  return *m;
}
inline qtr_context& context_of(const qtr_context* c) {
  check_handle(c, HandleKind::context, "context");
  return *const_cast<qtr_context*>(c);
}
inline qtr_sampler& sampler_of(const qtr_sampler* s) {
  check_handle(s, HandleKind::sampler, "sampler");
  return *const_cast<qtr_sampler*>(s);
}
inline const qtr_constraint& constraint_of(const qtr_constraint* c) {
  check_handle(c, HandleKind::constraint, "constraint");
  return *c;
}

}  // namespace qtr::capi
