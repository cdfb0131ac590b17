// Reading a constraint from the command line: a file, inline JSON, a regex or choices, with the JSON options.
#include "constraint_args.hpp"

#include <filesystem>

namespace qtr::cli {

bool has_constraint(const Args& args) {
  const int n = args.has("--grammar") + args.has("--json-schema") + args.has("--regex") +
                !args.strings("--choice").empty() + args.flag("--json-object");
  if (n > 1) throw UsageError{"give at most one of --grammar, --json-schema, --regex, --choice and --json-object"};
  return n == 1;
}

std::shared_ptr<const Constraint> compile_constraint(const Args& args, std::shared_ptr<const TokenVocabulary> vocab,
                                                     bool for_generation) {
  ConstraintOptions o;
  o.bounded_numbers = for_generation;
  o.lenient = args.flag("--lenient");
  o.compact_json = args.flag("--compact-json");
  if (args.has("--grammar")) return Constraint::from_gbnf(read_text_file(args.require("--grammar")), vocab, o);
  if (args.has("--json-schema")) {
    const std::string v = args.require("--json-schema");
    const size_t first = v.find_first_not_of(" \t\r\n");
    const bool inline_json = first != std::string::npos && (v[first] == '{' || v[first] == '[' || v == "true" || v == "false");
    return Constraint::from_json_schema(inline_json ? v : read_text_file(v), vocab, o);
  }
  if (args.has("--regex")) return Constraint::from_regex(args.require("--regex"), vocab, o);
  if (args.flag("--json-object")) return Constraint::json(vocab, true, o);
  const std::vector<std::string> choices = args.strings("--choice");
  return Constraint::from_choices(choices, vocab, o);
}

}  // namespace qtr::cli
