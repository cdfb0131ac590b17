// TensorView — a typed, shaped, read-only window onto tensor bytes owned by someone else (usually a mapped file).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "qtr/tensor_type.hpp"

namespace qtr {

struct TensorView {
  std::string name;
  TensorType type = TensorType::F32;
  // GGML order: ne[0] is the innermost, contiguous dimension (a weight matrix of n_out rows of n_in elements has
  // ne = {n_in, n_out}). safetensors' row-major shapes are reversed into this order.
  std::vector<int64_t> ne;
  std::span<const uint8_t> data;  // exactly the tensor's bytes

  int64_t n_elements() const {
    int64_t n = 1;
    for (int64_t d : ne) n *= d;  // the readers checked this product for overflow
    return n;
  }
  int64_t dim(size_t i) const { return i < ne.size() ? ne[i] : 1; }
  std::string shape_string() const;  // "[64, 512]"
};

}  // namespace qtr
