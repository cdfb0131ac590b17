/* qtr.h — the stable C API of qtr (libqtr.so). C99; usable from C++.
 *
 *   qtr_model* model;  qtr_context* ctx;  qtr_seq seq;
 *   qtr_model_load("model.gguf", NULL, &model);
 *   qtr_context_create(model, NULL, &ctx);
 *   qtr_seq_create(ctx, &seq);
 *   qtr_token prompt[256];  size_t n;
 *   qtr_tokenize(model, "Once upon a time", 16, 1, 0, prompt, 256, &n);
 *   qtr_generate_options g = qtr_generate_options_default();
 *   g.on_text = print_piece;                        // int print_piece(const char*, size_t, void*)
 *   qtr_generate(ctx, seq, NULL, prompt, n, &g, NULL, NULL);
 *   qtr_context_free(ctx);  qtr_model_free(model);
 *
 * Rules that hold for every function (docs/c-api.md has the full reference):
 * - Every function except qtr_version, qtr_abi_version, qtr_status_name and qtr_last_error returns a qtr_status.
 *   On failure, qtr_last_error() describes it (per thread) and out-parameters are left as documented (usually
 *   untouched; "buffer too small" writes the size needed). No C++ exception ever leaves the library.
 * - NULL handles are always detected. Freed or foreign handle pointers are detected through a table of live
 *   handles, without reading the pointed-to memory; a freed handle whose address has been reused by a new handle of
 *   the same kind cannot be told apart from it, so use-after-free detection is best effort.
 * - Options structs start with `size_t struct_size`. Fill them with their *_default() initialiser (which sets
 *   struct_size = sizeof the struct your program was compiled with), then change fields. A library that is newer
 *   than your header uses defaults for fields your struct does not have.
 * - Output buffers: pass the buffer and its capacity; the count written (or needed) comes back through an
 *   out-parameter. When the buffer is too small the call returns QTR_ERR_BUFFER_TOO_SMALL, writes the count needed,
 *   and writes nothing to the buffer. A NULL buffer with capacity 0 asks for the count only.
 * - Text input must be valid UTF-8 (else QTR_ERR_INVALID_ARGUMENT). Text output is NUL-terminated; the length
 *   reported excludes the NUL, so a buffer needs length + 1 bytes.
 * - Threads: a model may be shared by any number of threads; a context or sampler is used by one thread at a time.
 */
#ifndef QTR_H
#define QTR_H

#include <stddef.h>
#include <stdint.h>

#define QTR_VERSION_MAJOR 0
#define QTR_VERSION_MINOR 1
#define QTR_VERSION_PATCH 0
/* Bumped only when an existing function, struct layout or enum value changes incompatibly (the soname follows it:
 * libqtr.so.QTR_ABI_VERSION). Additions keep it. */
#define QTR_ABI_VERSION 1

#if defined(_WIN32)
#define QTR_API
#elif defined(__GNUC__)
#define QTR_API __attribute__((visibility("default")))
#else
#define QTR_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes (values never change; new codes are appended) -------------------------------------------- */
typedef enum qtr_status {
  QTR_OK = 0,
  QTR_ERR_INVALID_ARGUMENT = 1, /* a bad argument: option out of range, token id outside the vocabulary, ... */
  QTR_ERR_BAD_FORMAT = 2,       /* a file's bytes are not a valid GGUF / tokenizer / template */
  QTR_ERR_UNSUPPORTED = 3,      /* recognised but not implemented (architecture, tensor type, newer options) */
  QTR_ERR_IO = 4,               /* the operating system refused (open, mmap) */
  QTR_ERR_OUT_OF_MEMORY = 5,    /* an allocation or a fixed budget (the KV cache) ran out */
  QTR_ERR_INTERNAL = 6,         /* a bug in qtr */
  QTR_ERR_CANCELLED = 7,        /* a callback asked to stop */
  QTR_ERR_BUFFER_TOO_SMALL = 8, /* an output buffer is too small; the size needed was written */
  QTR_ERR_INVALID_HANDLE = 9    /* a handle that is not a live handle of the expected kind (freed, foreign) */
} qtr_status;

typedef int32_t qtr_token; /* a token id; -1 = none */
typedef int64_t qtr_seq;   /* a sequence of a context */

typedef struct qtr_model qtr_model;     /* an immutable loaded model; share it between threads */
typedef struct qtr_context qtr_context; /* sequences over one model in one KV cache; one thread at a time */
typedef struct qtr_sampler qtr_sampler; /* a sampler chain with its RNG and penalty window; one thread at a time */

