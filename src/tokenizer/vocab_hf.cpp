// Vocab <- Hugging Face tokenizer.json (byte-level BPE: Llama 3, Qwen2/Qwen3, GPT-2 style), giving the tokens,
// types, merges and pre-tokenizer name that llama.cpp's convert_hf_to_gguf.py writes for the same tokenizer:
//   - model.vocab ("byte-level text" -> id) and added_tokens fill the id space; ids nobody names become "[PAD<id>]"
//     unused tokens, as the converter pads;
//   - added tokens keep their text as written (they are matched in raw text, not byte-level encoded). They are
//     control tokens when "special" or when they look special to the converter (does_token_look_special:
//     "<|...|>", "<｜...｜>", "<unused...>", "<pad>", "<mask>", ...); user-defined tokens otherwise, which qtr
//     (like llama.cpp) matches in text even without parse_special — e.g. Qwen3's "<think>", "<tool_call>";
//   - model.merges in either form: "a b" strings, or [a, b] pairs (transformers >= 4.45), joined with a space after
//     escaping spaces inside a part as U+0120, as gguf-py's SpecialVocab does.
// Anything malformed throws qtr::Error(bad_format) "<file>: <key>: ..."; a tokenizer qtr cannot run (another model
// type, an unknown pre-tokenizer) throws Error(unsupported).
#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "qtr/error.hpp"
#include "qtr/json.hpp"
#include "qtr/utf8.hpp"
#include "qtr/vocab.hpp"

namespace qtr {

namespace {

// Ids above this are taken for a malformed file rather than a vocabulary to pad up to.
constexpr int64_t kMaxTokenId = (int64_t{1} << 24) - 1;

// The Split regexes of the Hugging Face tokenizer.json files of the families qtr knows, exactly as written there.
constexpr std::string_view kHfLlama3Regex =
    R"pat((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)pat";
constexpr std::string_view kHfQwen2Regex =
    R"pat((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)pat";
constexpr std::string_view kHfGpt2Regex = R"pat('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)pat";

// Reads one tokenizer.json, naming the file and the key in every error.
class HfReader {
 public:
  explicit HfReader(std::string source) : source_(std::move(source)) {}

  // "<file>: <key>", the context Json's accessors put before "expected ..., found ...".
  std::string where(const std::string& key) const { return source_ + ": " + key; }

  [[noreturn]] void malformed(const std::string& key, const std::string& what) const {
    throw Error(Errc::bad_format, where(key) + ": " + what);
  }
  [[noreturn]] void unsupported(const std::string& key, const std::string& what) const {
    throw Error(Errc::unsupported, where(key) + ": " + what);
  }

  const Json& require(const Json& parent, std::string_view name, const std::string& key) const {
    const Json* value = parent.find(name);
    if (!value) throw Error(Errc::bad_format, source_ + ": missing key '" + key + "'");
    return *value;
  }

  // A token id: an integer from 0 to kMaxTokenId.
  TokenId token_id(const Json& value, const std::string& key) const {
    const int64_t id = value.as_int(where(key));
    if (id < 0 || id > kMaxTokenId) malformed(key, "token id " + std::to_string(id) + " is out of range");
    return static_cast<TokenId>(id);
  }

