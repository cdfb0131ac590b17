#include "qtr/error.hpp"

namespace qtr {

const char* errc_name(Errc code) noexcept {
  switch (code) {
    case Errc::invalid_argument: return "invalid argument";
    case Errc::bad_format: return "bad format";
    case Errc::unsupported: return "unsupported";
    case Errc::io: return "i/o error";
    case Errc::out_of_memory: return "out of memory";
    case Errc::internal: return "internal error";
  }
  return "unknown error";
}

}  // namespace qtr