/* ---- version and errors ------------------------------------------------------------------------------------- */
QTR_API const char* qtr_version(void);     /* "MAJOR.MINOR.PATCH" of the library that is loaded */
QTR_API uint32_t qtr_abi_version(void);    /* QTR_ABI_VERSION of the library that is loaded */
QTR_API const char* qtr_status_name(qtr_status status); /* "ok", "invalid argument", ...; never NULL */
/* The message of this thread's last failed call ("" after a successful call). Valid until this thread's next qtr
 * call. */
QTR_API const char* qtr_last_error(void);

/* ---- models ------------------------------------------------------------------------------------------------- */
typedef struct qtr_model_options {
  size_t struct_size;
  int32_t n_threads; /* default thread count of its contexts (and for packing at load); 0 = all hardware threads */
  int32_t repack;    /* nonzero (default): pack quantized weights into kernel tiles; 0: compute on the file's rows */
  const char* isa;   /* kernels: "scalar", "avx2", "avx512", "neon"; NULL (default) = $QTR_ISA, else the best */
  int32_t use_mmap;  /* nonzero (default): map the GGUF file; 0: read it into memory */
  /* How the inputs of the quantized matmuls are rounded (docs/accuracy.md): "precise" (NULL, the default): the
   * projections after the norms get two int8 terms, next-token distributions close to a float run; "int8": one
   * term everywhere, faster prompt processing, llama.cpp's accuracy. */
  const char* matmul_inputs;
} qtr_model_options;

QTR_API qtr_status qtr_model_options_init(qtr_model_options* options, size_t struct_size);
static inline qtr_model_options qtr_model_options_default(void) {
  qtr_model_options o;
  qtr_model_options_init(&o, sizeof o);
  return o;
}

/* Loads a GGUF file or a Hugging Face checkpoint directory. options may be NULL (defaults). The file is mapped
 * unless options->use_mmap is 0. */
QTR_API qtr_status qtr_model_load(const char* path, const qtr_model_options* options, qtr_model** out_model);
/* Releases the handle. Contexts created from it keep the model's data alive until they are freed. NULL: no-op. */
QTR_API qtr_status qtr_model_free(qtr_model* model);

typedef struct qtr_model_info {
  size_t struct_size; /* set by the caller: sizeof(qtr_model_info) */
  int64_t n_vocab;
  int64_t n_embd;
  int64_t n_layer;
  int64_t n_head;
  int64_t n_head_kv;
  int64_t n_ctx_train;
  uint64_t weight_bytes;   /* weights in their compute form */
  qtr_token bos;           /* -1 when none */
  qtr_token eos;           /* -1 when none */
  const char* architecture; /* strings owned by the model handle, valid until qtr_model_free */
  const char* name;
  const char* isa;           /* the kernels in use */
  const char* chat_template; /* the model's own chat template (Jinja source); "" when it has none */
  const char* matmul_inputs; /* "precise" or "int8" (qtr_model_options.matmul_inputs) */
} qtr_model_info;

/* Fills the first info->struct_size bytes of *info. */
QTR_API qtr_status qtr_model_get_info(const qtr_model* model, qtr_model_info* info);
/* The tokens that end generation (EOS and end-of-turn tokens), ascending. */
QTR_API qtr_status qtr_model_eog_tokens(const qtr_model* model, qtr_token* tokens, size_t capacity,
                                        size_t* n_tokens);

/* ---- tokenizer ---------------------------------------------------------------------------------------------- */
/* Encodes text[0..text_len) (valid UTF-8). add_special: add BOS/EOS as the vocabulary asks; parse_special: match
 * control tokens ("<s>", "<|im_start|>") written in the text. */
QTR_API qtr_status qtr_tokenize(const qtr_model* model, const char* text, size_t text_len, int add_special,
                                int parse_special, qtr_token* tokens, size_t capacity, size_t* n_tokens);
/* Decodes tokens to their bytes (the SentencePiece leading space removed); special: include control tokens' text.
 * The bytes are returned as they are: a cut in the middle of a character gives invalid UTF-8. */
QTR_API qtr_status qtr_detokenize(const qtr_model* model, const qtr_token* tokens, size_t n_tokens, int special,
                                  char* text, size_t capacity, size_t* length);
/* The bytes one token stands for (possibly part of a UTF-8 character). */
QTR_API qtr_status qtr_token_to_piece(const qtr_model* model, qtr_token token, int special, char* text,
                                      size_t capacity, size_t* length);

