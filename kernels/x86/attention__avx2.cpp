// attention_core.hpp compiled with this file's flags (avx2).
#include "kernels/attention_core.hpp"

namespace qtr::kernels {

void attention_f32__avx2(const AttentionArgs& args, int64_t row_begin, int64_t row_end) {
  attention_rows(args, row_begin, row_end);
}

}  // namespace qtr::kernels
