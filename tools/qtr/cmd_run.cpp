// qtr run — generate text from a prompt (or, with --chat, answer it as one chat turn through the model's chat
// template). stdout carries only the generated text. Without --model, the default model is used
// (default_model.hpp).
#include <chrono>
#include <cstdio>
#include <string>

#include "commands.hpp"
#include "constraint_args.hpp"
#include "tool_args.hpp"
#include "load_args.hpp"
#include "default_model.hpp"
#include "qtr/chat.hpp"
#include "qtr/context.hpp"
#include "qtr/error.hpp"
#include "qtr/generate.hpp"
#include "qtr/model.hpp"
#include "sampling_args.hpp"

namespace qtr::cli {

namespace {

constexpr OptionSpec kRunOptions[] = {
    {"--model", "PATH", "GGUF model file or Hugging Face directory (default: SmolLM2-135M-Instruct)"},
    {"--prompt", "TEXT", "text to continue (default: empty, generation starts from BOS)"},
    {"--chat", "", "answer --prompt as a user message through the model's chat template"},
    {"--system", "TEXT", "with --chat: a system message"},
    {"--chat-template", "FILE", "with --chat: a Jinja chat template to use instead of the model's own"},
    {"--n-predict", "N", "tokens to generate at most (default 128)"},
    {"--threads", "N", "threads (default: all hardware threads)"},
    {"--ctx", "N", "context length (default: the model's, at most 4096)"},
    {"--kv-type", "TYPE", "element type of the KV cache: f16 (default), q8_0 or f32"},
    kMatmulInputsOption,
    QTR_CONSTRAINT_OPTION_SPECS,
    QTR_TOOL_OPTION_SPECS,
};
constexpr auto kOptions = with_sampling_options(kRunOptions);

std::string describe_stop(const GenerateResult& result) {
  switch (result.stop_reason) {
    case StopReason::max_tokens: return "stopped at --n-predict";
    case StopReason::eog: return "stopped at end of sequence";
    case StopReason::stop_string: return "stopped at stop string '" + result.stop_string + "'";
    case StopReason::context_full: return "stopped: context full (see --ctx)";
    case StopReason::cancelled: return "cancelled";
  }
  return "";
}

int run(const Args& args) {
  if (!args.positional().empty()) throw UsageError{"unexpected argument '" + args.positional()[0] + "'"};
  const bool chat = args.flag("--chat");
  if (!chat && (args.has("--system") || args.has("--chat-template"))) {
    throw UsageError{"--system and --chat-template need --chat"};
  }
  const std::string path = model_path_or_default(args);
  LoadOptions load;
  read_matmul_inputs(args, load);
  load.n_threads = static_cast<int>(args.integer("--threads", 0, 1, 1024));
  GenerateOptions gen;
  gen.n_predict = args.integer("--n-predict", 128, 0, int64_t(1) << 30);
  SamplingArgs sampling = parse_sampling_args(args);
  gen.sampling = std::move(sampling.params);
  gen.stop = std::move(sampling.stop);
  const bool random_seed = sampling.random_seed;
  SessionOptions session_options;
  session_options.n_ctx = args.integer("--ctx", 0, 1, int64_t(1) << 24);
  session_options.kv_type = args.string("--kv-type").value_or("f16");

  const auto t0 = std::chrono::steady_clock::now();
  const auto model = Model::load(path, load);
  Session session(model, session_options);
  const std::string prompt = args.string("--prompt").value_or("");
  std::vector<TokenId> ids;
  std::optional<ToolSetup> tools;
  if (!chat && (args.has("--tools") || args.has("--tool-choice"))) throw UsageError{"--tools needs --chat"};
  if (chat) {
    std::optional<std::string> source;
    if (auto file = args.string("--chat-template")) source = read_text_file(*file);
    const ChatTemplate tmpl = load_chat_template(*model, source, args.string("--chat-template").value_or(""));
    std::vector<ChatMessage> messages;
    if (auto system = args.string("--system")) messages.push_back({"system", *system});
    messages.push_back({"user", prompt});
    tools = setup_tools(args, *model, source.value_or(model->chat_template()), messages, gen);
    ids = tools ? chat_prompt_tokens(*model, tmpl, {}, true, tools->variables) : chat_prompt_tokens(*model, tmpl, messages);
  } else {
    ids = model->tokenizer().encode(prompt, EncodeOptions{true, false});
  }
  if (ids.empty()) throw Error(Errc::invalid_argument, "the prompt is empty and the vocabulary adds no BOS token");
  validate(gen.sampling, model->tokenizer().n_vocab());  // --logit-bias ids, before anything is printed
  if (has_constraint(args)) {
    if (tools) throw UsageError{"--tools and a constraint option cannot be combined"};
    gen.constraint = compile_constraint(args, model->token_vocabulary(), true);
  }
  const auto t1 = std::chrono::steady_clock::now();
  if (random_seed && gen.sampling.temperature > 0.0f) {  // after loading: a failed load stays a one-line error
    std::fprintf(stderr, "qtr run: seed %llu\n", static_cast<unsigned long long>(gen.sampling.seed));
  }

  std::string reply;
  const GenerateResult result = generate(session, ids, gen, [&](std::string_view text) {
    if (tools) {  // printed as one JSON message at the end
      reply += text;
      return true;
    }
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return true;
  });
  if (tools) std::printf("%s\n", tool_reply_json(*tools, reply).c_str());
  const auto t2 = std::chrono::steady_clock::now();
  const double load_s = std::chrono::duration<double>(t1 - t0).count();
  const double gen_s = std::chrono::duration<double>(t2 - t1).count();
  const KvMemory kv = session.context().kv_memory();
  std::fprintf(stderr,
               "\nqtr run: %zu prompt tokens, %zu generated in %.3f s (%.1f tokens/s), load %.3f s, %s; "
               "KV cache %s: %.1f of %.1f MiB used (%zu bytes/token)\n",
               ids.size(), result.tokens.size(), gen_s,
               gen_s > 0 ? static_cast<double>(result.tokens.size()) / gen_s : 0.0, load_s,
               describe_stop(result).c_str(), session_options.kv_type.c_str(),
               static_cast<double>(kv.bytes_used) / (1 << 20), static_cast<double>(kv.bytes_total) / (1 << 20),
               kv.bytes_per_token);
  return 0;
}

}  // namespace

const Command kRunCommand{"run", "Generate text with a model.", "[--model PATH] [--prompt TEXT] [--chat] [options]", kOptions,
                          &run};

}  // namespace qtr::cli
