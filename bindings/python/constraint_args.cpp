#include "constraint_args.hpp"

#include <string_view>
#include <vector>

#include "convert.hpp"
#include "qtr/error.hpp"

namespace py = pybind11;

namespace qtr::python {

namespace {

std::string type_name(py::handle h) { return std::string(py::str(py::type::of(h).attr("__name__"))); }

std::string str_argument(py::handle value, const char* name) {
  if (!py::isinstance<py::str>(value)) {
    throw py::type_error(std::string(name) + " must be a str, got " + type_name(value));
  }
  return value.cast<std::string>();
}

// A dict (serialised with json.dumps) or a str holding JSON text.
std::string schema_text(py::handle schema, const char* name) {
  if (py::isinstance<py::str>(schema)) return schema.cast<std::string>();
  if (py::isinstance<py::dict>(schema) || py::isinstance<py::bool_>(schema)) {  // true / false are schemas too
    return py::module_::import("json").attr("dumps")(schema).cast<std::string>();
  }
  throw py::type_error(std::string(name) + " must be a dict or a str of JSON, got " + type_name(schema));
}

std::vector<std::string> choice_texts(py::handle choices) {
  if (py::isinstance<py::str>(choices) || py::isinstance<py::bytes>(choices) ||
      !py::isinstance<py::sequence>(choices)) {
    throw py::type_error("choices must be a sequence of str, got " + type_name(choices));
  }
  std::vector<std::string> out;
  for (py::handle item : choices) {
    if (!py::isinstance<py::str>(item)) {
      throw py::type_error("choices must be a sequence of str, got a " + type_name(item));
    }
    out.push_back(item.cast<std::string>());
  }
  if (out.empty()) throw Error(Errc::invalid_argument, "choices is empty");
  return out;
}

bool same_vocabulary(const TokenVocabulary& a, const TokenVocabulary& b) {
  if (&a == &b) return true;
  if (a.n_vocab() != b.n_vocab() || a.eog() != b.eog()) return false;
  for (size_t t = 0; t < a.n_vocab(); ++t) {
    if (a.piece(static_cast<TokenId>(t)) != b.piece(static_cast<TokenId>(t))) return false;
  }
  return true;
}

// The names of the sources given, for "at most one" errors.
std::vector<const char*> sources_given(const ConstraintArgs& a) {
  std::vector<const char*> given;
  if (!a.grammar.is_none()) given.push_back("grammar");
  if (!a.json_schema.is_none()) given.push_back("json_schema");
  if (!a.regex.is_none()) given.push_back("regex");
  if (!a.choices.is_none()) given.push_back("choices");
  if (!a.constraint.is_none()) given.push_back("constraint");
  if (a.json_object) given.push_back("json_object");
  return given;
}

}  // namespace

ConstraintArgs with_response_format(py::handle response_format, ConstraintArgs args) {
  if (response_format.is_none()) return args;
  if (!py::isinstance<py::dict>(response_format)) {
    throw py::type_error("response_format must be a dict such as {'type': 'json_object'}, got " +
                         type_name(response_format));
  }
  const py::dict format = response_format.cast<py::dict>();
  if (!format.contains("type")) throw Error(Errc::invalid_argument, "response_format has no 'type'");
  const std::string type = str_argument(format["type"], "response_format['type']");
  if (type == "text") return args;
  if (type != "json_object" && type != "json_schema") {
    throw Error(Errc::invalid_argument,
                "response_format['type'] must be 'text', 'json_object' or 'json_schema', got '" + type + "'");
  }
  const std::vector<const char*> given = sources_given(args);
  if (!given.empty()) {
    throw Error(Errc::invalid_argument, std::string("response_format cannot be combined with ") + given.front());
  }
  if (type == "json_object") {
    args.json_object = true;
    return args;
  }
  if (!format.contains("json_schema") || !py::isinstance<py::dict>(format["json_schema"])) {
    throw Error(Errc::invalid_argument,
                "response_format of type 'json_schema' needs 'json_schema': {'name': ..., 'schema': {...}}");
  }
  const py::dict spec = format["json_schema"].cast<py::dict>();
  if (!spec.contains("schema")) throw Error(Errc::invalid_argument, "response_format['json_schema'] has no 'schema'");
  bool strict = false;
  if (spec.contains("strict") && !spec["strict"].is_none()) {
    if (!py::isinstance<py::bool_>(spec["strict"])) {
      throw py::type_error("response_format['json_schema']['strict'] must be a bool");
    }
    strict = spec["strict"].cast<bool>();
  }
  args.json_schema = spec["schema"];
  if (!strict) args.lenient = true;  // best effort: approximate what cannot be enforced exactly
  return args;
}

std::shared_ptr<const Constraint> resolve_constraint(const Model& model, const ConstraintArgs& args) {
  const std::vector<const char*> given = sources_given(args);
  if (given.empty()) return nullptr;
  if (given.size() > 1) {
    throw Error(Errc::invalid_argument, std::string("give at most one of grammar, json_schema, regex, choices and "
                                                    "constraint (got ") + given[0] + " and " + given[1] + ")");
  }
  if (!args.constraint.is_none()) {
    if (!py::isinstance<PyConstraint>(args.constraint)) {
      throw py::type_error("constraint must be a qtr.Constraint (Model.compile_constraint), got " +
                           type_name(args.constraint));
    }
    std::shared_ptr<const Constraint> c = args.constraint.cast<const PyConstraint&>().constraint;
    if (!same_vocabulary(c->vocabulary(), *model.token_vocabulary())) {
      throw Error(Errc::invalid_argument, "the constraint was compiled for another model's vocabulary");
    }
    return c;
  }
  ConstraintOptions options;
  options.lenient = args.lenient;
  options.compact_json = args.compact_json;
  options.allow_unused_rules = args.allow_unused_rules;
  // Read the Python arguments now; compile without the GIL (a large schema may take a while).
  enum class Kind { gbnf, schema, regex, choices, json_object } kind = Kind::json_object;
  std::string text;
  std::vector<std::string> choices;
  if (!args.grammar.is_none()) {
    kind = Kind::gbnf;
    text = str_argument(args.grammar, "grammar");
  } else if (!args.json_schema.is_none()) {
    kind = Kind::schema;
    text = schema_text(args.json_schema, "json_schema");
  } else if (!args.regex.is_none()) {
    kind = Kind::regex;
    text = str_argument(args.regex, "regex");
  } else if (!args.choices.is_none()) {
    kind = Kind::choices;
    choices = choice_texts(args.choices);
  }
  py::gil_scoped_release release;
  auto vocab = model.token_vocabulary();
  switch (kind) {
    case Kind::gbnf: return Constraint::from_gbnf(text, vocab, options);
    case Kind::schema: return Constraint::from_json_schema(text, vocab, options);
    case Kind::regex: return Constraint::from_regex(text, vocab, options);
    case Kind::choices: return Constraint::from_choices(choices, vocab, options);
    case Kind::json_object: break;
  }
  return Constraint::json(vocab, true, options);
}

PyConstraint compile_constraint(const Model& model, const ConstraintArgs& args) {
  const std::vector<const char*> given = sources_given(args);
  if (given.empty()) {
    throw Error(Errc::invalid_argument, "compile_constraint needs one of grammar, json_schema, regex, choices or "
                                        "json_object=True");
  }
  if (!args.constraint.is_none()) throw Error(Errc::invalid_argument, "compile_constraint takes no constraint");
  PyConstraint out;
  out.constraint = resolve_constraint(model, args);
  out.kind = given.front();
  if (out.kind == "grammar") out.kind = "gbnf";
  return out;
}

}  // namespace qtr::python
