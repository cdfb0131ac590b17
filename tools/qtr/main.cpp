// qtr — command-line front end: inspect, run, tokenize, logits, vocab.
// Output contracts (relied on by outside checks): `run` prints only generated text on stdout, diagnostics on
// stderr; every error is one line on stderr and a non-zero exit (1 for failures, 2 for usage errors).
#include <array>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "commands.hpp"
#include "qtr/error.hpp"

namespace {

using qtr::cli::Command;

constexpr std::array kCommands = {
    &qtr::cli::kRunCommand,      &qtr::cli::kChatCommand,     &qtr::cli::kBenchCommand,
    &qtr::cli::kPerplexityCommand, &qtr::cli::kInspectCommand, &qtr::cli::kTokenizeCommand,
    &qtr::cli::kLogitsCommand,   &qtr::cli::kQuantizeCommand, &qtr::cli::kSynthCommand,
    &qtr::cli::kVocabCommand,
    &qtr::cli::kTemplateCommand,
    &qtr::cli::kGrammarCommand,
};

void print_overview(std::FILE* out) {
  std::fprintf(out, "usage: qtr <command> [options]\n\nqtr runs small quantized language models on the CPU.\n\n"
                    "commands:\n");
  for (const Command* c : kCommands) {
    std::fprintf(out, "  %-10s %.*s\n", std::string(c->name).c_str(), static_cast<int>(c->summary.size()),
                 c->summary.data());
  }
  std::fprintf(out, "\n'qtr <command> --help' describes a command.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_overview(stderr);
    return 2;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_overview(stdout);
    return 0;
  }
  const Command* command = nullptr;
  for (const Command* c : kCommands) {
    if (c->name == name) command = c;
  }
  if (!command) {
    std::fprintf(stderr, "qtr: unknown command '%s' (see qtr --help)\n", name.c_str());
    return 2;
  }
  std::vector<std::string> rest(argv + 2, argv + argc);
  for (const auto& a : rest) {
    if (a == "--help" || a == "-h") {
      std::fputs(qtr::cli::render_help(*command).c_str(), stdout);
      return 0;
    }
  }
  try {
    const qtr::cli::Args args(command->name, command->options, rest);
    return command->run(args);
  } catch (const qtr::cli::UsageError& e) {
    std::fprintf(stderr, "qtr %s: %s\n", name.c_str(), e.message.c_str());
    return 2;
  } catch (const qtr::Error& e) {
    std::fprintf(stderr, "qtr %s: error: %s\n", name.c_str(), e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "qtr %s: error: out of memory\n", name.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qtr %s: internal error: %s\n", name.c_str(), e.what());
    return 1;
  }
}
