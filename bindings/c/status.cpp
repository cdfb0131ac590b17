// Status codes, the thread-local last-error message, and the library version.
#include "status.hpp"

#include <cstring>
#include <new>
#include <string>

#include "qtr/error.hpp"

#define QTR_STRINGIFY_(x) #x
#define QTR_STRINGIFY(x) QTR_STRINGIFY_(x)

namespace qtr::capi {

namespace {

thread_local std::string t_last_error;

qtr_status status_of(Errc code) {
  switch (code) {
    case Errc::invalid_argument: return QTR_ERR_INVALID_ARGUMENT;
    case Errc::bad_format: return QTR_ERR_BAD_FORMAT;
    case Errc::unsupported: return QTR_ERR_UNSUPPORTED;
    case Errc::io: return QTR_ERR_IO;
    case Errc::out_of_memory: return QTR_ERR_OUT_OF_MEMORY;
    case Errc::internal: return QTR_ERR_INTERNAL;
  }
  return QTR_ERR_INTERNAL;
}

}  // namespace

void set_last_error(const char* message) noexcept {
  try {
    t_last_error.assign(message);
  } catch (...) {  // no memory for the message: keep a shorter one (clear() never allocates)
    t_last_error.clear();
  }
}

qtr_status status_from_current_exception() noexcept {
  try {
    throw;
  } catch (const Failure& e) {
    set_last_error(e.what());
    return e.status();
  } catch (const Error& e) {
    set_last_error(e.what());
    return status_of(e.code());
  } catch (const std::bad_alloc&) {
    set_last_error("out of memory");
    return QTR_ERR_OUT_OF_MEMORY;
  } catch (const std::length_error& e) {
    set_last_error(e.what());
    return QTR_ERR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    set_last_error(e.what());
    return QTR_ERR_INTERNAL;
  } catch (...) {
    set_last_error("unknown exception inside qtr");
    return QTR_ERR_INTERNAL;
  }
}

}  // namespace qtr::capi

extern "C" {

const char* qtr_version(void) {
  return QTR_STRINGIFY(QTR_VERSION_MAJOR) "." QTR_STRINGIFY(QTR_VERSION_MINOR) "." QTR_STRINGIFY(QTR_VERSION_PATCH);
}

uint32_t qtr_abi_version(void) { return QTR_ABI_VERSION; }

const char* qtr_status_name(qtr_status status) {
  int value;  // any int may come from C: read it through its bytes (see enum_value in io_helpers.hpp)
  static_assert(sizeof value == sizeof status);
  std::memcpy(&value, &status, sizeof value);
  switch (value) {
    case QTR_OK: return "ok";
    case QTR_ERR_INVALID_ARGUMENT: return "invalid argument";
    case QTR_ERR_BAD_FORMAT: return "bad format";
    case QTR_ERR_UNSUPPORTED: return "unsupported";
    case QTR_ERR_IO: return "i/o error";
    case QTR_ERR_OUT_OF_MEMORY: return "out of memory";
    case QTR_ERR_INTERNAL: return "internal error";
    case QTR_ERR_CANCELLED: return "cancelled";
    case QTR_ERR_BUFFER_TOO_SMALL: return "buffer too small";
    case QTR_ERR_INVALID_HANDLE: return "invalid handle";
  }
  return "unknown status";
}

const char* qtr_last_error(void) { return qtr::capi::t_last_error.c_str(); }

}  // extern "C"
