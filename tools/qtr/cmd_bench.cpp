// qtr bench — prompt-processing and generation speed, measured the way llama-bench measures them:
//   ppN: one batch of N random tokens;   tgN: N single-token decode steps;
// both after a context of --depth D tokens (not timed; llama-bench's -d). With --parallel P, P independent
// sequences run at once: pp decodes all P prompts in one batch, tg advances all P sequences by one token per step
// (one forward pass each), and the speed is the aggregate over all P.
// Each test runs once as a warm-up, then -r times; speeds are reported as mean ± standard deviation of tokens/s.
// --json prints one JSON object per test and line, with llama-bench's field names (plus n_parallel), so tools for
// it read ours.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>
#include <sstream>

#include "commands.hpp"
#include "load_args.hpp"
#include "kernels/cpu_features.hpp"
#include "qtr/error.hpp"
#include "qtr/context.hpp"
#include "qtr/gguf.hpp"
#include "qtr/model.hpp"

namespace qtr::cli {

namespace {

constexpr OptionSpec kOptions[] = {
    {"--model", "PATH", "GGUF model file (also -m)"},
    {"-m", "PATH", "GGUF model file"},
    {"-p", "N[,N..]", "prompt tokens per pp test (default 512; 0 = no pp test)"},
    {"-n", "N[,N..]", "tokens per tg test (default 128; 0 = no tg test)"},
    {"-t", "T[,T..]", "thread counts (default: all hardware threads)"},
    {"-r", "R", "repetitions (default 5)"},
    {"--parallel", "P[,P..]", "sequences decoded together (default 1); speeds are aggregate tokens/s"},
    {"--depth", "D[,D..]", "tokens already in each sequence's context before the test (default 0)"},
    {"--kv-type", "TYPE", "element type of the KV cache: f16 (default), q8_0 or f32"},
    kMatmulInputsOption,
    {"--json", "", "one JSON object per test (llama-bench's jsonl fields)"},
    {"--isa", "NAME", "kernels: scalar, avx2, avx512, neon (default: $QTR_ISA or the best)"},
    {"--no-repack", "", "do not pack quantized weights: in-place kernels on the GGUF rows (to compare)"},
};

std::vector<int64_t> int_list(const Args& args, const char* name, int64_t fallback, int64_t min, int64_t max) {
  const auto text = args.string(name);
  if (!text) return {fallback};
  std::vector<int64_t> out;
  std::stringstream ss(*text);
  for (std::string item; std::getline(ss, item, ',');) {
    char* end = nullptr;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v < min || v > max) {
      throw UsageError{std::string(name) + ": '" + item + "' must be an integer from " + std::to_string(min) +
                       " to " + std::to_string(max)};
    }
    out.push_back(v);
  }
  return out;
}

struct Stats {
  double avg_ns = 0, stddev_ns = 0, avg_ts = 0, stddev_ts = 0;
  std::vector<double> samples_ns, samples_ts;
};

Stats summarize(const std::vector<double>& ns, int64_t tokens) {
  Stats s;
  s.samples_ns = ns;
  for (double t : ns) s.samples_ts.push_back(1e9 * static_cast<double>(tokens) / t);
  auto mean_sd = [](const std::vector<double>& v, double& mean, double& sd) {
    mean = 0;
    for (double x : v) mean += x;
    mean /= static_cast<double>(v.size());
    double var = 0;
    for (double x : v) var += (x - mean) * (x - mean);
    sd = v.size() > 1 ? std::sqrt(var / static_cast<double>(v.size() - 1)) : 0.0;
  };
  mean_sd(s.samples_ns, s.avg_ns, s.stddev_ns);
  mean_sd(s.samples_ts, s.avg_ts, s.stddev_ts);
  return s;
}

std::string json_array(const std::vector<double>& v, bool integers) {
  std::string out = "[";
  char buf[64];
  for (size_t i = 0; i < v.size(); ++i) {
    std::snprintf(buf, sizeof buf, integers ? "%.0f" : "%.6f", v[i]);
    out += (i ? ", " : "") + std::string(buf);
  }
  return out + "]";
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

int run(const Args& args) {
  const std::string path = args.has("-m") ? args.require("-m") : args.require("--model");
  const auto prompts = int_list(args, "-p", 512, 0, 1 << 16);
  const auto gens = int_list(args, "-n", 128, 0, 1 << 16);
  const auto threads = int_list(args, "-t", 0, 0, 1024);
  const int64_t reps = args.integer("-r", 5, 1, 1000);
  const bool json = args.flag("--json");
  const auto parallel = int_list(args, "--parallel", 1, 1, 4096);
  const auto depths = int_list(args, "--depth", 0, 0, 1 << 20);

  uint64_t model_size = 0, n_params = 0;
  std::string type_name;
  {
    const GgufFile file = GgufFile::open(path);
    for (const auto& t : file.tensor_infos()) {
      model_size += t.n_bytes;
      uint64_t n = 1;
      for (int64_t d : t.ne) n *= static_cast<uint64_t>(d);
      n_params += n;
      if (t.name == "blk.0.ffn_up.weight") type_name = tensor_type_name(t.type);
    }
  }
  LoadOptions load;
  read_matmul_inputs(args, load);
  load.isa = args.string("--isa").value_or("");
  load.repack = !args.flag("--no-repack");
  const auto model = Model::load(path, load);
  const std::string model_type = model->config().architecture + " " + type_name;
  std::mt19937 rng(42);
  std::uniform_int_distribution<TokenId> token(0, static_cast<TokenId>(model->config().n_vocab - 1));

  if (!json) {
    std::printf("| model | size | params | backend | threads | test | t/s |\n");
    std::printf("| ----- | ---: | -----: | ------- | ------: | ---: | --: |\n");
  }
  struct Test {
    int64_t n_prompt, n_gen;
  };
  std::vector<Test> tests;
  for (int64_t p : prompts) {
    if (p > 0) tests.push_back({p, 0});
  }
  for (int64_t g : gens) {
    if (g > 0) tests.push_back({0, g});
  }
  const std::string kv_type = args.string("--kv-type").value_or("f16");
  for (int64_t t : threads) {
    for (int64_t n_par : parallel) {
      for (int64_t depth : depths) {
        int64_t longest = 1;
        for (const Test& test : tests) longest = std::max(longest, test.n_prompt + test.n_gen);
        ContextOptions co;
        co.n_threads = static_cast<int>(t);
        co.n_seq = static_cast<int>(n_par);
        co.n_ctx = depth + longest;
        co.kv_type = kv_type;
        Context ctx(model, co);
        std::vector<SeqId> seqs;
        for (int64_t i = 0; i < n_par; ++i) seqs.push_back(ctx.create_sequence());
        std::vector<BatchEntry> batch;
        auto random_batch = [&](int64_t per_seq) {  // per_seq new tokens of every sequence, last one wants logits
          batch.clear();
          for (SeqId s : seqs) {
            const int64_t at = ctx.sequence_length(s);
            for (int64_t i = 0; i < per_seq; ++i) batch.push_back({s, token(rng), at + i, i == per_seq - 1});
          }
          return std::span<const BatchEntry>(batch);
        };
        if (depth > 0) ctx.decode(random_batch(depth));  // the context every test starts from (not timed)
        for (const Test& test : tests) {
          auto run_once = [&]() {
            for (SeqId s : seqs) ctx.truncate_sequence(s, depth);
            const auto start = std::chrono::steady_clock::now();
            if (test.n_prompt > 0) {
              ctx.decode(random_batch(test.n_prompt));
            } else {
              for (int64_t i = 0; i < test.n_gen; ++i) ctx.decode(random_batch(1));
            }
            return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
          };
          run_once();  // warm-up
          std::vector<double> ns;
          for (int64_t r = 0; r < reps; ++r) ns.push_back(run_once());
          const Stats s = summarize(ns, (test.n_prompt + test.n_gen) * n_par);
          const int n_threads = t > 0 ? static_cast<int>(t) : model->default_threads();
          std::string name = test.n_prompt > 0 ? "pp" + std::to_string(test.n_prompt) : "tg" + std::to_string(test.n_gen);
          if (depth > 0) name += " @ d" + std::to_string(depth);
          if (n_par > 1) name += " x" + std::to_string(n_par);
          if (json) {
            char time_buf[32];
            const std::time_t now = std::time(nullptr);
            std::strftime(time_buf, sizeof time_buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
            std::printf("{\"build_commit\": %s, \"cpu_info\": %s, \"backends\": \"CPU\", \"isa\": %s, "
                        "\"model_filename\": %s, \"model_type\": %s, \"model_size\": %llu, \"model_n_params\": %llu, "
                        "\"matmul_inputs\": \"%s\", \"n_threads\": %d, \"type_k\": %s, \"type_v\": %s, \"n_parallel\": %lld, "
                        "\"n_prompt\": %lld, \"n_gen\": %lld, \"n_depth\": %lld, \"test_time\": \"%s\", "
                        "\"avg_ns\": %.0f, \"stddev_ns\": %.0f, \"avg_ts\": %.6f, \"stddev_ts\": %.6f, "
                        "\"samples_ns\": %s, \"samples_ts\": %s}\n",
                        json_string(QTR_BUILD_COMMIT).c_str(), json_string(kernels::cpu_features().brand).c_str(),
                        json_string(model->isa()).c_str(), json_string(path).c_str(), json_string(model_type).c_str(),
                        static_cast<unsigned long long>(model_size), static_cast<unsigned long long>(n_params),
                        matmul_inputs_name(model->matmul_inputs()), n_threads, json_string(kv_type).c_str(), json_string(kv_type).c_str(),
                        static_cast<long long>(n_par), static_cast<long long>(test.n_prompt),
                        static_cast<long long>(test.n_gen), static_cast<long long>(depth), time_buf, s.avg_ns,
                        s.stddev_ns, s.avg_ts, s.stddev_ts, json_array(s.samples_ns, true).c_str(),
                        json_array(s.samples_ts, false).c_str());
          } else {
            std::printf("| %s | %.2f MiB | %.2f B | CPU (%s%s%s) | %d | %s | %.2f ± %.2f |\n", model_type.c_str(),
                        static_cast<double>(model_size) / (1 << 20), static_cast<double>(n_params) / 1e9,
                        model->isa(), load.repack ? "" : ", no repack",
                        model->matmul_inputs() == MatmulInputs::int8 ? ", int8 inputs" : "", n_threads, name.c_str(), s.avg_ts,
                        s.stddev_ts);
          }
          std::fflush(stdout);
        }
      }
    }
  }
  return 0;
}

}  // namespace

const Command kBenchCommand{"bench", "Measure prompt-processing and generation speed (llama-bench style).",
                            "-m MODEL [-p 512] [-n 128] [-t T] [-r 5] [--parallel P] [--depth D] [--json]", kOptions, &run};

}  // namespace qtr::cli
