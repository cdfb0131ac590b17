// Constrained decoding from Python: the keyword arguments generate() and chat() take (grammar=, json_schema=,
// regex=, choices=, constraint=, lenient=; chat's OpenAI-shaped response_format=), compiled into a qtr::Constraint
// for the model's vocabulary, and qtr.Constraint, a compiled constraint to reuse across calls.
#pragma once

#include <pybind11/pybind11.h>

#include <memory>
#include <string>

#include "qtr/constraint.hpp"
#include "qtr/model.hpp"

namespace qtr::python {

// What a qtr.Constraint holds: the compiled constraint (immutable, shared with the generations that use it).
struct PyConstraint {
  std::shared_ptr<const Constraint> constraint;
  std::string kind;  // "gbnf", "json_schema", "regex", "choices", "json_object"
};

// The constraint keywords of one call; None (or false) when not given. At most one of the sources may be set.
struct ConstraintArgs {
  pybind11::object grammar = pybind11::none();      // str: GBNF
  pybind11::object json_schema = pybind11::none();  // dict or str (JSON text)
  pybind11::object regex = pybind11::none();        // str
  pybind11::object choices = pybind11::none();      // sequence of str
  pybind11::object constraint = pybind11::none();   // qtr.Constraint
  bool json_object = false;
  bool lenient = false;
  bool compact_json = false;
  bool allow_unused_rules = false;
};

// Folds chat's response_format ({"type": "text" | "json_object" | "json_schema", ...}) into `args`:
// qtr.InvalidArgument for an unknown type, a missing schema, or a response_format given with another constraint;
// TypeError for wrong types. json_schema's "strict": false (or absent) compiles leniently.
ConstraintArgs with_response_format(pybind11::handle response_format, ConstraintArgs args);

// Compiles the constraint `args` asks for (the GIL released while compiling), or returns the qtr.Constraint given
// (checked against the model's vocabulary); nullptr when none. qtr.InvalidArgument when more than one is given.
std::shared_ptr<const Constraint> resolve_constraint(const Model& model, const ConstraintArgs& args);

// Like resolve_constraint, but never null: the qtr.Constraint object for Model.compile_constraint.
PyConstraint compile_constraint(const Model& model, const ConstraintArgs& args);

}  // namespace qtr::python
