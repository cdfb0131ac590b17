#include "qtr/context.hpp"

#include <algorithm>
#include <map>

#include "models/graph.hpp"
#include "qtr/error.hpp"
#include "runtime/kv_pool.hpp"

namespace qtr {

namespace {

KvGeometry geometry_for(const Model& model, const ContextOptions& o, int64_t n_ctx) {
  const ModelConfig& c = model.config();
  KvGeometry g;
  g.n_layers = c.n_layer;
  g.layer_window = model.graph().layer_windows();
  g.type = kernels::parse_kv_type(o.kv_type);
  g.kv_dim = c.kv_dim();
  g.page_size = o.kv_page_size;
  g.max_seq_len = n_ctx;
  g.batch_positions = o.n_ubatch;
  g.budget_bytes = o.kv_budget_bytes;
  if (g.budget_bytes == 0) g.budget_bytes = KvPool::bytes_for_sequences(g, o.n_seq);
  return g;
}

std::string seq_name(SeqId seq) { return "sequence " + std::to_string(seq); }

}  // namespace

Context::Context(std::shared_ptr<const Model> model, const ContextOptions& o) : model_(std::move(model)) {
  if (!model_) throw Error(Errc::invalid_argument, "Context needs a model");
  const ModelConfig& c = model_->config();
  if (o.n_ctx < 0) throw Error(Errc::invalid_argument, "context length must be >= 0");
  if (o.n_threads < 0) throw Error(Errc::invalid_argument, "thread count must be >= 0");
  if (o.n_seq < 1) throw Error(Errc::invalid_argument, "n_seq must be >= 1");
  if (o.kv_page_size < 1 || o.kv_page_size > 4096) {
    throw Error(Errc::invalid_argument, "KV page size must be in 1..4096");
  }
  if (o.n_ubatch < 1) throw Error(Errc::invalid_argument, "n_ubatch must be >= 1");
  n_ctx_ = o.n_ctx > 0 ? o.n_ctx : std::min<int64_t>(c.n_ctx_train, 4096);
  n_threads_ = o.n_threads > 0 ? o.n_threads : model_->default_threads();
  n_ubatch_ = o.n_ubatch;
  if (kernels::parse_kv_type(o.kv_type) == kernels::KvType::q8_0 && c.head_dim % 32 != 0) {
    throw Error(Errc::invalid_argument, "KV cache type q8_0 needs a head size that is a multiple of 32 (blocks of 32 "
                                        "per head); this model's is " + std::to_string(c.head_dim) + ": use f16 or f32");
  }
  if (c.head_dim > kernels::kPagedAttentionMaxHeadDim) {
    throw Error(Errc::unsupported, "head size " + std::to_string(c.head_dim) + " is larger than the attention "
                                   "kernels support (" + std::to_string(kernels::kPagedAttentionMaxHeadDim) + ")");
  }
  pool_ = std::make_unique<KvPool>(geometry_for(*model_, o, n_ctx_));
  workspace_ = std::make_unique<ops::Workspace>();
}

Context::~Context() = default;
Context::Context(Context&&) noexcept = default;
Context& Context::operator=(Context&&) noexcept = default;

SeqId Context::create_sequence() { return pool_->create(); }
SeqId Context::fork_sequence(SeqId source) { return pool_->fork(source); }
void Context::truncate_sequence(SeqId seq, int64_t n_keep) { pool_->truncate(seq, n_keep); }
void Context::remove_sequence(SeqId seq) { pool_->remove(seq); }
int64_t Context::sequence_length(SeqId seq) const { return pool_->length(seq); }
bool Context::has_sequence(SeqId seq) const { return pool_->contains(seq); }

KvMemory Context::kv_memory() const {
  const KvMemoryReport r = pool_->memory_report();
  return {r.bytes_total, r.bytes_used, r.bytes_per_token, r.pages_total, r.pages_free, r.pages_used, r.pages_shared};
}

std::span<const float> Context::decode(std::span<const BatchEntry> batch) {
  const ModelConfig& c = model_->config();
  if (batch.empty()) throw Error(Errc::invalid_argument, "decode needs at least one batch entry");
  // Check everything before touching the cache.
  std::map<SeqId, int64_t> start;  // sequence -> its length before the batch
  size_t n_out = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    const BatchEntry& e = batch[i];
    if (e.token < 0 || e.token >= c.n_vocab) {
      throw Error(Errc::invalid_argument, "batch entry " + std::to_string(i) + ": token id " +
                                              std::to_string(e.token) + " is outside the vocabulary (" +
                                              std::to_string(c.n_vocab) + " tokens)");
    }
    if (!pool_->contains(e.seq)) {
      throw Error(Errc::invalid_argument, "batch entry " + std::to_string(i) + ": unknown " + seq_name(e.seq));
    }
    const bool continues = i > 0 && batch[i - 1].seq == e.seq;
    if (!continues && start.count(e.seq)) {
      throw Error(Errc::invalid_argument, "batch entry " + std::to_string(i) + ": the entries of " +
                                              seq_name(e.seq) + " are not consecutive in the batch");
    }
    const int64_t expected = continues ? batch[i - 1].pos + 1 : pool_->length(e.seq);
    if (!continues) start[e.seq] = expected;
    if (e.pos != expected) {
      throw Error(Errc::invalid_argument, "batch entry " + std::to_string(i) + ": " + seq_name(e.seq) +
                                              " is at position " + std::to_string(expected) + ", not " +
                                              std::to_string(e.pos) + " (positions must continue the sequence)");
    }
    if (e.pos >= n_ctx_) {
      throw Error(Errc::invalid_argument, "context full: " + seq_name(e.seq) + " would reach position " +
                                              std::to_string(e.pos) + " but the context holds " +
                                              std::to_string(n_ctx_) + " positions");
    }
    n_out += e.logits ? 1 : 0;
  }
  logits_.resize(n_out * static_cast<size_t>(c.n_vocab));
  hidden_.resize(n_out * static_cast<size_t>(c.n_embd));
  // Slices of at most n_ubatch rows; on any failure every sequence goes back to its length before the batch.
  try {
    size_t out = 0;
    for (size_t begin = 0; begin < batch.size(); begin += static_cast<size_t>(n_ubatch_)) {
      const auto slice = batch.subspan(begin, std::min(batch.size() - begin, static_cast<size_t>(n_ubatch_)));
      run_slice(slice, out, logits_.data(), hidden_.data());
      for (const BatchEntry& e : slice) out += e.logits ? 1 : 0;
    }
  } catch (...) {
    for (const auto& [seq, length] : start) {
      if (pool_->length(seq) != length || pool_->reserved_end(seq) != length) pool_->truncate(seq, length);
    }
    throw;
  }
  return logits_;
}