/* ---- contexts and sequences --------------------------------------------------------------------------------- */
typedef enum qtr_kv_type { QTR_KV_F16 = 0, QTR_KV_Q8_0 = 1, QTR_KV_F32 = 2 } qtr_kv_type;

typedef struct qtr_context_options {
  size_t struct_size;
  int64_t n_ctx;            /* most positions one sequence may hold; 0 (default) = training context, <= 4096 */
  uint64_t kv_budget_bytes; /* size of the KV cache; 0 (default) = room for n_seq full sequences */
  int64_t kv_page_size;     /* positions per KV page (default 16) */
  int64_t n_ubatch;         /* most rows one forward pass runs (default 512) */
  int32_t n_threads;        /* 0 (default) = the model's default */
  int32_t n_seq;            /* sequences the default KV budget is sized for (default 1) */
  int32_t kv_type;          /* qtr_kv_type (default QTR_KV_F16) */
} qtr_context_options;

QTR_API qtr_status qtr_context_options_init(qtr_context_options* options, size_t struct_size);
static inline qtr_context_options qtr_context_options_default(void) {
  qtr_context_options o;
  qtr_context_options_init(&o, sizeof o);
  return o;
}

/* options may be NULL (defaults). */
QTR_API qtr_status qtr_context_create(const qtr_model* model, const qtr_context_options* options,
                                      qtr_context** out_context);
QTR_API qtr_status qtr_context_free(qtr_context* context); /* NULL: no-op */
QTR_API qtr_status qtr_context_n_ctx(const qtr_context* context, int64_t* n_ctx);

typedef struct qtr_kv_memory {
  size_t struct_size; /* set by the caller: sizeof(qtr_kv_memory) */
  uint64_t bytes_total;
  uint64_t bytes_used;      /* pages held by at least one sequence */
  uint64_t bytes_per_token; /* keys and values of one position in every layer */
  int64_t pages_total;
  int64_t pages_free;
  int64_t pages_used;
  int64_t pages_shared;
} qtr_kv_memory;
QTR_API qtr_status qtr_context_kv_memory(const qtr_context* context, qtr_kv_memory* memory);

/* Sequences: a new one is empty; a fork shares its source's cached positions (copy-on-write). Unknown ids are
 * QTR_ERR_INVALID_ARGUMENT. */
QTR_API qtr_status qtr_seq_create(qtr_context* context, qtr_seq* out_seq);
QTR_API qtr_status qtr_seq_fork(qtr_context* context, qtr_seq source, qtr_seq* out_seq);
QTR_API qtr_status qtr_seq_truncate(qtr_context* context, qtr_seq seq, int64_t n_keep); /* keep the first n_keep */
QTR_API qtr_status qtr_seq_remove(qtr_context* context, qtr_seq seq);
QTR_API qtr_status qtr_seq_length(const qtr_context* context, qtr_seq seq, int64_t* length);

/* One row of a batch: `token` at position `pos` of sequence `seq`; logits != 0: keep this row's logits and hidden
 * state. The entries of one sequence must be consecutive, at consecutive positions starting at its length.
 * (This layout is fixed for ABI 1: arrays of it cannot grow.) */
typedef struct qtr_batch_entry {
  qtr_seq seq;
  int64_t pos;
  qtr_token token;
  int32_t logits;
} qtr_batch_entry;

/* Runs the batch. n_outputs (may be NULL) receives the number of rows marked logits. On any error every sequence
 * is left exactly as it was (token ids outside the vocabulary, unknown sequences and positions that skip are
 * QTR_ERR_INVALID_ARGUMENT; a full KV cache is QTR_ERR_OUT_OF_MEMORY). */
QTR_API qtr_status qtr_decode(qtr_context* context, const qtr_batch_entry* entries, size_t n_entries,
                              size_t* n_outputs);
/* The logits ([n_vocab]) / final hidden state ([n_embd]) of output row `row` (the row-th entry marked logits) of
 * the last qtr_decode. The pointer stays valid until the context runs again (decode, generate, embed) or is freed. */
QTR_API qtr_status qtr_get_logits(const qtr_context* context, size_t row, const float** logits, size_t* n_vocab);
QTR_API qtr_status qtr_get_hidden_state(const qtr_context* context, size_t row, const float** state,
                                        size_t* n_embd);

