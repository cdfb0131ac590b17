// qtr.Model: load a model and run it — tokenize, generate, chat (both optionally constrained), logits, embeddings.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <filesystem>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "constraint_args.hpp"
#include "convert.hpp"
#include "errors.hpp"
#include "model_handle.hpp"
#include "qtr/chat.hpp"
#include "qtr/embedding.hpp"
#include "qtr/error.hpp"
#include "text_stream.hpp"

namespace py = pybind11;

namespace qtr::python {

namespace {

// The Python object: a handle shared with the streams it started.
struct PyModel {
  std::shared_ptr<ModelHandle> handle;
  std::string path;
};

PyModel load_model(const std::filesystem::path& path, int threads, const std::string& kv_type, int64_t n_ctx,
                   const std::string& isa, bool repack, bool mmap, const std::string& matmul_inputs) {
  if (threads < 0) throw Error(Errc::invalid_argument, "threads must be >= 0 (0: all hardware threads)");
  if (n_ctx < 0) throw Error(Errc::invalid_argument, "n_ctx must be >= 0 (0: the training context, at most 4096)");
  LoadOptions load;
  load.n_threads = threads;
  load.isa = isa;
  load.repack = repack;
  load.use_mmap = mmap;
  load.matmul_inputs = parse_matmul_inputs(matmul_inputs);
  SessionOptions session;
  session.n_ctx = n_ctx;
  session.kv_type = kv_type;
  std::shared_ptr<ModelHandle> handle;
  try {
    py::gil_scoped_release release;
    handle = ModelHandle::load(path, load, session);
  } catch (const Error& e) {
    std::error_code ec;
    if (e.code() == Errc::io && !std::filesystem::exists(path, ec)) {
      set_file_not_found(e.what(), path.string());
      throw py::error_already_set();
    }
    throw;
  }
  return PyModel{std::move(handle), path.string()};
}

// A prompt given as text (tokenized like `qtr run --prompt`) or as token ids.
std::vector<TokenId> prompt_tokens(const PyModel& self, py::handle prompt) {
  const Tokenizer& tokenizer = self.handle->model().tokenizer();
  std::vector<TokenId> ids;
  if (py::isinstance<py::str>(prompt)) {
    ids = tokenizer.encode(prompt.cast<std::string>(), EncodeOptions{true, false});
    if (ids.empty()) throw Error(Errc::invalid_argument, "the prompt is empty and the vocabulary adds no BOS token");
  } else {
    ids = to_token_ids(prompt, tokenizer.n_vocab());
    if (ids.empty()) throw Error(Errc::invalid_argument, "the prompt has no tokens");
  }
  if (static_cast<int64_t>(ids.size()) >= self.handle->n_ctx()) {
    throw Error(Errc::invalid_argument, "the prompt (" + std::to_string(ids.size()) +
                                            " tokens) leaves no room in the context of " +
                                            std::to_string(self.handle->n_ctx()) + " tokens (see Model(n_ctx=...))");
  }
  return ids;
}

std::unique_ptr<TextStream> start(const PyModel& self, std::vector<TokenId> prompt, const SamplingArgs& args,
                                  const ConstraintArgs& constraint) {
  GenerateOptions options = to_generate_options(args, self.handle->model().tokenizer().n_vocab());
  options.constraint = resolve_constraint(self.handle->model(), constraint);
  return std::make_unique<TextStream>(self.handle, std::move(prompt), std::move(options));
}

// Reads a stream to its end (Ctrl-C still interrupts it).
std::string read_all(TextStream& stream) {
  while (stream.next()) {
  }
  return stream.text();
}

std::string render_chat(PyModel& self, const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                        const Json& variables) {
  return render_chat_prompt(self.handle->model(), self.handle->chat_template(), messages, add_generation_prompt,
                            variables);
}

Pooling to_pooling(const std::string& name) {
  if (name == "mean") return Pooling::mean;
  if (name == "last") return Pooling::last;
  throw Error(Errc::invalid_argument, "pooling must be 'mean' or 'last', got '" + name + "'");
}

py::object optional_token(TokenId id) { return id == kNoToken ? py::object(py::none()) : py::object(py::int_(id)); }

// Runs Python's pending signal handlers from code running without the GIL; throws what they raise (Ctrl-C).
void check_signals_nogil() {
  py::gil_scoped_acquire acquire;
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
}

#define QTR_SAMPLING_ARGS                                                                                        \
  py::arg("max_tokens") = 128, py::arg("temperature") = 0.8, py::arg("top_k") = 40, py::arg("top_p") = 0.95, \
      py::arg("min_p") = 0.05, py::arg("repeat_penalty") = 1.0, py::arg("penalty_last_n") = 64,              \
      py::arg("presence_penalty") = 0.0, py::arg("frequency_penalty") = 0.0,                                 \
      py::arg("logit_bias") = py::none(), py::arg("seed") = py::none(), py::arg("stop") = py::none()

constexpr const char* kSamplingDoc = R"doc(
Sampling (defaults are llama.cpp's):
    max_tokens: tokens to generate at most (>= 0).
    temperature: 0 = greedy (argmax); top_k: 0 = off; top_p in (0, 1], 1 = off; min_p in [0, 1], 0 = off.
    repeat_penalty (> 0, 1 = off), penalty_last_n (window; 0 = off, -1 = all), presence_penalty and
        frequency_penalty (0 = off) penalise tokens already seen (the prompt's included).
    logit_bias: {token id: bias} added to the logits; float('-inf') bans a token.
    seed: int in [0, 2**64) for reproducible sampling; None = random.
    stop: a str or a list of str; the text before the first one found is returned, then generation stops.
Raises qtr.InvalidArgument (a ValueError) for a parameter out of range, TypeError for a wrong type.)doc";

// The constraint keywords of generate() and chat() (constraint_args.hpp).
#define QTR_CONSTRAINT_ARGS                                                                                  \
  py::arg("grammar") = py::none(), py::arg("json_schema") = py::none(), py::arg("regex") = py::none(),     \
      py::arg("choices") = py::none(), py::arg("constraint") = py::none(), py::arg("lenient") = false

constexpr const char* kConstraintDoc = R"doc(
Constrained decoding (at most one of these; the output then stays inside the language, and generation stops
with stop_reason 'eog' when the text is complete and nothing may follow):
    grammar: a GBNF grammar (llama.cpp's format), its start rule `root`.
    json_schema: a JSON Schema, as a dict or a str of JSON: the output is JSON valid under it.
    regex: a regular expression the whole output matches.
    choices: a list of str: the output is exactly one of them.
    constraint: a qtr.Constraint from compile_constraint (compiled once, reused).
    lenient: JSON Schema: approximate keywords a grammar cannot enforce instead of raising qtr.Unsupported.
A bad grammar, schema or pattern raises qtr.InvalidArgument naming where (e.g. 'grammar:1:10: ...').)doc";

}  // namespace

void bind_model(py::module_& m) {
  py::class_<PyModel>(m, "Model", R"doc(
A loaded model (GGUF file or Hugging Face checkpoint directory).

A Model is immutable and may be shared by many threads: each call runs in a session (KV cache) of its own, taken
from a small pool. Computation releases the GIL.

Args:
    path: the model file (str or os.PathLike).
    threads: threads per computation; 0 = all hardware threads.
    kv_type: element type of the KV cache: "f16" (default), "q8_0" or "f32".
    n_ctx: context length of each session; 0 = the model's training context, at most 4096.
    isa: kernels to use ("scalar", "avx2", "avx512", "neon"); "" = $QTR_ISA, else the best the CPU has.
    repack: pack quantized weights into kernel tiles (False: compute on the file's rows; same results).
    mmap: map the file (False: read it into memory).
    matmul_inputs: "precise" (default): the inputs of the projections after the norms are quantized in two int8
        terms, next-token distributions close to a float run; "int8": one term, faster prompt processing
        (docs/accuracy.md).

Raises:
    qtr.FileNotFoundError: the path does not exist (also a FileNotFoundError).
    qtr.BadFormat, qtr.Unsupported, qtr.IOError: the file cannot be read as a model.
    qtr.InvalidArgument: a bad option (kv_type, n_ctx, threads, matmul_inputs).
)doc")
      .def(py::init(&load_model), py::arg("path"), py::kw_only(), py::arg("threads") = 0,
           py::arg("kv_type") = "f16", py::arg("n_ctx") = 0, py::arg("isa") = "", py::arg("repack") = true,
           py::arg("mmap") = true, py::arg("matmul_inputs") = "precise",
           "Loads the model at `path` (see the class documentation for the options).")

      // ---- tokens ---------------------------------------------------------------------------------------------
      .def(
          "tokenize",
          [](const PyModel& self, const std::string& text, bool add_special, bool parse_special) {
            std::vector<TokenId> ids;
            {
              py::gil_scoped_release release;
              ids = self.handle->model().tokenizer().encode(text, EncodeOptions{add_special, parse_special});
            }
            return ids;
          },
          py::arg("text"), py::arg("add_special") = true, py::arg("parse_special") = false, R"doc(
Encodes text into token ids.

Args:
    text: the text.
    add_special: add BOS/EOS as the vocabulary asks.
    parse_special: turn control tokens written in the text ("<|im_start|>") into their ids.

Returns:
    list[int]: the token ids.
)doc")
      .def(
          "detokenize",
          [](const PyModel& self, py::handle ids, bool special) {
            const Tokenizer& tokenizer = self.handle->model().tokenizer();
            const std::vector<TokenId> tokens = to_token_ids(ids, tokenizer.n_vocab());
            return utf8_to_str(tokenizer.decode(tokens, special));
          },
          py::arg("ids"), py::arg("special") = false, R"doc(
Decodes token ids into text (the SentencePiece leading space removed; invalid UTF-8 becomes U+FFFD).

Args:
    ids: a sequence of int (list, tuple or NumPy integer array).
    special: include the text of control tokens ("<s>").

Raises:
    qtr.InvalidArgument: an id outside the vocabulary. TypeError: not a sequence of int.
)doc")
      .def(
          "token_to_piece",
          [](const PyModel& self, TokenId id, bool special) {
            return py::bytes(self.handle->model().tokenizer().token_to_piece(id, special));
          },
          py::arg("id"), py::arg("special") = false,
          "The bytes one token stands for (possibly part of a UTF-8 sequence); control tokens give b'' unless "
          "`special`. qtr.InvalidArgument for an id outside the vocabulary.")

      // ---- generation -----------------------------------------------------------------------------------------
      .def(
          "generate",
          [](const PyModel& self, py::handle prompt, int64_t max_tokens, float temperature, int32_t top_k, float top_p,
             float min_p, float repeat_penalty, int32_t penalty_last_n, float presence_penalty,
             float frequency_penalty, py::object logit_bias, py::object seed, py::object stop, py::object grammar,
             py::object json_schema, py::object regex, py::object choices, py::object constraint, bool lenient) {
            std::vector<TokenId> ids = prompt_tokens(self, prompt);
            ConstraintArgs c;
            c.grammar = std::move(grammar);
            c.json_schema = std::move(json_schema);
            c.regex = std::move(regex);
            c.choices = std::move(choices);
            c.constraint = std::move(constraint);
            c.lenient = lenient;
            return start(self, std::move(ids),
                         SamplingArgs{max_tokens, temperature, top_k, top_p, min_p, repeat_penalty, penalty_last_n,
                                      presence_penalty, frequency_penalty, std::move(logit_bias), std::move(seed),
                                      std::move(stop)},
                         c);
          },
          py::arg("prompt"), py::kw_only(), QTR_SAMPLING_ARGS, QTR_CONSTRAINT_ARGS,
          (std::string(R"doc(
Generates a continuation of `prompt`, streamed.

Args:
    prompt: text (tokenized with BOS as the vocabulary asks, like `qtr run --prompt`) or a sequence of token ids.
)doc") + kSamplingDoc + kConstraintDoc + R"doc(

Returns:
    TextStream: an iterator of text pieces; "".join(stream) is the whole text. Work starts at the first next();
    closing the stream cancels the generation.
)doc").c_str())
      .def(
          "chat",
          [](PyModel& self, py::handle messages, bool stream, int64_t max_tokens, float temperature, int32_t top_k,
             float top_p, float min_p, float repeat_penalty, int32_t penalty_last_n, float presence_penalty,
             float frequency_penalty, py::object logit_bias, py::object seed, py::object stop,
             py::handle template_variables, py::handle response_format, py::object grammar, py::object json_schema,
             py::object regex, py::object choices, py::object constraint, bool lenient) -> py::object {
            ConstraintArgs c;
            c.grammar = std::move(grammar);
            c.json_schema = std::move(json_schema);
            c.regex = std::move(regex);
            c.choices = std::move(choices);
            c.constraint = std::move(constraint);
            c.lenient = lenient;
            c = with_response_format(response_format, std::move(c));
            const std::vector<ChatMessage> conversation = to_chat_messages(messages);
            if (conversation.empty()) throw Error(Errc::invalid_argument, "messages is empty");
            const Json variables = to_json(template_variables);
            std::vector<TokenId> ids =
                chat_prompt_tokens(self.handle->model(), self.handle->chat_template(), conversation, true, variables);
            if (static_cast<int64_t>(ids.size()) >= self.handle->n_ctx()) {
              throw Error(Errc::invalid_argument, "the conversation (" + std::to_string(ids.size()) +
                                                      " tokens) leaves no room in the context of " +
                                                      std::to_string(self.handle->n_ctx()) + " tokens");
            }
            std::unique_ptr<TextStream> s =
                start(self, std::move(ids),
                      SamplingArgs{max_tokens, temperature, top_k, top_p, min_p, repeat_penalty, penalty_last_n,
                                   presence_penalty, frequency_penalty, std::move(logit_bias), std::move(seed),
                                   std::move(stop)},
                      c);
            if (stream) return py::cast(std::move(s));
            return utf8_to_str(read_all(*s));
          },
          py::arg("messages"), py::kw_only(), py::arg("stream") = false, py::arg("max_tokens") = 512,
          py::arg("temperature") = 0.8, py::arg("top_k") = 40, py::arg("top_p") = 0.95, py::arg("min_p") = 0.05,
          py::arg("repeat_penalty") = 1.0, py::arg("penalty_last_n") = 64, py::arg("presence_penalty") = 0.0,
          py::arg("frequency_penalty") = 0.0, py::arg("logit_bias") = py::none(), py::arg("seed") = py::none(),
          py::arg("stop") = py::none(), py::arg("template_variables") = py::none(),
          py::arg("response_format") = py::none(), QTR_CONSTRAINT_ARGS,
          (std::string(R"doc(
Answers a conversation with the model's chat template: the assistant's next message.

Args:
    messages: a list of {"role": str, "content": str} dicts ("system", "user", "assistant").
    stream: return a TextStream instead of the whole reply.
    template_variables: extra template variables as a dict (e.g. {"enable_thinking": False}).
    max_tokens: tokens to generate at most (default 512).
    response_format: OpenAI's shape: {"type": "text"} (free text, the default), {"type": "json_object"} (any JSON
        object), or {"type": "json_schema", "json_schema": {"name": ..., "schema": {...}, "strict": True}} (JSON
        valid under the schema; without "strict": True the schema is compiled leniently). Not combined with the
        constraint keywords below.
)doc") + kSamplingDoc + kConstraintDoc + R"doc(

Returns:
    str (or TextStream with stream=True): the reply, generation stopping at the model's end-of-turn token.

Raises:
    qtr.Unsupported: the model has no chat template.
)doc").c_str())
      .def(
          "compile_constraint",
          [](const PyModel& self, py::object grammar, py::object json_schema, py::object regex, py::object choices,
             bool json_object, bool lenient, bool compact_json, bool allow_unused_rules) {
            ConstraintArgs c;
            c.grammar = std::move(grammar);
            c.json_schema = std::move(json_schema);
            c.regex = std::move(regex);
            c.choices = std::move(choices);
            c.json_object = json_object;
            c.lenient = lenient;
            c.compact_json = compact_json;
            c.allow_unused_rules = allow_unused_rules;
            return compile_constraint(self.handle->model(), c);
          },
          py::kw_only(), py::arg("grammar") = py::none(), py::arg("json_schema") = py::none(),
          py::arg("regex") = py::none(), py::arg("choices") = py::none(), py::arg("json_object") = false,
          py::arg("lenient") = false, py::arg("compact_json") = false, py::arg("allow_unused_rules") = false, R"doc(
Compiles a constraint for this model's vocabulary, to pass as generate(..., constraint=c) or chat(...,
constraint=c) any number of times (from any thread).

Args (exactly one of the first five):
    grammar: a GBNF grammar (llama.cpp's format), its start rule `root`.
    json_schema: a JSON Schema (dict or str of JSON).
    regex: a regular expression the whole output must match.
    choices: a list of str; the output is exactly one of them.
    json_object: True: any JSON object.
    lenient: JSON Schema: approximate what a grammar cannot express (accepting a superset) instead of raising
        qtr.Unsupported; Constraint.relaxed lists what was approximated.
    compact_json: JSON: no whitespace at all.
    allow_unused_rules: GBNF: accept rules that nothing uses.

Returns:
    Constraint

Raises:
    qtr.InvalidArgument: a bad grammar, schema or pattern (the message says where, e.g. 'grammar:1:10: ...'), or
        one no text of this vocabulary can satisfy; none or several sources given.
    qtr.Unsupported: a schema keyword that cannot be enforced (without lenient).
    qtr.OutOfMemory: the constraint exceeds a size or ambiguity budget.
)doc")
      .def(
          "apply_chat_template",
          [](PyModel& self, py::handle messages, bool add_generation_prompt, bool tokenize,
             py::handle template_variables) -> py::object {
            const std::vector<ChatMessage> conversation = to_chat_messages(messages);
            const Json variables = to_json(template_variables);
            if (tokenize) {
              return py::cast(chat_prompt_tokens(self.handle->model(), self.handle->chat_template(), conversation,
                                                 add_generation_prompt, variables));
            }
            return utf8_to_str(render_chat(self, conversation, add_generation_prompt, variables));
          },
          py::arg("messages"), py::kw_only(), py::arg("add_generation_prompt") = true, py::arg("tokenize") = false,
          py::arg("template_variables") = py::none(), R"doc(
Renders `messages` with the model's chat template.

Returns:
    str: the prompt text; or, with tokenize=True, list[int]: the token ids chat() would run (control tokens
    parsed, BOS added only when the template did not write it).
)doc")

      // ---- numbers --------------------------------------------------------------------------------------------
      .def(
          "logits",
          [](const PyModel& self, py::handle tokens) {
            const std::vector<TokenId> ids = to_token_ids(tokens, self.handle->model().tokenizer().n_vocab());
            if (ids.empty()) throw Error(Errc::invalid_argument, "logits needs at least one token");
            std::vector<float> out;
            {
              py::gil_scoped_release release;
              ModelHandle::Lease session = self.handle->session();
              const std::span<const float> logits = session->eval(ids, /*all_logits=*/true);
              out.assign(logits.begin(), logits.end());
            }
            const auto rows = static_cast<int64_t>(ids.size());
            const auto cols = static_cast<int64_t>(out.size()) / rows;
            return vector_to_array(std::move(out), rows, cols);
          },
          py::arg("tokens"), R"doc(
Runs token ids (BOS is not added) through a fresh context and returns the logits of every position.

Args:
    tokens: a sequence of int (list, tuple or NumPy integer array), at most n_ctx of them.

Returns:
    numpy.ndarray: float32 [len(tokens), n_vocab], owning its buffer (no copy beyond the one out of the
    session). With kv_type="f32" the numbers are those of `qtr logits`, bit for bit.

Raises:
    qtr.InvalidArgument: empty, an id outside the vocabulary, or more tokens than n_ctx.
)doc")
      .def(
          "embed",
          [](const PyModel& self, py::handle texts, const std::string& pooling, bool normalize) {
            const bool single = py::isinstance<py::str>(texts);
            std::vector<std::string> inputs;
            if (single) {
              inputs.push_back(texts.cast<std::string>());
            } else {
              if (!py::isinstance<py::sequence>(texts)) throw py::type_error("texts must be a str or a list of str");
              for (py::handle t : texts) {
                if (!py::isinstance<py::str>(t)) throw py::type_error("texts must be a str or a list of str");
                inputs.push_back(t.cast<std::string>());
              }
            }
            const Pooling pool = to_pooling(pooling);
            const Model& model = self.handle->model();
            const auto n_embd = model.config().n_embd;
            std::vector<float> out;
            {
              py::gil_scoped_release release;
              out.reserve(inputs.size() * static_cast<size_t>(n_embd));
              ModelHandle::Lease session = self.handle->session();
              for (size_t i = 0; i < inputs.size(); ++i) {
                const std::vector<TokenId> ids = model.tokenizer().encode(inputs[i], EncodeOptions{true, false});
                if (ids.empty()) {
                  throw Error(Errc::invalid_argument,
                              "texts[" + std::to_string(i) + "] is empty and the vocabulary adds no BOS token");
                }
                const std::vector<float> v = embed(session->context(), ids, pool, normalize);
                out.insert(out.end(), v.begin(), v.end());
                check_signals_nogil();
              }
            }
            return vector_to_array(std::move(out), single ? -1 : static_cast<int64_t>(inputs.size()), n_embd);
          },
          py::arg("texts"), py::arg("pooling") = "mean", py::arg("normalize") = true, R"doc(
Embeds texts: the model's final hidden state (after the output norm) pooled over each text's tokens.

Args:
    texts: a str, or a list of str (each tokenized with BOS as the vocabulary asks).
    pooling: "mean" (average over the tokens) or "last" (the last token's state).
    normalize: scale each embedding to unit L2 norm.

Returns:
    numpy.ndarray: float32 [len(texts), n_embd] for a list, [n_embd] for a single str.
)doc")

      // ---- properties -----------------------------------------------------------------------------------------
      .def_property_readonly(
          "n_vocab", [](const PyModel& s) { return s.handle->model().tokenizer().n_vocab(); },
          "Tokens in the vocabulary.")
      .def_property_readonly(
          "n_embd", [](const PyModel& s) { return s.handle->model().config().n_embd; },
          "Width of the hidden state (and of embeddings).")
      .def_property_readonly(
          "n_layer", [](const PyModel& s) { return s.handle->model().config().n_layer; }, "Transformer layers.")
      .def_property_readonly(
          "n_ctx_train", [](const PyModel& s) { return s.handle->model().config().n_ctx_train; },
          "Context length the model was trained for.")
      .def_property_readonly(
          "n_ctx", [](const PyModel& s) { return s.handle->n_ctx(); },
          "Context length of this Model's sessions (tokens a prompt plus its generation may hold).")
      .def_property_readonly(
          "architecture", [](const PyModel& s) { return s.handle->model().config().architecture; },
          "general.architecture, e.g. 'llama'.")
      .def_property_readonly(
          "name", [](const PyModel& s) { return utf8_to_str(s.handle->model().config().name); },
          "general.name (informational; may be empty).")
      .def_property_readonly(
          "chat_template",
          [](const PyModel& s) -> py::object {
            const std::string& t = s.handle->model().chat_template();
            if (t.empty()) return py::none();
            return utf8_to_str(t);
          },
          "The model's own chat template (Jinja source), or None.")
      .def_property_readonly(
          "bos_token_id", [](const PyModel& s) { return optional_token(s.handle->model().tokenizer().vocab().bos); },
          "Beginning-of-sequence token id, or None.")
      .def_property_readonly(
          "eos_token_id", [](const PyModel& s) { return optional_token(s.handle->model().tokenizer().vocab().eos); },
          "End-of-sequence token id, or None.")
      .def_property_readonly(
          "eog_token_ids",
          [](const PyModel& s) { return end_of_generation_tokens(s.handle->model().tokenizer().vocab()); },
          "The ids that end a generation (EOS and end-of-turn tokens such as '<|im_end|>'), sorted.")
      .def_property_readonly(
          "kv_type", [](const PyModel& s) { return s.handle->session_options().kv_type; },
          "Element type of the KV cache: 'f16', 'q8_0' or 'f32'.")
      .def_property_readonly(
          "threads", [](const PyModel& s) { return s.handle->model().default_threads(); },
          "Threads per computation.")
      .def_property_readonly(
          "isa", [](const PyModel& s) { return std::string(s.handle->model().isa()); },
          "The kernels in use, e.g. 'avx512vnni'.")
      .def_property_readonly(
          "matmul_inputs", [](const PyModel& s) { return std::string(matmul_inputs_name(s.handle->model().matmul_inputs())); },
          "How matmul inputs are quantized: 'precise' or 'int8'.")
      .def_property_readonly(
          "path", [](const PyModel& s) { return s.path; }, "The path the model was loaded from.")
      .def("__repr__", [](const PyModel& s) {
        const ModelConfig& c = s.handle->model().config();
        return "<qtr.Model " + c.architecture + " '" + s.path + "' n_vocab=" + std::to_string(c.n_vocab) +
               " n_embd=" + std::to_string(c.n_embd) + " n_ctx=" + std::to_string(s.handle->n_ctx()) + ">";
      });
}

}  // namespace qtr::python
