// qtr_quant_tool — the scalar reference quantizers (kernels/quant_blocks.hpp) on raw files, for the Python tests.
//
//   qtr_quant_tool quantize   TYPE in.f32 out.bin   little-endian float32 -> blocks of TYPE
//   qtr_quant_tool dequantize TYPE in.bin out.f32   blocks of TYPE -> little-endian float32
//
// TYPE as GGML spells it, any case (q4_K, Q8_0, bf16). The whole file is one row, so its element count must be a
// multiple of the block size (every block is quantized independently, so rows need no separate treatment).
// Exit status: 0 success, 1 failure (message on stderr), 2 usage.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/quant_blocks.hpp"
#include "qtr/error.hpp"
#include "qtr/tensor_type.hpp"

namespace {

using qtr::Errc;
using qtr::Error;

std::vector<unsigned char> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(Errc::io, "cannot open " + path);
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(Errc::io, "cannot read " + path);
  return bytes;
}

void write_file(const std::string& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out.flush()) throw Error(Errc::io, "cannot write " + path);
}

void quantize(qtr::TensorType type, const std::string& in_path, const std::string& out_path) {
  const std::vector<unsigned char> bytes = read_file(in_path);
  if (bytes.size() % sizeof(float) != 0) {
    throw Error(Errc::invalid_argument, in_path + ": size is not a multiple of 4 bytes");
  }
  std::vector<float> x(bytes.size() / sizeof(float));
  if (!bytes.empty()) std::memcpy(x.data(), bytes.data(), bytes.size());
  const auto n = static_cast<int64_t>(x.size());
  std::vector<unsigned char> blocks(qtr::quant::row_size(type, n));
  qtr::quant::quantize_row(type, x.data(), blocks.data(), n);
  write_file(out_path, blocks.data(), blocks.size());
}

void dequantize(qtr::TensorType type, const std::string& in_path, const std::string& out_path) {
  const std::vector<unsigned char> blocks = read_file(in_path);
  const qtr::TensorTypeInfo& info = qtr::tensor_type_info(type);
  if (blocks.size() % info.type_size != 0) {
    throw Error(Errc::invalid_argument, in_path + ": size is not a multiple of " + std::string(info.name) +
                                            "'s block size (" + std::to_string(info.type_size) + " bytes)");
  }
  const auto n = static_cast<int64_t>(blocks.size() / info.type_size * info.block_size);
  std::vector<float> y(static_cast<size_t>(n));
  qtr::quant::dequantize_row(type, blocks.data(), y.data(), n);
  write_file(out_path, y.data(), y.size() * sizeof(float));
}

int usage() {
  std::fputs("usage: qtr_quant_tool quantize TYPE in.f32 out.bin\n"
             "       qtr_quant_tool dequantize TYPE in.bin out.f32\n",
             stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) return usage();
  const std::string_view command = argv[1];
  const std::optional<qtr::TensorType> type = qtr::parse_tensor_type(argv[2]);
  if (!type) {
    std::fprintf(stderr, "qtr_quant_tool: unknown tensor type '%s'\n", argv[2]);
    return 2;
  }
  try {
    if (command == "quantize") {
      quantize(*type, argv[3], argv[4]);
    } else if (command == "dequantize") {
      dequantize(*type, argv[3], argv[4]);
    } else {
      return usage();
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "qtr_quant_tool: %s: %s\n", qtr::errc_name(e.code()), e.what());
    return 1;
  }
  return 0;
}
