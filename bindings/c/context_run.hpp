// Running a batch through a C API context, keeping its output rows for qtr_get_logits.
#pragma once

#include <span>

#include "handles.hpp"

namespace qtr::capi {

// Decodes `batch` in c's context and records its output rows (none after a failure).
void run_batch(qtr_context& c, std::span<const qtr::BatchEntry> batch);

}  // namespace qtr::capi
