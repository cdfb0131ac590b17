// qtr.Constraint: a constraint compiled once for a model's vocabulary (Model.compile_constraint), reusable by any
// number of generations at once (generate(..., constraint=c), chat(..., constraint=c)).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "constraint_args.hpp"
#include "convert.hpp"

namespace py = pybind11;

namespace qtr::python {

void bind_constraint(py::module_& m) {
  py::class_<PyConstraint>(m, "Constraint", R"doc(
A compiled constraint: a GBNF grammar, JSON Schema, regular expression, list of choices or "any JSON object",
compiled once for one model's vocabulary by Model.compile_constraint and enforced token by token by
generate(..., constraint=c) and chat(..., constraint=c). Immutable; may be shared by many generations and threads.
)doc")
      .def_property_readonly(
          "kind", [](const PyConstraint& c) { return c.kind; },
          "What it was compiled from: 'gbnf', 'json_schema', 'regex', 'choices' or 'json_object'.")
      .def_property_readonly(
          "gbnf", [](const PyConstraint& c) { return utf8_to_str(c.constraint->gbnf()); },
          "The grammar it runs, as GBNF text (every kind is compiled to one).")
      .def_property_readonly(
          "relaxed", [](const PyConstraint& c) { return c.constraint->relaxed(); },
          "With lenient=True, what of the JSON Schema was approximated (a list of str; empty otherwise).")
      .def_property_readonly(
          "n_vocab", [](const PyConstraint& c) { return c.constraint->vocabulary().n_vocab(); },
          "The size of the vocabulary it was compiled for.")
      .def(
          "accepts",
          [](const PyConstraint& c, py::handle text) {
            std::string bytes;
            if (py::isinstance<py::str>(text)) {
              bytes = text.cast<std::string>();
            } else if (py::isinstance<py::bytes>(text)) {
              bytes = std::string(text.cast<py::bytes>());
            } else {
              throw py::type_error("accepts() takes a str or bytes");
            }
            py::gil_scoped_release release;
            ConstraintMatcher matcher(c.constraint);
            return matcher.accept_bytes(bytes) && matcher.accepting();
          },
          py::arg("text"),
          "True when the whole of `text` (str, or bytes of UTF-8) is a string of the constraint's language.")
      .def("__repr__", [](const PyConstraint& c) {
        return "<qtr.Constraint " + c.kind + " n_vocab=" + std::to_string(c.constraint->vocabulary().n_vocab()) +
               ">";
      });
}

}  // namespace qtr::python