/* ---- sampling ----------------------------------------------------------------------------------------------- */
typedef struct qtr_logit_bias {
  qtr_token token;
  float bias; /* finite, or -INFINITY to ban the token */
} qtr_logit_bias;

/* The chain: logit bias -> penalties -> (temperature 0: argmax) -> top-k -> temperature -> top-p -> min-p -> draw.
 * Defaults are llama.cpp's. */
typedef struct qtr_sampler_params {
  size_t struct_size;
  float temperature;       /* 0.8; 0 = greedy */
  int32_t top_k;           /* 40; 0 = off */
  float top_p;             /* 0.95; in (0, 1], 1 = off */
  float min_p;             /* 0.05; in [0, 1], 0 = off */
  float repeat_penalty;    /* 1 = off */
  int32_t penalty_last_n;  /* 64; window of accepted tokens the penalties see; 0 = off, -1 = all */
  float presence_penalty;  /* 0 = off */
  float frequency_penalty; /* 0 = off */
  uint64_t seed;           /* 0 */
  const qtr_logit_bias* logit_bias; /* copied by qtr_sampler_create */
  size_t n_logit_bias;
} qtr_sampler_params;

QTR_API qtr_status qtr_sampler_params_init(qtr_sampler_params* params, size_t struct_size);
static inline qtr_sampler_params qtr_sampler_params_default(void) {
  qtr_sampler_params p;
  qtr_sampler_params_init(&p, sizeof p);
  return p;
}

/* model may be NULL; when given, logit_bias ids are checked against its vocabulary. params may be NULL (defaults). */
QTR_API qtr_status qtr_sampler_create(const qtr_model* model, const qtr_sampler_params* params,
                                      qtr_sampler** out_sampler);
QTR_API qtr_status qtr_sampler_free(qtr_sampler* sampler); /* NULL: no-op */
/* Samples from logits[0..n_logits) (e.g. from qtr_get_logits). Does not accept the token: call qtr_sampler_accept. */
QTR_API qtr_status qtr_sampler_sample(qtr_sampler* sampler, const float* logits, size_t n_logits,
                                      qtr_token* out_token);
/* Records tokens in the penalty window. */
QTR_API qtr_status qtr_sampler_accept(qtr_sampler* sampler, const qtr_token* tokens, size_t n_tokens);
/* Forgets accepted tokens and restarts the random sequence from the seed. */
QTR_API qtr_status qtr_sampler_reset(qtr_sampler* sampler);

/* ---- generation --------------------------------------------------------------------------------------------- */
typedef enum qtr_stop_reason {
  QTR_STOP_MAX_TOKENS = 0,   /* n_predict tokens were generated */
  QTR_STOP_EOG = 1,          /* an end-of-generation token was sampled, or a constraint's text is complete */
  QTR_STOP_STRING = 2,       /* a stop string appeared */
  QTR_STOP_CONTEXT_FULL = 3, /* the sequence reached n_ctx */
  QTR_STOP_CANCELLED = 4     /* a callback returned nonzero */
} qtr_stop_reason;

/* Callbacks return 0 to go on, nonzero to stop. They must not throw or longjmp, and must not use the context that
 * is generating. Text pieces are complete UTF-8, not NUL-terminated, stop strings left out. */
typedef int (*qtr_text_callback)(const char* text, size_t length, void* user_data);
typedef int (*qtr_token_callback)(qtr_token token, void* user_data);

typedef struct qtr_generate_options {
  size_t struct_size;
  int64_t n_predict;          /* most tokens to generate (default 128) */
  int32_t stop_at_eog;        /* nonzero (default): stop at an end-of-generation token */
  int32_t penalize_prompt;    /* nonzero (default): the prompt enters the sampler's penalty window */
  const char* const* stop;    /* stop strings (valid UTF-8, not empty); the text before the first is emitted */
  size_t n_stop;
  qtr_text_callback on_text;   /* may be NULL */
  qtr_token_callback on_token; /* called with each generated token before its text; may be NULL */
  void* user_data;
} qtr_generate_options;

QTR_API qtr_status qtr_generate_options_init(qtr_generate_options* options, size_t struct_size);
static inline qtr_generate_options qtr_generate_options_default(void) {
  qtr_generate_options o;
  qtr_generate_options_init(&o, sizeof o);
  return o;
}