 private:
  std::string source_;
};

// llama.cpp's convert_hf_to_gguf.py does_token_look_special(): added tokens some models forget to mark special.
bool looks_special(std::string_view t) {
  auto wrapped = [&](std::string_view open, std::string_view close) { return t.starts_with(open) && t.ends_with(close); };
  return t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]" || wrapped("<|", "|>") ||
         wrapped("<\xEF\xBD\x9C", "\xEF\xBD\x9C>") /* <｜...｜> */ || wrapped("<unused", ">");
}

// Puts `text` at `id`, growing the vocabulary; filled slots are tracked in `named`.
void place(Vocab& v, std::vector<bool>& named, TokenId id, std::string text, TokenType type) {
  if (static_cast<size_t>(id) >= v.tokens.size()) {
    v.tokens.resize(id + 1);
    v.types.resize(id + 1, TokenType::unused);
    named.resize(id + 1, false);
  }
  v.tokens[id] = std::move(text);
  v.types[id] = type;
  named[id] = true;
}

void read_model_vocab(const HfReader& r, const Json& model, Vocab& v, std::vector<bool>& named) {
  const Json::Object& vocab = r.require(model, "vocab", "model.vocab").as_object(r.where("model.vocab"));
  if (vocab.empty()) r.malformed("model.vocab", "no tokens");
  for (const auto& [text, value] : vocab) {
    const std::string key = "model.vocab[\"" + text + "\"]";
    const TokenId id = r.token_id(value, key);
    if (static_cast<size_t>(id) < named.size() && named[id]) {
      r.malformed(key, "id " + std::to_string(id) + " is also given to '" + v.tokens[id] + "'");
    }
    if (text.empty()) r.malformed(key, "empty token");
    place(v, named, id, text, TokenType::normal);
  }
}

// Added tokens may reuse an id of model.vocab (GPT-2's "<|endoftext|>"): the added entry decides text and type.
void read_added_tokens(const HfReader& r, const Json& root, Vocab& v, std::vector<bool>& named) {
  const Json* added = root.find("added_tokens");
  if (!added || added->is_null()) return;
  const Json::Array& items = added->as_array(r.where("added_tokens"));
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string key = "added_tokens[" + std::to_string(i) + "]";
    items[i].as_object(r.where(key));
    const TokenId id = r.token_id(r.require(items[i], "id", key + ".id"), key + ".id");
    const std::string& content = r.require(items[i], "content", key + ".content").as_string(r.where(key + ".content"));
    if (content.empty()) r.malformed(key + ".content", "empty token");
    const Json* special = items[i].find("special");
    const bool is_special = special && special->as_bool(r.where(key + ".special"));
    place(v, named, id, content, is_special || looks_special(content) ? TokenType::control : TokenType::user_defined);
  }
}

// model.merges as "left right" strings, ranked by position.
void read_merges(const HfReader& r, const Json& model, Vocab& v) {
  const Json::Array& merges = r.require(model, "merges", "model.merges").as_array(r.where("model.merges"));
  v.merges.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const std::string key = "model.merges[" + std::to_string(i) + "]";
    const Json& m = merges[i];
    if (m.is_string()) {
      const std::string& s = m.as_string(r.where(key));
      // As llama.cpp splits them: at the first space after the first character ("  x" merges " " with "x").
      const size_t space = s.size() > 1 ? s.find(' ', 1) : std::string::npos;
      if (space == std::string::npos || space + 1 == s.size()) {
        r.malformed(key, "'" + s + "' is not two pieces separated by a space");
      }
      v.merges.push_back(s);
    } else if (m.is_array()) {
      const Json::Array& pair = m.as_array(r.where(key));
      if (pair.size() != 2) {
        r.malformed(key, "expected a pair of strings, found " + std::to_string(pair.size()) + " items");
      }
      std::string joined;
      for (size_t k = 0; k < 2; ++k) {
        const std::string& part = pair[k].as_string(r.where(key + "[" + std::to_string(k) + "]"));
        if (part.empty()) r.malformed(key + "[" + std::to_string(k) + "]", "empty merge part");
        if (k == 1) joined += ' ';
        for (char c : part) {
          if (c == ' ') utf8::append(joined, U'\u0120');  // a space inside a part, escaped as gguf-py does
          else joined += c;
        }
      }
      v.merges.push_back(std::move(joined));
    } else {
      r.malformed(key, std::string("expected a string or a pair of strings, found ") + json_kind_name(m.kind()));
    }
  }
}

