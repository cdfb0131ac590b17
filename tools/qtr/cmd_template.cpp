// qtr template — render a chat template for a conversation, exactly as transformers' apply_chat_template would
// (jinja2 with trim_blocks and lstrip_blocks). Prints the rendered text with nothing added.
#include <cstdio>

#include "commands.hpp"
#include "qtr/chat_template.hpp"
#include "qtr/error.hpp"
#include "qtr/gguf.hpp"
#include "qtr/json.hpp"
#include "qtr/tool_calls.hpp"
#include "qtr/vocab.hpp"

namespace qtr::cli {

namespace {

constexpr OptionSpec kOptions[] = {
    {"--template", "FILE", "Jinja chat template file"},
    {"--model", "PATH", "GGUF file: template from tokenizer.chat_template, BOS/EOS from its vocabulary"},
    {"--messages", "FILE", "JSON array of messages ({\"role\": ..., \"content\": ...}, other fields kept)"},
    {"--no-generation-prompt", "", "render with add_generation_prompt=false"},
    {"--bos", "TEXT", "bos_token (default: the model's, or empty)"},
    {"--eos", "TEXT", "eos_token (default: the model's, or empty)"},
    {"--var", "NAME=JSON", "an extra top-level variable, e.g. enable_thinking=false (repeatable)", true},
    {"--vars", "JSON", "extra top-level variables as a JSON object, e.g. '{\"tools\": []}'"},
    {"--no-trim-blocks", "", "keep the newline after block tags (jinja2's default; transformers trims it)"},
    {"--no-lstrip-blocks", "", "keep whitespace before block tags (jinja2's default; transformers strips it)"},
    {"--jinja2-tojson", "", "tojson as jinja2's default filter (sorted keys, HTML-safe escapes)"},
    {"--tools", "FILE", "OpenAI function tools (JSON array), passed as the template's tools; tool-call arguments in "
                        "the messages may be JSON strings (as OpenAI sends them)"},
};

std::string token_text(const Vocab& vocab, TokenId id) {
  if (id < 0 || static_cast<size_t>(id) >= vocab.size()) return "";
  return vocab.tokens[static_cast<size_t>(id)];
}

int run(const Args& args) {
  if (!args.positional().empty()) throw UsageError{"unexpected argument '" + args.positional()[0] + "'"};
  if (args.has("--template") == args.has("--model")) throw UsageError{"give exactly one of --template and --model"};
  const std::string messages_path = args.require("--messages");

  std::string source, origin, bos, eos;
  if (args.has("--template")) {
    origin = args.require("--template");
    source = read_text_file(origin);
  } else {
    const std::string path = args.require("--model");
    const GgufFile file = GgufFile::open(path);
    auto tpl = file.get_string("tokenizer.chat_template");
    if (!tpl) throw Error(Errc::invalid_argument, path + ": the model has no tokenizer.chat_template");
    source = std::move(*tpl);
    origin = path + ": tokenizer.chat_template";
    const Vocab vocab = Vocab::from_gguf(file);
    bos = token_text(vocab, vocab.bos);
    eos = token_text(vocab, vocab.eos);
  }
  if (auto b = args.string("--bos")) bos = *b;
  if (auto e = args.string("--eos")) eos = *e;

  ChatTemplateOptions options;
  options.trim_blocks = !args.flag("--no-trim-blocks");
  options.lstrip_blocks = !args.flag("--no-lstrip-blocks");
  if (args.flag("--jinja2-tojson")) options.tojson = ChatTemplateOptions::TojsonStyle::jinja2;
  const ChatTemplate tpl = ChatTemplate::parse(source, origin, options);

  const Json messages = read_json_file(messages_path);
  if (!messages.is_array()) throw Error(Errc::invalid_argument, messages_path + ": expected a JSON array of messages");
  Json::Object vars;
  if (auto tools_path = args.string("--tools")) {
    const auto tools = parse_tools(read_json_file(*tools_path));
    const Json tv = tool_chat_variables(messages, tools, detect_tool_call_format(source), parse_tool_choice(Json(), tools));
    for (const auto& [k, v] : tv.as_object("tool variables")) vars.emplace_back(k, v);
  } else {
    vars.emplace_back("messages", messages);
  }
  vars.emplace_back("add_generation_prompt", Json(!args.flag("--no-generation-prompt")));
  vars.emplace_back("bos_token", Json(bos));
  vars.emplace_back("eos_token", Json(eos));
  auto set_var = [&](const std::string& name, Json value) {
    for (auto& [k, v] : vars) {
      if (k == name) {
        v = std::move(value);
        return;
      }
    }
    vars.emplace_back(name, std::move(value));
  };
  if (auto text = args.string("--vars")) {
    const Json extra = parse_json(*text, "--vars");
    if (!extra.is_object()) throw UsageError{"--vars must be a JSON object"};
    for (const auto& [k, v] : extra.as_object("--vars")) set_var(k, v);
  }
  for (const std::string& var : args.strings("--var")) {
    const size_t eq = var.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError{"--var must look like NAME=JSON, got '" + var + "'"};
    set_var(var.substr(0, eq), parse_json(var.substr(eq + 1), "--var " + var.substr(0, eq)));
  }

  const std::string text = tpl.render_json(Json(std::move(vars)));
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

}  // namespace

const Command kTemplateCommand{
    "template", "Render a chat template for a conversation (as transformers' apply_chat_template).",
    "(--template FILE | --model M.gguf) --messages FILE.json [--no-generation-prompt] [--bos S] [--eos S] "
    "[--var NAME=JSON]... [--vars JSON]",
    kOptions, &run};

}  // namespace qtr::cli
