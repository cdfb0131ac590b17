// Error handling at the C boundary: every entry point runs its body inside guard(), which turns any exception into
// a qtr_status and this thread's last-error message, so that no C++ exception crosses into C.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "qtr.h"

namespace qtr::capi {

// A failure the C API itself reports (bad handles, small buffers, cancellation), with its status.
class Failure : public std::runtime_error {
 public:
  Failure(qtr_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  qtr_status status() const noexcept { return status_; }

 private:
  qtr_status status_;
};

[[noreturn]] inline void fail(qtr_status status, const std::string& message) { throw Failure(status, message); }
[[noreturn]] inline void invalid(const std::string& message) { fail(QTR_ERR_INVALID_ARGUMENT, message); }

void set_last_error(const char* message) noexcept;
// Maps the exception being handled to a status and records its message.
qtr_status status_from_current_exception() noexcept;

template <class Body>
qtr_status guard(Body&& body) noexcept {
  try {
    body();
  } catch (...) {
    return status_from_current_exception();
  }
  set_last_error("");
  return QTR_OK;
}

}  // namespace qtr::capi
