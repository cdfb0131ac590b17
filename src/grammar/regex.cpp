// (being written)
#include "grammar/regex.hpp"
#include "qtr/error.hpp"
namespace qtr::grammar {
std::string regex_to_gbnf(std::string_view, const RegexOptions&, GbnfWriter&) { throw Error(Errc::unsupported, "regex: not yet"); }
std::string char_set_to_gbnf(const CodePointSet&, RegexEncoding, GbnfWriter&) { throw Error(Errc::unsupported, "regex: not yet"); }
}  // namespace qtr::grammar
