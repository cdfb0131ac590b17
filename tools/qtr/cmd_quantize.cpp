// qtr quantize — write a GGUF whose weight matrices are converted to another type (quantized, or requantized
// from any type qtr can dequantize). Vectors (norms, biases) and matrices whose rows are not a whole number of
// blocks stay as they are, reported on stderr.
#include <cstdio>
#include <vector>

#include "commands.hpp"
#include "kernels/quant_blocks.hpp"
#include "qtr/error.hpp"
#include "qtr/gguf.hpp"
#include "qtr/gguf_writer.hpp"
#include "qtr/hf_import.hpp"

namespace qtr::cli {

namespace {

constexpr OptionSpec kOptions[] = {
    {"--model", "PATH", "input GGUF, or a Hugging Face checkpoint directory (config.json, *.safetensors, tokenizer.model)"},
    {"--out", "PATH", "output GGUF"},
    {"--type", "TYPE", "target type of the weight matrices: q4_0 q4_1 q5_0 q5_1 q8_0 q4_k q5_k q6_k f16 bf16 f32"},
};

// llama.cpp's general.file_type values, so other tools label the file correctly.
uint32_t file_type(TensorType t) {
  switch (t) {
    case TensorType::F32: return 0;
    case TensorType::F16: return 1;
    case TensorType::Q4_0: return 2;
    case TensorType::Q4_1: return 3;
    case TensorType::Q8_0: return 7;
    case TensorType::Q5_0: return 8;
    case TensorType::Q5_1: return 9;
    case TensorType::Q4_K: return 15;
    case TensorType::Q5_K: return 17;
    case TensorType::Q6_K: return 18;
    case TensorType::BF16: return 32;
    default: return 0;
  }
}

int run(const Args& args) {
  if (!args.positional().empty()) throw UsageError{"unexpected argument '" + args.positional()[0] + "'"};
  const std::string in = args.require("--model"), out = args.require("--out");
  const auto type = parse_tensor_type(args.require("--type"));
  if (!type || !quant::can_quantize(*type)) throw UsageError{"--type: cannot quantize to '" + args.require("--type") + "'"};
  const GgufFile file = open_model_file(in);  // a GGUF file or a Hugging Face checkpoint directory
  GgufWriter writer;
  for (const auto& [key, value] : file.metadata()) {
    if (key != "general.file_type" && key != "general.quantization_version") writer.set(key, value);
  }
  writer.set("general.quantization_version", GgufValue{uint32_t{2}});
  writer.set("general.file_type", GgufValue{file_type(*type)});
  const uint32_t block = tensor_type_info(*type).block_size;
  size_t converted = 0, kept = 0;
  for (const auto& info : file.tensor_infos()) {
    const TensorView view = file.tensor(info);
    const bool matrix = view.ne.size() == 2 && info.name.size() > 7 &&
                        info.name.compare(info.name.size() - 7, 7, ".weight") == 0;
    if (!matrix || view.type == *type || view.ne[0] % block != 0 || !quant::can_dequantize(view.type)) {
      if (matrix && view.type != *type) {
        std::fprintf(stderr, "qtr quantize: keeping %s as %s (rows of %lld are not a multiple of %u)\n",
                     info.name.c_str(), tensor_type_name(view.type).c_str(), static_cast<long long>(view.ne[0]), block);
      }
      writer.add_tensor_view(info.name, view.type, view.ne, view.data);
      ++kept;
      continue;
    }
    const int64_t n_cols = view.ne[0], n_rows = view.n_elements() / n_cols;
    std::vector<float> row(static_cast<size_t>(n_cols));
    const size_t in_row = quant::row_size(view.type, n_cols), out_row = quant::row_size(*type, n_cols);
    std::vector<uint8_t> data(out_row * static_cast<size_t>(n_rows));
    for (int64_t r = 0; r < n_rows; ++r) {
      quant::dequantize_row(view.type, view.data.data() + r * in_row, row.data(), n_cols);
      quant::quantize_row(*type, row.data(), data.data() + r * out_row, n_cols);
    }
    writer.add_tensor(info.name, *type, view.ne, std::move(data));
    ++converted;
  }
  writer.write(out);
  std::fprintf(stderr, "qtr quantize: %zu tensors converted to %s, %zu kept, wrote %s\n", converted,
               tensor_type_name(*type).c_str(), kept, out.c_str());
  return 0;
}

}  // namespace

const Command kQuantizeCommand{"quantize", "Convert a model's weight matrices to another type.",
                               "--model IN.gguf --out OUT.gguf --type q8_0", kOptions, &run};

}  // namespace qtr::cli
