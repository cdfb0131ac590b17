// classify — zero-shot classification of many short texts in one batch, with the C++ API.
//
//   classify MODEL [--labels happy,sad] [--check] [TEXT...]
//
// Each text becomes the prompt "<text> The story is" in a sequence of its own; every prompt goes into one batch of
// one Context, which returns the logits after each prompt. A text's label is the one whose first token has the
// largest logit there (its probability is a softmax over the labels' logits). --check runs each text again alone
// and fails when its label logits differ from the batched ones by more than 1e-3.
//
// Built in-tree against the static C++ libraries (the installed package carries only the C API).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "qtr/context.hpp"
#include "qtr/error.hpp"
#include "qtr/model.hpp"

namespace {

const std::vector<std::string> kDefaultTexts = {
    "The dog found a big red ball and played with it all day.",
    "Lily lost her favorite toy and could not find it anywhere.",
    "Tom and his mom baked a cake and ate it together.",
    "The little bird broke its wing and could not fly.",
    "The sun was shining and the children laughed in the park.",
    "Ben was alone in the dark and he was scared.",
    "Sue got a new puppy for her birthday.",
    "The rain ruined the picnic and everyone went home.",
};

struct Args {
  std::string model;
  std::vector<std::string> labels = {"happy", "sad"};
  std::vector<std::string> texts;
  bool check = false;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// The first token a label adds after the prompt (so the label's leading space is tokenized as in running text).
qtr::TokenId label_token(const qtr::Tokenizer& tokenizer, const std::string& prompt, const std::string& label) {
  const std::vector<qtr::TokenId> base = tokenizer.encode(prompt);
  const std::vector<qtr::TokenId> with = tokenizer.encode(prompt + " " + label);
  size_t common = 0;
  while (common < base.size() && common < with.size() && base[common] == with[common]) ++common;
  if (common == with.size()) throw qtr::Error(qtr::Errc::invalid_argument, "label '" + label + "' adds no token");
  return with[common];
}

// Runs every prompt in its own new sequence of `context`, in one batch; returns each one's last logits.
std::vector<std::vector<float>> batched_logits(qtr::Context& context,
                                               const std::vector<std::vector<qtr::TokenId>>& prompts) {
  std::vector<qtr::SeqId> seqs;
  std::vector<qtr::BatchEntry> batch;
  for (const auto& prompt : prompts) {
    const qtr::SeqId seq = context.create_sequence();
    seqs.push_back(seq);
    for (size_t i = 0; i < prompt.size(); ++i) {
      batch.push_back({seq, prompt[i], static_cast<int64_t>(i), i + 1 == prompt.size()});
    }
  }
  const std::span<const float> logits = context.decode(batch);  // [prompts][n_vocab]
  const size_t n_vocab = logits.size() / prompts.size();
  std::vector<std::vector<float>> rows;
  for (size_t r = 0; r < prompts.size(); ++r) {
    rows.emplace_back(logits.begin() + static_cast<std::ptrdiff_t>(r * n_vocab),
                      logits.begin() + static_cast<std::ptrdiff_t>((r + 1) * n_vocab));
  }
  for (qtr::SeqId seq : seqs) context.remove_sequence(seq);
  return rows;
}

int run(const Args& args) {
  const auto model = qtr::Model::load(args.model);
  const qtr::Tokenizer& tokenizer = model->tokenizer();
  const std::vector<std::string>& texts = args.texts.empty() ? kDefaultTexts : args.texts;

  std::vector<std::vector<qtr::TokenId>> prompts;
  size_t longest = 0;
  for (const std::string& text : texts) {
    prompts.push_back(tokenizer.encode(text + " The story is"));
    longest = std::max(longest, prompts.back().size());
  }
  std::vector<qtr::TokenId> label_ids;
  for (const std::string& label : args.labels) {
    label_ids.push_back(label_token(tokenizer, texts.front() + " The story is", label));
    for (size_t l = 0; l + 1 < label_ids.size(); ++l) {
      if (label_ids[l] == label_ids.back()) {
        throw qtr::Error(qtr::Errc::invalid_argument, "labels '" + args.labels[l] + "' and '" + label +
                                                          "' start with the same token; pick other labels");
      }
    }
  }

  qtr::ContextOptions options;
  options.n_ctx = static_cast<int64_t>(longest);
  options.n_seq = static_cast<int>(texts.size());  // the KV budget holds every sequence at once
  qtr::Context context(model, options);
  const auto rows = batched_logits(context, prompts);

  double worst = 0.0;
  for (size_t t = 0; t < texts.size(); ++t) {
    std::vector<double> p(label_ids.size());
    double top = -INFINITY, sum = 0.0;
    for (size_t l = 0; l < label_ids.size(); ++l) top = std::max(top, static_cast<double>(rows[t][label_ids[l]]));
    for (size_t l = 0; l < label_ids.size(); ++l) sum += p[l] = std::exp(rows[t][label_ids[l]] - top);
    const size_t best = static_cast<size_t>(std::max_element(p.begin(), p.end()) - p.begin());
    std::printf("%-8s %.3f  %s\n", args.labels[best].c_str(), p[best] / sum, texts[t].c_str());
    if (args.check) {  // the same text alone, in a batch of its own
      const auto alone = batched_logits(context, {prompts[t]});
      for (qtr::TokenId id : label_ids) {
        worst = std::max(worst, static_cast<double>(std::fabs(alone[0][id] - rows[t][id])));
      }
    }
  }
  if (args.check) {
    std::printf("check: largest difference between batched and single label logits: %.2e\n", worst);
    if (!(worst <= 1e-3)) return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--check") {
      args.check = true;
    } else if (a == "--labels" && i + 1 < argc) {
      args.labels = split(argv[++i], ',');
    } else if (args.model.empty()) {
      args.model = a;
    } else {
      args.texts.push_back(a);
    }
  }
  if (args.model.empty() || args.labels.size() < 2) {
    std::fprintf(stderr, "usage: %s MODEL [--labels A,B,...] [--check] [TEXT...]\n", argv[0]);
    return 2;
  }
  try {
    return run(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "classify: %s\n", e.what());
    return 1;
  }
}