// The llama.cpp pre-tokenizer name (tokenizer.ggml.pre) for the "pre_tokenizer" section. llama.cpp's converter
// identifies pre-tokenizers by hashing the ids the reference tokenizer gives a probe text (chkhsh), which needs the
// `transformers` package; qtr reads the same information from the file:
//   - a Split step (alone or in a Sequence) whose regex is the Llama-3 or the Qwen2 pattern, verbatim
//     -> "llama-bpe" / "qwen2"; GPT-2's pattern in a Split -> "gpt2";
//   - no Split, and a ByteLevel step with use_regex (GPT-2's built-in pattern) -> "gpt2", or "smollm" when a
//     Digits step with individual_digits comes first (SmolLM).
// The tokenizer must be byte-level (a ByteLevel step); other pre-tokenizers are unsupported.
std::string detect_pre_tokenizer(const HfReader& r, const Json& root) {
  const Json* pre = root.find("pre_tokenizer");
  if (!pre || pre->is_null()) r.unsupported("pre_tokenizer", "none; qtr imports byte-level BPE tokenizers only");
  std::vector<std::pair<const Json*, std::string>> steps;  // (step, key)
  const std::string& type = r.require(*pre, "type", "pre_tokenizer.type").as_string(r.where("pre_tokenizer.type"));
  if (type == "Sequence") {
    const auto& list = r.require(*pre, "pretokenizers", "pre_tokenizer.pretokenizers")
                           .as_array(r.where("pre_tokenizer.pretokenizers"));
    for (size_t i = 0; i < list.size(); ++i) {
      steps.emplace_back(&list[i], "pre_tokenizer.pretokenizers[" + std::to_string(i) + "]");
    }
  } else {
    steps.emplace_back(pre, "pre_tokenizer");
  }

  std::string split_name;
  bool byte_level = false, byte_level_regex = false, digits_first = false;
  for (const auto& [step, key] : steps) {
    const std::string& t = r.require(*step, "type", key + ".type").as_string(r.where(key + ".type"));
    if (t == "Split") {
      const Json& pattern = r.require(*step, "pattern", key + ".pattern");
      const Json* regex = pattern.find("Regex");
      if (!regex) r.unsupported(key + ".pattern", "only Regex split patterns are supported");
      const std::string& re = regex->as_string(r.where(key + ".pattern.Regex"));
      const Json* behavior = step->find("behavior");
      const Json* invert = step->find("invert");
      if ((behavior && behavior->as_string(r.where(key + ".behavior")) != "Isolated") ||
          (invert && invert->as_bool(r.where(key + ".invert")))) {
        r.unsupported(key, "only Split with behavior \"Isolated\" and no invert is supported");
      }
      if (!split_name.empty()) r.unsupported(key, "more than one Split step");
      if (re == kHfLlama3Regex) split_name = "llama-bpe";
      else if (re == kHfQwen2Regex) split_name = "qwen2";
      else if (re == kHfGpt2Regex) split_name = "gpt2";
      else r.unsupported(key + ".pattern.Regex", "unrecognised pre-tokenizer regex '" + re +
                                                     "' (qtr knows the Llama-3, Qwen2 and GPT-2 patterns)");
    } else if (t == "ByteLevel") {
      byte_level = true;
      const Json* use_regex = step->find("use_regex");
      byte_level_regex = !use_regex || use_regex->as_bool(r.where(key + ".use_regex"));  // default true
    } else if (t == "Digits") {
      const Json* individual = step->find("individual_digits");
      digits_first = !byte_level && individual && individual->as_bool(r.where(key + ".individual_digits"));
    } else {
      r.unsupported(key + ".type", "unsupported pre-tokenizer step '" + t + "'");
    }
  }
  if (!byte_level) r.unsupported("pre_tokenizer", "no ByteLevel step; qtr imports byte-level BPE tokenizers only");
  if (!split_name.empty()) return split_name;
  if (byte_level_regex) return digits_first ? "smollm" : "gpt2";
  r.unsupported("pre_tokenizer", "neither a known Split regex nor a ByteLevel step with use_regex");
}

// The special tokens a TemplateProcessing post-processor puts around a single sequence: (before $A, after $A).
std::pair<std::string, std::string> template_specials(const HfReader& r, const Json& root) {
  const Json* post = root.find("post_processor");
  if (!post || !post->is_object()) return {};
  const Json* tp = nullptr;
  std::string key = "post_processor";
  const Json* type = post->find("type");
  if (type && type->is_string() && type->as_string(key) == "TemplateProcessing") {
    tp = post;
  } else if (const Json* list = post->find("processors"); list && list->is_array()) {
    const Json::Array& items = list->as_array(r.where("post_processor.processors"));
    for (size_t i = 0; i < items.size() && !tp; ++i) {
      const Json* t = items[i].find("type");
      if (t && t->is_string() && t->as_string(key) == "TemplateProcessing") {
        tp = &items[i];
        key = "post_processor.processors[" + std::to_string(i) + "]";
      }
    }
  }
  if (!tp) return {};
  const Json* single = tp->find("single");
  if (!single) return {};
  std::string before, after;
  bool seen_sequence = false;
  for (const Json& item : single->as_array(r.where(key + ".single"))) {
    if (item.find("Sequence")) {
      seen_sequence = true;
    } else if (const Json* special = item.find("SpecialToken")) {
      const std::string& id = r.require(*special, "id", key + ".single[].SpecialToken.id")
                                  .as_string(r.where(key + ".single[].SpecialToken.id"));
      (seen_sequence ? after : before) = id;
    }
  }
  return {before, after};
}