/* Appends prompt[0..n_prompt) (not empty) to sequence `seq` and runs it, then samples up to n_predict tokens with
 * `sampler` (NULL: greedy), calling on_token and on_text. The sequence then holds the prompt and every generated
 * token except the last one (which has not been run): to continue, start the next prompt with it.
 * A sampler with a constraint (qtr_sampler_set_constraint) keeps the text inside it: generation stops with
 * QTR_STOP_EOG when the text is complete and nothing may follow, and an end-of-generation token is only sampled
 * where the text is complete (even with stop_at_eog 0, such a token ends generation).
 * Returns QTR_OK, or QTR_ERR_CANCELLED when a callback stopped it. stop_reason and n_generated may be NULL. */
QTR_API qtr_status qtr_generate(qtr_context* context, qtr_seq seq, qtr_sampler* sampler, const qtr_token* prompt,
                                size_t n_prompt, const qtr_generate_options* options, qtr_stop_reason* stop_reason,
                                size_t* n_generated);

/* ---- constrained decoding ----------------------------------------------------------------------------------- */
/* A constraint keeps what a sampler produces inside a language: a GBNF grammar (llama.cpp's format), a JSON Schema,
 * a regular expression, any JSON value or object, or a list of choices (docs/structured-output.md). It is compiled
 * once for one model's vocabulary, is immutable, and may be shared by any number of samplers on any threads.
 *
 *   qtr_constraint* c;
 *   qtr_constraint_create(model, QTR_CONSTRAINT_GBNF, "root ::= \"yes\" | \"no\"", 21, NULL, &c);
 *   qtr_sampler_set_constraint(sampler, c);      // the sampler keeps its own progress through it
 *   qtr_constraint_free(c);                       // safe: the sampler holds the compiled constraint
 *   qtr_generate(ctx, seq, sampler, prompt, n, &g, &reason, NULL);   // QTR_STOP_EOG once the text is complete
 *
 * A sampler with a constraint masks the logits first (tokens that would leave the language get -INFINITY), then runs
 * its chain. End-of-generation tokens are allowed only where the text so far is complete; control tokens never. */
typedef struct qtr_constraint qtr_constraint; /* a compiled constraint; immutable, shareable between threads */

typedef enum qtr_constraint_kind {
  QTR_CONSTRAINT_GBNF = 0,        /* text: a GBNF grammar whose start rule is `root` */
  QTR_CONSTRAINT_JSON_SCHEMA = 1, /* text: a JSON Schema (draft 2020-12; draft-07 spellings accepted) */
  QTR_CONSTRAINT_REGEX = 2,       /* text: a regular expression the whole output must match (ECMAScript subset) */
  QTR_CONSTRAINT_JSON_OBJECT = 3, /* any JSON object; text must be empty */
  QTR_CONSTRAINT_JSON = 4         /* any JSON value; text must be empty */
} qtr_constraint_kind;

typedef struct qtr_constraint_options {
  size_t struct_size;
  int32_t lenient;            /* JSON Schema: approximate what a grammar cannot express (accepting a superset)
                                 instead of refusing it (default 0); qtr_constraint_relaxed lists what was relaxed */
  int32_t compact_json;       /* JSON: no whitespace at all (default 0) */
  int32_t allow_unused_rules; /* GBNF: accept rules that nothing uses (default 0) */
  int32_t json_whitespace;    /* JSON, not compact: optional whitespace characters allowed at each place (20) */
} qtr_constraint_options;

QTR_API qtr_status qtr_constraint_options_init(qtr_constraint_options* options, size_t struct_size);
static inline qtr_constraint_options qtr_constraint_options_default(void) {
  qtr_constraint_options o;
  qtr_constraint_options_init(&o, sizeof o);
  return o;
}

/* Compiles text[0..length) (valid UTF-8; NULL with length 0 for the JSON kinds) for the model's vocabulary. options
 * may be NULL (defaults). Errors: QTR_ERR_INVALID_ARGUMENT for a bad grammar, schema or pattern (the message says
 * where: "grammar:LINE:COLUMN: ...", a schema's JSON pointer) or one no token sequence can satisfy;
 * QTR_ERR_BAD_FORMAT for schema text that is not JSON; QTR_ERR_UNSUPPORTED for a schema keyword that cannot be
 * enforced (see lenient); QTR_ERR_OUT_OF_MEMORY when a size, ambiguity or search budget runs out. */
QTR_API qtr_status qtr_constraint_create(const qtr_model* model, qtr_constraint_kind kind, const char* text,
                                         size_t length, const qtr_constraint_options* options,
                                         qtr_constraint** out_constraint);
