// Embeddings: qtr::embed into a caller buffer.
#include "handles.hpp"
#include "io_helpers.hpp"
#include "qtr/embedding.hpp"

using namespace qtr::capi;

extern "C" {

qtr_status qtr_embed(qtr_context* context, const qtr_token* tokens, size_t n_tokens, qtr_pooling pooling,
                     int normalize, float* embedding, size_t capacity, size_t* n_embd) {
  return guard([&] {
    qtr_context& c = context_of(context);
    require(n_embd, "n_embd");
    check_buffer(embedding, capacity, "embedding");
    if (tokens == nullptr || n_tokens == 0) invalid("qtr_embed needs at least one token");
    qtr::Pooling how = qtr::Pooling::mean;
    const int pooling_value = enum_value(pooling);
    switch (pooling_value) {
      case QTR_POOLING_MEAN: how = qtr::Pooling::mean; break;
      case QTR_POOLING_LAST: how = qtr::Pooling::last; break;
      default: invalid("pooling " + std::to_string(pooling_value) + " is not a qtr_pooling");
    }
    const auto width = static_cast<size_t>(c.model->config().n_embd);
    *n_embd = width;
    if (capacity < width) {  // checked before running anything
      fail(QTR_ERR_BUFFER_TOO_SMALL, "buffer too small: need " + std::to_string(width) + " floats, capacity is " +
                                         std::to_string(capacity));
    }
    c.n_outputs = 0;  // embed runs the context: the last decode's rows are gone
    const std::vector<float> v = qtr::embed(c.context, std::span<const qtr::TokenId>(tokens, n_tokens), how,
                                            normalize != 0);
    std::copy(v.begin(), v.end(), embedding);
  });
}

}  // extern "C"
