// Embeddings: the model's final hidden state (after the output norm), pooled over a text's tokens.
#pragma once

#include <span>
#include <vector>

#include "qtr/context.hpp"

namespace qtr {

enum class Pooling {
  mean,  // average over every token
  last,  // the last token's state (decoder models' usual sentence embedding)
};

// Runs `tokens` (not empty) in a fresh sequence of `context` (removed again afterwards, also on error) and returns
// the pooled hidden state ([n_embd]), scaled to unit L2 norm when `normalize` is set.
std::vector<float> embed(Context& context, std::span<const TokenId> tokens, Pooling pooling = Pooling::mean,
                         bool normalize = true);

}  // namespace qtr
