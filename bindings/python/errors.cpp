#include "errors.hpp"

#include <cerrno>

#include "convert.hpp"

namespace py = pybind11;

namespace qtr::python {

namespace {

// The exception classes, created once per interpreter by register_errors.
struct ErrorTypes {
  py::object base, invalid_argument, bad_format, unsupported, io, out_of_memory, internal, file_not_found;

  const py::object& of(Errc code) const {
    switch (code) {
      case Errc::invalid_argument: return invalid_argument;
      case Errc::bad_format: return bad_format;
      case Errc::unsupported: return unsupported;
      case Errc::io: return io;
      case Errc::out_of_memory: return out_of_memory;
      case Errc::internal: return internal;
    }
    return base;
  }
};

PYBIND11_CONSTINIT py::gil_safe_call_once_and_store<ErrorTypes> error_types;

py::object new_exception(py::module_& module, const char* name, const char* doc, py::tuple bases) {
  const std::string qualified = std::string("qtr.") + name;
  PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
  if (!type) throw py::error_already_set();
  py::object result = py::reinterpret_steal<py::object>(type);
  module.attr(name) = result;
  return result;
}

py::tuple bases(py::handle a, py::handle b = py::handle()) {
  if (b) return py::make_tuple(a, b);
  return py::make_tuple(a);
}

// The category as a Python identifier ("invalid_argument"), for the exceptions' `code` attribute.
const char* code_key(Errc code) {
  switch (code) {
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::bad_format: return "bad_format";
    case Errc::unsupported: return "unsupported";
    case Errc::io: return "io";
    case Errc::out_of_memory: return "out_of_memory";
    case Errc::internal: return "internal";
  }
  return "internal";
}

// Raises an instance of `type` built from `message`, with `.code` set.
void raise_instance(const py::object& type, Errc code, const std::string& message) {
  py::object exc = type(utf8_to_str(message));
  exc.attr("code") = code_key(code);
  PyErr_SetObject(type.ptr(), exc.ptr());
}

}  // namespace

void register_errors(py::module_& m) {
  error_types.call_once_and_store_result([&]() {
    ErrorTypes t;
    py::handle builtins_value_error = PyExc_ValueError, builtins_os_error = PyExc_OSError;
    t.base = new_exception(m, "Error",
                           "Base class of every error qtr raises; carries the C++ message and `code`, the error "
                           "category ('invalid_argument', 'bad_format', 'unsupported', 'io', 'out_of_memory', "
                           "'internal').",
                           bases(PyExc_RuntimeError));
    t.invalid_argument = new_exception(m, "InvalidArgument",
                                       "A bad argument: option out of range, token id outside the vocabulary, "
                                       "context overflow, ... (also a ValueError).",
                                       bases(t.base, builtins_value_error));
    t.bad_format = new_exception(m, "BadFormat",
                                 "A file's bytes do not form a valid GGUF / safetensors / JSON / tokenizer / chat "
                                 "template.",
                                 bases(t.base));
    t.unsupported = new_exception(m, "Unsupported",
                                  "Recognised but not implemented: tensor type, architecture, template construct "
                                  "(also a NotImplementedError).",
                                  bases(t.base, PyExc_NotImplementedError));
    t.io = new_exception(m, "IOError", "The operating system refused: open, mmap, read (also an OSError).",
                         bases(t.base, builtins_os_error));
    t.out_of_memory = new_exception(m, "OutOfMemory",
                                    "An allocation or a fixed budget (KV cache, template output) ran out (also a "
                                    "MemoryError).",
                                    bases(t.base, PyExc_MemoryError));
    t.internal = new_exception(m, "InternalError", "A bug in qtr.", bases(t.base));
    t.file_not_found = new_exception(m, "FileNotFoundError",
                                     "A model path that does not exist (a qtr.IOError and a built-in "
                                     "FileNotFoundError).",
                                     bases(t.io, PyExc_FileNotFoundError));
    return t;
  });
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      set_error(e.code(), e.what());
    }
  });
}

void set_error(Errc code, const std::string& message) {
  raise_instance(error_types.get_stored().of(code), code, message);
}

void set_file_not_found(const std::string& message, const std::string& path) {
  const py::object& type = error_types.get_stored().file_not_found;
  py::object exc = type(utf8_to_str(message));
  exc.attr("code") = code_key(Errc::io);
  exc.attr("errno") = ENOENT;  // (a filename would make str(exc) "[Errno 2] ...", hiding the C++ message)
  exc.attr("path") = utf8_to_str(path);
  PyErr_SetObject(type.ptr(), exc.ptr());
}

}  // namespace qtr::python