void Context::run_slice(std::span<const BatchEntry> batch, size_t first_output, float* logits, float* hidden) {
  const ModelConfig& c = model_->config();
  std::vector<TokenId> tokens(batch.size());
  std::vector<int64_t> positions(batch.size()), output_rows;
  std::vector<ops::BatchSegment> segments;
  for (size_t i = 0; i < batch.size(); ++i) {
    tokens[i] = batch[i].token;
    positions[i] = batch[i].pos;
    if (batch[i].logits) output_rows.push_back(static_cast<int64_t>(i));
    if (segments.empty() || segments.back().seq != batch[i].seq) {
      segments.push_back({batch[i].seq, static_cast<int64_t>(i), 0, batch[i].pos});
    }
    ++segments.back().n_rows;
  }
  for (const ops::BatchSegment& s : segments) pool_->reserve(s.seq, s.n_rows);  // all or nothing per sequence
  const ForwardBatch forward{tokens, positions, segments, output_rows};
  model_->graph().forward(forward, *pool_, *workspace_, logits + first_output * static_cast<size_t>(c.n_vocab),
                          hidden + first_output * static_cast<size_t>(c.n_embd), n_threads_);
  for (const ops::BatchSegment& s : segments) pool_->commit(s.seq, s.n_rows);
}

}  // namespace qtr
