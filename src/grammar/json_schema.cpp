// (being written)
#include "grammar/json_schema.hpp"
#include "qtr/error.hpp"
namespace qtr::grammar {
JsonSchemaResult json_schema_to_gbnf(const Json&, const JsonSchemaOptions&) { throw Error(Errc::unsupported, "json-schema: not yet"); }
}  // namespace qtr::grammar
