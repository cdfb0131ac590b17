// A sampler's constraint at the C boundary: the mask applied before the chain, tokens accepted through the matcher
// (all or none), and the check that a constraint was compiled for a context's vocabulary. Defined in constraint.cpp.
#pragma once

#include <span>

#include "handles.hpp"

namespace qtr::capi {

// True when both vocabularies give every token the same bytes and have the same end-of-generation ids (the same
// object, in practice: a model builds its TokenVocabulary once).
bool same_vocabulary(const TokenVocabulary& a, const TokenVocabulary& b);

// Samples from `logits`, masked first when the sampler has a constraint.
TokenId sample_constrained(qtr_sampler& s, std::span<const float> logits);

// Advances the constraint by `tokens` (none of them, and QTR_ERR_INVALID_ARGUMENT naming the first refused one, when
// it does not allow them all), then adds them to the penalty window.
void accept_constrained(qtr_sampler& s, std::span<const TokenId> tokens);

}  // namespace qtr::capi
