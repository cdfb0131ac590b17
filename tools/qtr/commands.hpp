// The qtr tool's commands; each file defines one.
#pragma once

#include "args.hpp"

namespace qtr::cli {

extern const Command kInspectCommand;
extern const Command kRunCommand;
extern const Command kChatCommand;
extern const Command kTokenizeCommand;
extern const Command kLogitsCommand;
extern const Command kVocabCommand;
extern const Command kQuantizeCommand;
extern const Command kSynthCommand;
extern const Command kBenchCommand;
extern const Command kPerplexityCommand;
extern const Command kTemplateCommand;
extern const Command kGrammarCommand;

}  // namespace qtr::cli
