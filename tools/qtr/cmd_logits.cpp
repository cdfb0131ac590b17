// qtr logits — run token ids through a model and write the logits as raw float32, one row of n_vocab per position.
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "commands.hpp"
#include "load_args.hpp"
#include "qtr/error.hpp"
#include "qtr/model.hpp"

namespace qtr::cli {

namespace {

constexpr OptionSpec kOptions[] = {
    {"--model", "PATH", "GGUF model file"},
    {"--ids", "LIST", "comma-separated token ids, e.g. 1,2,3 (BOS is not added)"},
    {"--out", "FILE", "where to write the logits (little-endian float32, [n_ids][n_vocab])"},
    {"--threads", "N", "threads (default: all hardware threads)"},
    {"--kv-type", "TYPE", "element type of the KV cache: f32 (default here, for exact comparisons), f16 or q8_0"},
    kMatmulInputsOption,
    {"--no-repack", "", "keep quantized weights in their GGUF rows (in-place kernels; same numbers, for comparison)"},
};

std::vector<TokenId> parse_ids(const std::string& list) {
  std::vector<TokenId> ids;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t end = std::min(list.find(',', start), list.size());
    const std::string item = list.substr(start, end - start);
    char* stop = nullptr;
    errno = 0;
    const long long v = std::strtoll(item.c_str(), &stop, 10);
    const bool digits = !item.empty() && item.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || *stop != '\0' || errno == ERANGE || v < 0 || v > INT32_MAX) {
      throw UsageError{"--ids: '" + item + "' is not a token id"};
    }
    ids.push_back(static_cast<TokenId>(v));
    start = end + 1;
  }
  return ids;
}

int run(const Args& args) {
  if (!args.positional().empty()) throw UsageError{"unexpected argument '" + args.positional()[0] + "'"};
  const std::string path = args.require("--model");
  const std::vector<TokenId> ids = parse_ids(args.require("--ids"));
  const std::string out_path = args.require("--out");
  LoadOptions load;
  read_matmul_inputs(args, load);
  load.n_threads = static_cast<int>(args.integer("--threads", 0, 1, 1024));
  load.repack = !args.flag("--no-repack");
  const auto model = Model::load(path, load);
  SessionOptions options;
  options.n_ctx = std::max<int64_t>(static_cast<int64_t>(ids.size()), std::min<int64_t>(model->config().n_ctx_train, 4096));
  options.kv_type = args.string("--kv-type").value_or("f32");
  Session session(model, options);
  const auto logits = session.eval(ids, /*all_logits=*/true);
  std::FILE* f = std::fopen(out_path.c_str(), "wb");
  if (!f) throw Error(Errc::io, "cannot create '" + out_path + "': " + std::strerror(errno));
  const size_t written = std::fwrite(logits.data(), sizeof(float), logits.size(), f);
  if (std::fclose(f) != 0 || written != logits.size()) {
    throw Error(Errc::io, "cannot write '" + out_path + "': " + std::strerror(errno));
  }
  std::fprintf(stderr, "qtr logits: wrote %zu x %lld float32 to %s\n", ids.size(),
               static_cast<long long>(model->config().n_vocab), out_path.c_str());
  return 0;
}

}  // namespace

const Command kLogitsCommand{"logits", "Write the logits of every position of a token sequence.",
                             "--model PATH --ids 1,2,3 --out FILE", kOptions, &run};

}  // namespace qtr::cli