// BOS / EOS / UNK and add_bos / add_eos. llama.cpp's converter reads BOS and EOS from tokenizer_config.json and
// config.json, which a lone tokenizer.json lacks, so qtr decides from the file itself:
//   1. a TemplateProcessing post-processor: its special token before the text is BOS (add_bos = true), one after
//      it EOS (add_eos = true);
//   2. otherwise well-known texts of added tokens: BOS "<|begin_of_text|>" (Llama 3) or "<s>"; EOS "<|end_of_text|>"
//      (Llama 3 base; instruct models end turns with "<|eot_id|>"), "<|endoftext|>" (Qwen, GPT-2) or "</s>".
//      Qwen has no BOS token: its tokenizer adds none.
//   3. add_bos without a template is what llama.cpp assumes for the pre-tokenizer when a GGUF has no
//      add_bos_token key: true for llama-bpe, false otherwise.
// UNK is model.unk_token when it names a token (null for Llama 3 and Qwen); no PAD (tokenizer_config.json's).
void read_special_ids(const HfReader& r, const Json& root, const Json& model, Vocab& v) {
  // Only added tokens count: a byte-level vocabulary may hold the same text as ordinary pieces (Qwen has a
  // normal token "<s>").
  std::unordered_map<std::string_view, TokenId> ids;
  for (size_t i = v.tokens.size(); i-- > 0;) {
    if (v.types[i] == TokenType::control || v.types[i] == TokenType::user_defined) {
      ids[v.tokens[i]] = static_cast<TokenId>(i);  // first id wins
    }
  }
  auto id_of = [&](std::string_view text) {
    auto it = ids.find(text);
    return it == ids.end() ? kNoToken : it->second;
  };
  auto first_of = [&](std::initializer_list<std::string_view> names) {
    for (std::string_view n : names) {
      if (const TokenId id = id_of(n); id != kNoToken) return id;
    }
    return kNoToken;
  };

  const auto [before, after] = template_specials(r, root);
  if (!before.empty()) {
    v.bos = id_of(before);
    if (v.bos == kNoToken) r.malformed("post_processor", "BOS token '" + before + "' is not an added token");
    v.add_bos = true;
  } else {
    v.bos = first_of({"<|begin_of_text|>", "<s>"});
    v.add_bos = v.pre == "llama-bpe" && v.bos != kNoToken;
  }
  if (!after.empty()) {
    v.eos = id_of(after);
    if (v.eos == kNoToken) r.malformed("post_processor", "EOS token '" + after + "' is not an added token");
    v.add_eos = true;
  } else {
    v.eos = first_of({"<|end_of_text|>", "<|endoftext|>", "</s>"});
  }
  if (const Json* unk = model.find("unk_token"); unk && !unk->is_null()) {
    const auto it = std::find(v.tokens.begin(), v.tokens.end(), unk->as_string(r.where("model.unk_token")));
    v.unk = it == v.tokens.end() ? kNoToken : static_cast<TokenId>(it - v.tokens.begin());
  }
}

}  // namespace

Vocab Vocab::from_hf_tokenizer_json(const std::filesystem::path& path) {
  const HfReader r(path.string());
  const Json root = read_json_file(path.string());
  root.as_object(r.where("top level"));
  const Json& model = r.require(root, "model", "model");
  model.as_object(r.where("model"));
  if (const Json* type = model.find("type")) {
    const std::string& t = type->as_string(r.where("model.type"));
    if (t != "BPE") r.unsupported("model.type", "tokenizer model '" + t + "'; qtr imports BPE tokenizers only");
  }

  Vocab v;
  v.model = "gpt2";
  v.add_space_prefix = false;
  std::vector<bool> named;
  read_model_vocab(r, model, v, named);
  read_added_tokens(r, root, v, named);
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (!named[i]) v.tokens[i] = "[PAD" + std::to_string(i) + "]";  // types[i] is already unused
  }
  v.scores.assign(v.tokens.size(), 0.0f);
  read_merges(r, model, v);
  v.pre = detect_pre_tokenizer(r, root);
  read_special_ids(r, root, model, v);
  return v;
}

}  // namespace qtr
