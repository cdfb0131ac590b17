// Names of stop reasons as the Python API reports them.
#pragma once

#include "qtr/generate.hpp"

namespace qtr::python {

// "max_tokens", "eog", "stop_string", "context_full", "cancelled".
const char* stop_reason_key(StopReason reason);

}  // namespace qtr::python
