// Python exceptions for qtr::Error: qtr.Error (a RuntimeError) and one subclass per qtr::Errc, each also deriving
// from the closest built-in exception (InvalidArgument is a ValueError, IOError an OSError, ...).
#pragma once

#include <pybind11/pybind11.h>

#include <string>

#include "qtr/error.hpp"

namespace qtr::python {

// Creates the exception classes as attributes of `module` and registers the qtr::Error translator.
void register_errors(pybind11::module_& module);

// Sets the Python error for `code` with `message` (decoded as UTF-8, invalid bytes replaced); the exception
// carries `.code`, the category as an identifier ("invalid_argument").
void set_error(Errc code, const std::string& message);

// Sets qtr.FileNotFoundError (a qtr.IOError and a FileNotFoundError, errno ENOENT, `.path`) for a model path that
// does not exist.
void set_file_not_found(const std::string& message, const std::string& path);

}  // namespace qtr::python
