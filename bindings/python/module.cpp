// qtr._qtr — Python bindings of qtr's C++ API (the public package is `qtr`, python/qtr/__init__.py).
#include <pybind11/pybind11.h>

#include "bindings.hpp"
#include "errors.hpp"

PYBIND11_MODULE(_qtr, m) {
  m.doc() =
      "qtr's C++ runtime for quantized transformers: load a GGUF model, tokenize, generate (streamed, optionally "
      "constrained by a grammar or JSON Schema), chat, logits and embeddings. "
      "Import the `qtr` package rather than this module.";
  qtr::python::register_errors(m);
  qtr::python::bind_text_stream(m);
  qtr::python::bind_constraint(m);
  qtr::python::bind_model(m);
}
