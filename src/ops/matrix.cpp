#include <omp.h>

#include <cstring>

#include "kernels/kernels.hpp"
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

std::vector<float> to_f32(const TensorView& view) {
  const size_t n = static_cast<size_t>(view.n_elements());
  std::vector<float> out(n);
  const auto* src = reinterpret_cast<const uint16_t*>(view.data.data());
  if (view.type == TensorType::F16) kernels::convert_f16_to_f32__scalar(src, out.data(), n);
  else kernels::convert_bf16_to_f32__scalar(src, out.data(), n);
  return out;
}
}  // namespace

void require_float_type(const TensorView& view) {
  if (view.type != TensorType::F32 && view.type != TensorType::F16 && view.type != TensorType::BF16) {
    throw Error(Errc::unsupported,
                "unsupported tensor type " + tensor_type_name(view.type) + " in " + short_name(view.name));
  }
}

Matrix Matrix::from_view(const TensorView& view, int64_t n_in, int64_t n_out) {
  if (view.ne.size() > 2 || view.dim(0) != n_in || view.dim(1) != n_out) {
    throw Error(Errc::bad_format, "tensor '" + view.name + "' has shape " + view.shape_string() + ", expected [" +
                                      std::to_string(n_in) + ", " + std::to_string(n_out) + "]");
  }
  require_float_type(view);
  Matrix m;
  m.n_in_ = n_in;
  m.n_out_ = n_out;
  if (view.type == TensorType::F32) {
    if (reinterpret_cast<uintptr_t>(view.data.data()) % alignof(float) != 0) {
      m.owned_.resize(static_cast<size_t>(view.n_elements()));
      std::memcpy(m.owned_.data(), view.data.data(), view.data.size());
    } else {
      m.data_ = reinterpret_cast<const float*>(view.data.data());
      return m;
    }
  } else {
    m.owned_ = to_f32(view);
  }
  m.data_ = m.owned_.data();
  return m;
}

std::vector<float> load_vector(const TensorView& view, int64_t n) {
  if (view.n_elements() != n || view.dim(0) != n) {
    throw Error(Errc::bad_format, "tensor '" + view.name + "' has shape " + view.shape_string() + ", expected [" +
                                      std::to_string(n) + "]");
  }
  require_float_type(view);
  if (view.type != TensorType::F32) return to_f32(view);
  std::vector<float> out(static_cast<size_t>(n));
  std::memcpy(out.data(), view.data.data(), view.data.size());
  return out;
}

void matmul(const Matrix& w, const float* x, float* y, int64_t n_tokens, int n_threads) {
  const int64_t n_out = w.n_out();
  // Split output rows into equal chunks; each row's sum is computed by one thread in a fixed order.
  const int64_t work = n_out * w.n_in() * n_tokens;
  const int threads = work < 32768 ? 1 : n_threads;
#pragma omp parallel num_threads(threads)
  {
    const int64_t nt = omp_get_num_threads(), it = omp_get_thread_num();
    const int64_t begin = n_out * it / nt, end = n_out * (it + 1) / nt;
    kernels::gemm_f32_f32__scalar(w.data(), w.n_in(), begin, end, x, w.n_in(), y, n_out, n_tokens);
  }
}

}  // namespace qtr::ops
