// The pieces of the qtr._qtr module, each defined in its own file and called from module.cpp.
#pragma once

#include <pybind11/pybind11.h>

namespace qtr::python {

void bind_text_stream(pybind11::module_& module);  // stream_binding.cpp
void bind_model(pybind11::module_& module);        // model_binding.cpp
void bind_constraint(pybind11::module_& module);   // constraint_binding.cpp

}  // namespace qtr::python
