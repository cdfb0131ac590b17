// Contexts: sequences, batch decode, logits and hidden states.
#include <memory>

#include "context_run.hpp"
#include "handles.hpp"
#include "io_helpers.hpp"

using namespace qtr::capi;

namespace {

qtr_context_options context_defaults() {
  const qtr::ContextOptions d;
  qtr_context_options o{};
  o.struct_size = sizeof o;
  o.n_ctx = d.n_ctx;
  o.kv_budget_bytes = d.kv_budget_bytes;
  o.kv_page_size = d.kv_page_size;
  o.n_ubatch = d.n_ubatch;
  o.n_threads = d.n_threads;
  o.n_seq = d.n_seq;
  o.kv_type = QTR_KV_F16;
  return o;
}

const char* kv_type_name(int32_t type) {
  switch (type) {
    case QTR_KV_F16: return "f16";
    case QTR_KV_Q8_0: return "q8_0";
    case QTR_KV_F32: return "f32";
    default: invalid("qtr_context_options.kv_type " + std::to_string(type) + " is not a qtr_kv_type");
  }
}

}  // namespace

namespace qtr::capi {

void run_batch(qtr_context& c, std::span<const qtr::BatchEntry> batch) {
  c.n_outputs = 0;  // a failed decode may have moved the buffers the old rows pointed into
  const std::span<const float> logits = c.context.decode(batch);
  c.logits = logits.data();
  c.n_outputs = logits.size() / static_cast<size_t>(c.model->config().n_vocab);
}

}  // namespace qtr::capi

extern "C" {

qtr_status qtr_context_options_init(qtr_context_options* options, size_t struct_size) {
  return guard([&] { init_options(options, struct_size, context_defaults(), "qtr_context_options"); });
}

qtr_status qtr_context_create(const qtr_model* model, const qtr_context_options* options, qtr_context** out_context) {
  return guard([&] {
    const qtr_model& m = model_of(model);
    require(out_context, "out_context");
    qtr_context_options o = context_defaults();
    read_options(options, o, "qtr_context_options");
    qtr::ContextOptions c;
    c.n_threads = o.n_threads;
    c.n_ctx = o.n_ctx;
    c.n_seq = o.n_seq;
    c.kv_budget_bytes = static_cast<size_t>(o.kv_budget_bytes);
    c.kv_type = kv_type_name(o.kv_type);
    // The q8_0 attention kernels need head_dim % 32 == 0 and would otherwise fail inside an OpenMP region (which
    // terminates the process): refuse such contexts here.
    const int64_t head_dim = m.model->config().head_dim;
    if (o.kv_type == QTR_KV_Q8_0 && head_dim % 32 != 0) {
      invalid("KV cache type q8_0 needs the head dimension to be a multiple of 32; this model's is " +
              std::to_string(head_dim) + " (use f16 or f32)");
    }
    c.kv_page_size = o.kv_page_size;
    c.n_ubatch = o.n_ubatch;
    auto handle = std::make_unique<qtr_context>(m.model, m.eog, c);
    register_handle(handle.get(), HandleKind::context);
    *out_context = handle.release();
  });
}

qtr_status qtr_context_free(qtr_context* context) {
  return guard([&] {
    if (context == nullptr) return;
    unregister_handle(context, HandleKind::context, "qtr_context_free");
    delete context;
  });
}

qtr_status qtr_context_n_ctx(const qtr_context* context, int64_t* n_ctx) {
  return guard([&] {
    const qtr_context& c = context_of(context);
    require(n_ctx, "n_ctx");
    *n_ctx = c.context.n_ctx();
  });
}

qtr_status qtr_context_kv_memory(const qtr_context* context, qtr_kv_memory* memory) {
  return guard([&] {
    const qtr::KvMemory m = context_of(context).context.kv_memory();
    qtr_kv_memory out{};
    out.struct_size = sizeof out;
    out.bytes_total = m.bytes_total;
    out.bytes_used = m.bytes_used;
    out.bytes_per_token = m.bytes_per_token;
    out.pages_total = m.pages_total;
    out.pages_free = m.pages_free;
    out.pages_used = m.pages_used;
    out.pages_shared = m.pages_shared;
    write_info(memory, out, "qtr_kv_memory");
  });
}

qtr_status qtr_seq_create(qtr_context* context, qtr_seq* out_seq) {
  return guard([&] {
    qtr_context& c = context_of(context);
    require(out_seq, "out_seq");
    *out_seq = c.context.create_sequence();
  });
}

qtr_status qtr_seq_fork(qtr_context* context, qtr_seq source, qtr_seq* out_seq) {
  return guard([&] {
    qtr_context& c = context_of(context);
    require(out_seq, "out_seq");
    *out_seq = c.context.fork_sequence(source);
  });
}

qtr_status qtr_seq_truncate(qtr_context* context, qtr_seq seq, int64_t n_keep) {
  return guard([&] {
    qtr_context& c = context_of(context);
    const int64_t length = c.context.sequence_length(seq);  // throws for an unknown sequence
    if (n_keep < 0 || n_keep > length) {
      invalid("cannot truncate sequence " + std::to_string(seq) + " of " + std::to_string(length) +
              " positions to " + std::to_string(n_keep));
    }
    c.context.truncate_sequence(seq, n_keep);
  });
}

qtr_status qtr_seq_remove(qtr_context* context, qtr_seq seq) {
  return guard([&] { context_of(context).context.remove_sequence(seq); });
}

qtr_status qtr_seq_length(const qtr_context* context, qtr_seq seq, int64_t* length) {
  return guard([&] {
    const qtr_context& c = context_of(context);
    require(length, "length");
    *length = c.context.sequence_length(seq);
  });
}

qtr_status qtr_decode(qtr_context* context, const qtr_batch_entry* entries, size_t n_entries, size_t* n_outputs) {
  return guard([&] {
    qtr_context& c = context_of(context);
    if (entries == nullptr && n_entries != 0) invalid("entries is NULL but n_entries is " + std::to_string(n_entries));
    std::vector<qtr::BatchEntry> batch(n_entries);
    for (size_t i = 0; i < n_entries; ++i) {
      batch[i] = {entries[i].seq, entries[i].token, entries[i].pos, entries[i].logits != 0};
    }
    run_batch(c, batch);
    if (n_outputs != nullptr) *n_outputs = c.n_outputs;
  });
}

qtr_status qtr_get_logits(const qtr_context* context, size_t row, const float** logits, size_t* n_vocab) {
  return guard([&] {
    const qtr_context& c = context_of(context);
    require(logits, "logits");
    if (row >= c.n_outputs) {
      invalid("row " + std::to_string(row) + " is not an output row of the last decode (it has " +
              std::to_string(c.n_outputs) + ")");
    }
    const auto n = static_cast<size_t>(c.model->config().n_vocab);
    *logits = c.logits + row * n;
    if (n_vocab != nullptr) *n_vocab = n;
  });
}

qtr_status qtr_get_hidden_state(const qtr_context* context, size_t row, const float** state, size_t* n_embd) {
  return guard([&] {
    const qtr_context& c = context_of(context);
    require(state, "state");
    if (row >= c.n_outputs) {
      invalid("row " + std::to_string(row) + " is not an output row of the last decode (it has " +
              std::to_string(c.n_outputs) + ")");
    }
    const auto n = static_cast<size_t>(c.model->config().n_embd);
    *state = c.context.hidden_states().data() + row * n;
    if (n_embd != nullptr) *n_embd = n;
  });
}

}  // extern "C"