/* The output is exactly one of choices[0..n_choices) (NUL-terminated, valid UTF-8, at least one). */
QTR_API qtr_status qtr_constraint_create_choices(const qtr_model* model, const char* const* choices,
                                                 size_t n_choices, const qtr_constraint_options* options,
                                                 qtr_constraint** out_constraint);
/* Releases the handle. Samplers it was given to keep the compiled constraint alive. NULL: no-op. */
QTR_API qtr_status qtr_constraint_free(qtr_constraint* constraint);
/* The grammar the constraint runs, as GBNF text (every kind is compiled to one). */
QTR_API qtr_status qtr_constraint_gbnf(const qtr_constraint* constraint, char* text, size_t capacity,
                                       size_t* length);
/* Lenient JSON Schema: what was approximated, one item per line ("" when nothing was). */
QTR_API qtr_status qtr_constraint_relaxed(const qtr_constraint* constraint, char* text, size_t capacity,
                                          size_t* length);

/* Attaches a constraint to a sampler (NULL detaches), starting at the beginning of the text. The constraint must
 * have been compiled for the vocabulary of the model the sampler was created with (if any). Then:
 * - qtr_sampler_sample masks the logits before the chain (QTR_ERR_INVALID_ARGUMENT when no token is allowed,
 *   e.g. after the text is complete);
 * - qtr_sampler_accept also advances the constraint: a token it does not allow is QTR_ERR_INVALID_ARGUMENT, and
 *   then none of the tokens passed is accepted. (To put a prompt into the penalty window, accept it before
 *   attaching the constraint.)
 * - qtr_sampler_reset restarts the constraint too; qtr_generate enforces it (see there).
 * The sampler's progress carries over between qtr_generate calls, like its penalty window. */
QTR_API qtr_status qtr_sampler_set_constraint(qtr_sampler* sampler, const qtr_constraint* constraint);
/* accepting: the text so far is a complete string of the language; finished: it is complete and nothing may follow
 * (or an end-of-generation token was accepted). Without a constraint: accepting 1, finished 0. Either may be NULL. */
QTR_API qtr_status qtr_sampler_constraint_state(const qtr_sampler* sampler, int* accepting, int* finished);
/* Undoes the constraint's last n accepted tokens (for speculative decoding); the penalty window and the RNG are not
 * rewound. n greater than the tokens accepted since the constraint was attached or reset, or no constraint:
 * QTR_ERR_INVALID_ARGUMENT. */
QTR_API qtr_status qtr_sampler_constraint_rollback(qtr_sampler* sampler, size_t n);
/* Sets logits[t] to -INFINITY for every token t the constraint does not allow next (all t >= the vocabulary size
 * too), for callers that sample on their own. No constraint: the logits are left as they are. */
QTR_API qtr_status qtr_sampler_constraint_apply(qtr_sampler* sampler, float* logits, size_t n_logits);

/* ---- embeddings --------------------------------------------------------------------------------------------- */
typedef enum qtr_pooling { QTR_POOLING_MEAN = 0, QTR_POOLING_LAST = 1 } qtr_pooling;

/* Runs tokens in a temporary sequence of the context and writes the pooled final hidden state ([n_embd]), scaled
 * to unit length when normalize != 0. */
QTR_API qtr_status qtr_embed(qtr_context* context, const qtr_token* tokens, size_t n_tokens, qtr_pooling pooling,
                             int normalize, float* embedding, size_t capacity, size_t* n_embd);

/* ---- chat templates ----------------------------------------------------------------------------------------- */
typedef struct qtr_chat_message {
  const char* role;    /* "system", "user", "assistant", ... (valid UTF-8, NUL-terminated) */
  const char* content;
} qtr_chat_message;

/* Renders messages with template_source (Jinja text), or with the model's own template when it is NULL
 * (QTR_ERR_UNSUPPORTED when the model has none). bos_token/eos_token come from the model's vocabulary. */
QTR_API qtr_status qtr_chat_render(const qtr_model* model, const char* template_source,
                                   const qtr_chat_message* messages, size_t n_messages, int add_generation_prompt,
                                   char* text, size_t capacity, size_t* length);
/* Renders and tokenizes as the model expects (special tokens parsed, BOS added unless the template wrote it). */
QTR_API qtr_status qtr_chat_tokenize(const qtr_model* model, const char* template_source,
                                     const qtr_chat_message* messages, size_t n_messages, int add_generation_prompt,
                                     qtr_token* tokens, size_t capacity, size_t* n_tokens);

#ifdef __cplusplus
}
#endif

#endif /* QTR_H */
