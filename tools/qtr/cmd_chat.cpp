// qtr chat — an interactive conversation with a model through its chat template. Each line on stdin is a user
// message; the answer is streamed to stdout, followed by a newline. "/reset" starts over, "/exit" (or end of
// input) quits. When stdin is a terminal, a "> " prompt is shown on stderr.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "commands.hpp"
#include "constraint_args.hpp"
#include "tool_args.hpp"
#include "load_args.hpp"
#include "default_model.hpp"
#include "qtr/chat.hpp"
#include "qtr/error.hpp"
#include "sampling_args.hpp"

namespace qtr::cli {

namespace {

constexpr OptionSpec kChatOptions[] = {
    {"--model", "PATH", "GGUF model file or Hugging Face directory (default: SmolLM2-135M-Instruct)"},
    {"--system", "TEXT", "system message"},
    {"--chat-template", "FILE", "Jinja chat template to use instead of the model's own"},
    {"--n-predict", "N", "tokens to generate at most per answer (default 512)"},
    {"--threads", "N", "threads (default: all hardware threads)"},
    {"--ctx", "N", "context length (default: the model's, at most 4096)"},
    {"--kv-type", "TYPE", "element type of the KV cache: f16 (default), q8_0 or f32"},
    kMatmulInputsOption,
    QTR_CONSTRAINT_OPTION_SPECS,
    QTR_TOOL_OPTION_SPECS,
};
constexpr auto kOptions = with_sampling_options(kChatOptions);

std::optional<std::string> read_template_file(const Args& args) {
  const auto path = args.string("--chat-template");
  if (!path) return std::nullopt;
  return read_text_file(*path);
}

int chat(const Args& args) {
  if (!args.positional().empty()) throw UsageError{"unexpected argument '" + args.positional()[0] + "'"};
  const std::string path = model_path_or_default(args);
  LoadOptions load;
  read_matmul_inputs(args, load);
  load.n_threads = static_cast<int>(args.integer("--threads", 0, 1, 1024));
  GenerateOptions gen;
  gen.n_predict = args.integer("--n-predict", 512, 1, int64_t(1) << 30);
  SamplingArgs sampling = parse_sampling_args(args);
  gen.sampling = std::move(sampling.params);
  gen.stop = std::move(sampling.stop);
  SessionOptions session_options;
  session_options.n_ctx = args.integer("--ctx", 0, 1, int64_t(1) << 24);
  session_options.kv_type = args.string("--kv-type").value_or("f16");
  const std::optional<std::string> template_source = read_template_file(args);

  const auto model = Model::load(path, load);
  validate(gen.sampling, model->tokenizer().n_vocab());
  if (has_constraint(args) && !args.has("--tools")) {
    gen.constraint = compile_constraint(args, model->token_vocabulary(), true);  // every answer
  }
  ChatSession session(model, session_options, template_source, args.string("--chat-template").value_or(""));
  session.set_system(args.string("--system").value_or(""));
  // Tools: rendered through the template (or, without tool support there, described in the system turn); each
  // answer is constrained to the template's call syntax and printed as an OpenAI-style message in JSON.
  std::vector<ChatMessage> system;
  if (auto text = args.string("--system")) system.push_back({"system", *text});
  const std::optional<ToolSetup> tools =
      setup_tools(args, *model, template_source.value_or(model->chat_template()), system, gen);
  if (tools) {
    if (has_constraint(args)) throw UsageError{"--tools and a constraint option cannot be combined"};
    Json::Object vars;
    for (const auto& [k, v] : tools->variables.as_object("tool variables")) {
      if (k == "tools") vars.emplace_back(k, v);
      if (k != "messages") continue;
      for (const Json& m : v.as_array("messages")) {  // the system turn, with the generic format's description
        const Json* role = m.find("role");
        const Json* content = m.find("content");
        if (role && content && role->is_string() && content->is_string() && role->as_string("role") == "system") {
          session.set_system(content->as_string("content"));
        }
      }
    }
    session.set_variables(Json(std::move(vars)));
  }

  const bool interactive = isatty(STDIN_FILENO) != 0;
  std::string line;
  for (;;) {
    if (interactive) std::fputs("> ", stderr);
    if (!std::getline(std::cin, line)) break;
    if (line == "/exit" || line == "/quit") break;
    if (line == "/reset") {
      session.reset();
      continue;
    }
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::string answer;
    session.reply(line, gen, [&](std::string_view text) {
      if (tools) {
        answer += text;
        return true;
      }
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
      return true;
    });
    if (tools) std::fputs(tool_reply_json(*tools, answer).c_str(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

const Command kChatCommand{"chat", "Chat with a model through its chat template (one message per line).",
                           "[--model PATH] [--system TEXT] [options]", kOptions, &chat};

}  // namespace qtr::cli
