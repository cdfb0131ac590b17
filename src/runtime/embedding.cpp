#include "qtr/embedding.hpp"

#include <cmath>

#include "qtr/error.hpp"

namespace qtr {

std::vector<float> embed(Context& context, std::span<const TokenId> tokens, Pooling pooling, bool normalize) {
  if (tokens.empty()) throw Error(Errc::invalid_argument, "embed needs at least one token");
  const auto n_embd = static_cast<size_t>(context.model().config().n_embd);
  const SeqId seq = context.create_sequence();
  std::vector<double> sum(n_embd, 0.0);
  try {
    std::vector<BatchEntry> batch(tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i) {
      batch[i] = {seq, tokens[i], static_cast<int64_t>(i), pooling == Pooling::mean || i + 1 == tokens.size()};
    }
    context.decode(batch);
    const std::span<const float> hidden = context.hidden_states();  // [rows][n_embd]
    const size_t rows = hidden.size() / n_embd;
    for (size_t r = 0; r < rows; ++r) {
      for (size_t j = 0; j < n_embd; ++j) sum[j] += hidden[r * n_embd + j];
    }
    for (double& v : sum) v /= static_cast<double>(rows);
  } catch (...) {
    context.remove_sequence(seq);
    throw;
  }
  context.remove_sequence(seq);
  double norm = 0.0;
  for (double v : sum) norm += v * v;
  norm = std::sqrt(norm);
  std::vector<float> out(n_embd);
  for (size_t j = 0; j < n_embd; ++j) {
    out[j] = static_cast<float>(normalize && norm > 0.0 ? sum[j] / norm : sum[j]);
  }
  return out;
}

}  // namespace qtr
