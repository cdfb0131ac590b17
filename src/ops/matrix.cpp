#include <omp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "kernels/kernels.hpp"
#include "kernels/quant_blocks.hpp"
#include "ops.hpp"
#include "qtr/error.hpp"

namespace qtr::ops {

namespace {

std::string short_name(const std::string& name) {
  constexpr std::string_view suffix = ".weight";
  if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
    return name.substr(0, name.size() - suffix.size());
  }
  return name;
}

[[noreturn]] void unsupported(const TensorView& view) {
  throw Error(Errc::unsupported,
              "unsupported tensor type " + tensor_type_name(view.type) + " in " + short_name(view.name));
}

std::vector<float> to_f32(const TensorView& view) {
  if (!quant::can_dequantize(view.type)) unsupported(view);
  std::vector<float> out(static_cast<size_t>(view.n_elements()));
  quant::dequantize_row(view.type, view.data.data(), out.data(), view.n_elements());
  return out;
}

// Tells the kernel it may drop the pages of a mapped range that will not be read again (the packed copy replaces
// them). Only whole pages strictly inside the range are released.
void release_pages(std::span<const uint8_t> bytes) {
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = (reinterpret_cast<uintptr_t>(bytes.data()) + page - 1) & ~(page - 1);
  const auto end = (reinterpret_cast<uintptr_t>(bytes.data()) + bytes.size()) & ~(page - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace

void Matrix::FreeAligned::operator()(uint8_t* p) const { std::free(p); }

size_t Matrix::bytes() const {
  if (kernel_) return packed_bytes_;
  return static_cast<size_t>(n_in_ * n_out_) * sizeof(float);
}

Matrix Matrix::from_view(const TensorView& view, int64_t n_in, int64_t n_out, const WeightOptions& options,
                         int n_threads) {
  if (view.ne.size() > 2 || view.dim(0) != n_in || view.dim(1) != n_out) {
    throw Error(Errc::bad_format, "tensor '" + view.name + "' has shape " + view.shape_string() + ", expected [" +
                                      std::to_string(n_in) + ", " + std::to_string(n_out) + "]");
  }
  Matrix m;
  m.n_in_ = n_in;
  m.n_out_ = n_out;
  m.f32_kernel_ = kernels::find_gemm_f32(options.isa);
  m.inputs_ = options.inputs;
  if (view.type == TensorType::F32 && reinterpret_cast<uintptr_t>(view.data.data()) % alignof(float) == 0) {
    m.f32_ = reinterpret_cast<const float*>(view.data.data());
    return m;
  }
  const kernels::MatmulKernel* kernel = kernels::find_matmul_kernel(view.type, options.isa, options.repack);
  if (kernel && kernel->in_place) {
    m.kernel_ = kernel;
    m.in_place_ = view.data.data();
    m.packed_bytes_ = view.data.size();
    return m;
  }
  if (kernel) {
    m.kernel_ = kernel;
    m.packed_bytes_ = kernel->packed_size(n_out, n_in);
    // 2 MiB-aligned and backed by huge pages where the kernel allows: weights stream from memory at every token,
    // and 4 KiB pages cost TLB misses and cut the hardware prefetcher's runs short.
    constexpr size_t kHuge = size_t{2} << 20;
    const size_t alignment = m.packed_bytes_ >= kHuge ? kHuge : 64;
    const size_t rounded = (m.packed_bytes_ + alignment - 1) & ~(alignment - 1);
    void* p = std::aligned_alloc(alignment, rounded);
    if (!p) throw Error(Errc::out_of_memory, "cannot allocate " + std::to_string(m.packed_bytes_) + " bytes for " + view.name);
    if (alignment == kHuge) ::madvise(p, rounded, MADV_HUGEPAGE);
    m.packed_.reset(static_cast<uint8_t*>(p));
    const int64_t n_tiles = (n_out + kernel->tile_rows - 1) / kernel->tile_rows;
#pragma omp parallel num_threads(n_threads)
    {
      const int64_t nt = omp_get_num_threads(), it = omp_get_thread_num();
      kernel->pack(view.data.data(), n_out, n_in, m.packed_.get(), n_tiles * it / nt, n_tiles * (it + 1) / nt);
    }
    if (options.release_mapped_source) release_pages(view.data);
    return m;
  }
  if (view.type == TensorType::F32) {  // misaligned F32: copy
    m.owned_.resize(static_cast<size_t>(view.n_elements()));
    std::memcpy(m.owned_.data(), view.data.data(), view.data.size());
  } else {
    m.owned_ = to_f32(view);
  }
  m.f32_ = m.owned_.data();
  return m;
}

Embedding Embedding::from_view(const TensorView& view, int64_t n_embd, int64_t n_vocab) {
  if (view.ne.size() != 2 || view.dim(0) != n_embd || view.dim(1) != n_vocab) {
    throw Error(Errc::bad_format, "tensor '" + view.name + "' has shape " + view.shape_string() + ", expected [" +
                                      std::to_string(n_embd) + ", " + std::to_string(n_vocab) + "]");
  }
  if (!quant::can_dequantize(view.type)) unsupported(view);
  Embedding e;
  e.view_ = view;
  e.row_bytes_ = quant::row_size(view.type, n_embd);
  return e;
}

void Embedding::lookup(int32_t token, float* out) const {
  quant::dequantize_row(view_.type, view_.data.data() + static_cast<size_t>(token) * row_bytes_, out, view_.dim(0));
}

std::vector<float> load_vector(const TensorView& view, int64_t n) {
  if (view.n_elements() != n || view.dim(0) != n) {
    throw Error(Errc::bad_format, "tensor '" + view.name + "' has shape " + view.shape_string() + ", expected [" +
                                      std::to_string(n) + "]");
  }
  if (view.type != TensorType::F32 && view.type != TensorType::F16 && view.type != TensorType::BF16) unsupported(view);
  return to_f32(view);
}

namespace {

// The quantized inputs of n_tokens rows of n_in floats (rows [t0, t1) of them, by the calling thread), in the
// layout the kernels take: [n_tokens][nb], or [n_tokens][2][nb] for int8x2.
void quantize_inputs(InputQuant inputs, const float* x, int64_t n_in, int64_t t0, int64_t t1, kernels::ActBlock* act) {
  const int64_t nb = n_in / kernels::kActBlock;
  if (inputs == InputQuant::int8x2) {
    kernels::quantize_activations_x2(x + t0 * n_in, t1 - t0, n_in, n_in, act + 2 * t0 * nb);
  } else {
    kernels::quantize_activations(x + t0 * n_in, t1 - t0, n_in, n_in, act + t0 * nb);
  }
}

// y[t][r] = W x[t] for rows r of tiles [tile_begin, tile_end). int8x2: the kernel's gemm_x2 where it has one; else
// the kernel over the 2 * n_tokens rows into `terms` ([2 * n_tokens][n_out]), each token's pair added, main first.
void gemm_tiles(const Matrix& w, int64_t tile_begin, int64_t tile_end, const kernels::ActBlock* act, int64_t n_tokens,
                float* y, float* terms) {
  const kernels::MatmulKernel* kernel = w.kernel();
  const int64_t n_out = w.n_out(), n_in = w.n_in();
  if (w.inputs() != InputQuant::int8x2) {
    kernel->gemm(w.packed(), n_out, n_in, tile_begin, tile_end, act, n_tokens, y, n_out);
    return;
  }
  if (kernel->gemm_x2) {  // the kernel adds the pairs itself: the same bits, no terms stored
    kernel->gemm_x2(w.packed(), n_out, n_in, tile_begin, tile_end, act, n_tokens, y, n_out);
    return;
  }
  kernel->gemm(w.packed(), n_out, n_in, tile_begin, tile_end, act, 2 * n_tokens, terms, n_out);
  const int64_t r0 = std::min(n_out, tile_begin * kernel->tile_rows), r1 = std::min(n_out, tile_end * kernel->tile_rows);
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* main = terms + 2 * t * n_out;
    const float* residual = main + n_out;
    float* out = y + t * n_out;
    for (int64_t r = r0; r < r1; ++r) out[r] = main[r] + residual[r];
  }
}

size_t act_rows(InputQuant inputs, int64_t n_tokens) {
  return static_cast<size_t>(inputs == InputQuant::int8x2 ? 2 * n_tokens : n_tokens);
}

}  // namespace

void matmul_many(std::span<const MatmulOutput> outputs, const float* x, int64_t n_tokens, int n_threads,
                 Workspace& ws) {
  const kernels::MatmulKernel* kernel = outputs.empty() ? nullptr : outputs[0].w->kernel();
  const InputQuant inputs = outputs.empty() ? InputQuant::int8 : outputs[0].w->inputs();
  bool shared = kernel != nullptr;
  int64_t work = 0, terms_size = 0;
  for (const auto& o : outputs) {
    shared = shared && o.w->kernel() == kernel && o.w->n_in() == outputs[0].w->n_in() && o.w->inputs() == inputs;
    work += o.w->n_out() * o.w->n_in() * n_tokens;
    terms_size += 2 * n_tokens * o.w->n_out();
  }
  if (!shared || work < 32768) {
    for (const auto& o : outputs) matmul(*o.w, x, o.y, n_tokens, n_threads, ws);
    return;
  }
  const int64_t n_in = outputs[0].w->n_in(), nb = n_in / kernels::kActBlock;
  ws.act.resize(act_rows(inputs, n_tokens) * static_cast<size_t>(nb));
  if (inputs == InputQuant::int8x2 && !kernel->gemm_x2) ws.terms.resize(static_cast<size_t>(terms_size));
  kernels::ActBlock* act = ws.act.data();
  float* terms = ws.terms.data();
#pragma omp parallel num_threads(n_threads)
  {
    const int64_t nt = omp_get_num_threads(), it = omp_get_thread_num();
    quantize_inputs(inputs, x, n_in, n_tokens * it / nt, n_tokens * (it + 1) / nt, act);
#pragma omp barrier
    float* o_terms = terms;
    for (const auto& o : outputs) {
      const int64_t n_out = o.w->n_out(), n_tiles = (n_out + kernel->tile_rows - 1) / kernel->tile_rows;
      gemm_tiles(*o.w, n_tiles * it / nt, n_tiles * (it + 1) / nt, act, n_tokens, o.y, o_terms);
      if (inputs == InputQuant::int8x2 && !kernel->gemm_x2) o_terms += 2 * n_tokens * n_out;  // each its own
    }
  }
}

void matmul(const Matrix& w, const float* x, float* y, int64_t n_tokens, int n_threads, Workspace& ws) {
  const int64_t n_out = w.n_out(), n_in = w.n_in();
  const int64_t work = n_out * n_in * n_tokens;
  const int threads = work < 32768 ? 1 : n_threads;
  if (const kernels::MatmulKernel* kernel = w.kernel()) {
    const int64_t nb = n_in / kernels::kActBlock;
    ws.act.resize(act_rows(w.inputs(), n_tokens) * static_cast<size_t>(nb));
    if (w.inputs() == InputQuant::int8x2 && !kernel->gemm_x2) ws.terms.resize(static_cast<size_t>(2 * n_tokens * n_out));
    kernels::ActBlock* act = ws.act.data();
    float* terms = ws.terms.data();
    const int64_t n_tiles = (n_out + kernel->tile_rows - 1) / kernel->tile_rows;
#pragma omp parallel num_threads(threads)
    {
      const int64_t nt = omp_get_num_threads(), it = omp_get_thread_num();
      quantize_inputs(w.inputs(), x, n_in, n_tokens * it / nt, n_tokens * (it + 1) / nt, act);
#pragma omp barrier
      gemm_tiles(w, n_tiles * it / nt, n_tiles * (it + 1) / nt, act, n_tokens, y, terms);
    }
    return;
  }
  // Each row's sum is computed by one thread in a fixed order.
#pragma omp parallel num_threads(threads)
  {
    const int64_t nt = omp_get_num_threads(), it = omp_get_thread_num();
    const int64_t begin = n_out * it / nt, end = n_out * (it + 1) / nt;
    w.f32_kernel()(w.f32(), n_in, begin, end, x, n_in, y, n_out, n_tokens);
  }
}

}  // namespace qtr::ops
