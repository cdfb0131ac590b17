// TokenVocabulary::build: each token's bytes from the tokenizer (control tokens none), sorted, and laid into
// preorder tries: consecutive sorted pieces share their common prefix, so a trie is built in one pass. Besides the
// trie of every token, the "string slice" (tokens that are plain JSON string text: whole UTF-8 characters, none a
// quote, backslash or control character) gets a bitmask, and the other tokens a trie of their own: a state that
// loops on every such character allows the whole slice at once and walks only the rest.
#include <algorithm>
#include <numeric>

#include "grammar/token_trie.hpp"
#include "qtr/constraint.hpp"
#include "qtr/error.hpp"
#include "qtr/tokenizer.hpp"

namespace qtr {
namespace {

// Tokens in preorder trie form. `order` must be sorted by piece (then id).
std::unique_ptr<grammar::TokenTrie> build_trie(const std::vector<std::string>& pieces, const std::vector<TokenId>& order) {
  auto trie = std::make_unique<grammar::TokenTrie>();
  auto& tr = *trie;
  tr.byte.push_back(0);
  tr.depth.push_back(0);
  tr.subtree_end.push_back(0);
  std::vector<uint32_t> path{0};  // node ids along the current piece
  std::vector<uint32_t> token_node;
  token_node.reserve(order.size());
  const std::string* prev = nullptr;
  for (TokenId t : order) {
    const std::string& p = pieces[static_cast<size_t>(t)];
    size_t common = 0;
    if (prev) {
      while (common < prev->size() && common < p.size() && (*prev)[common] == p[common]) ++common;
    }
    while (path.size() > common + 1) {
      tr.subtree_end[path.back()] = static_cast<uint32_t>(tr.byte.size());
      path.pop_back();
    }
    for (size_t k = common; k < p.size(); ++k) {
      path.push_back(static_cast<uint32_t>(tr.byte.size()));
      tr.byte.push_back(static_cast<uint8_t>(p[k]));
      tr.depth.push_back(static_cast<uint16_t>(k + 1));
      tr.subtree_end.push_back(0);
      tr.max_depth = std::max<uint16_t>(tr.max_depth, static_cast<uint16_t>(k + 1));
    }
    token_node.push_back(path.back());
    prev = &p;
  }
  while (!path.empty()) {
    tr.subtree_end[path.back()] = static_cast<uint32_t>(tr.byte.size());
    path.pop_back();
  }
  // Tokens grouped by node: `order` is sorted by piece, so nodes come in increasing order already.
  tr.token_begin.assign(tr.byte.size() + 1, 0);
  for (uint32_t node : token_node) ++tr.token_begin[node + 1];
  std::partial_sum(tr.token_begin.begin(), tr.token_begin.end(), tr.token_begin.begin());
  tr.tokens = order;
  // Subtree byte unions, children before parents (reverse preorder).
  tr.subtree_bytes.assign(tr.byte.size(), {0, 0, 0, 0});
  std::vector<uint32_t> parent_at(size_t{tr.max_depth} + 1, 0);
  std::vector<uint32_t> parent(tr.byte.size(), 0);
  for (uint32_t i = 1; i < tr.byte.size(); ++i) {
    parent_at[tr.depth[i]] = i;
    parent[i] = tr.depth[i] == 1 ? 0 : parent_at[tr.depth[i] - 1];
  }
  for (size_t i = tr.byte.size(); i-- > 1;) {
    auto& u = tr.subtree_bytes[i];
    u[tr.byte[i] >> 6] |= uint64_t{1} << (tr.byte[i] & 63);
    auto& pu = tr.subtree_bytes[parent[i]];
    for (int w = 0; w < 4; ++w) pu[w] |= u[w];
  }
  return trie;
}

// Whole UTF-8 characters, each U+0020 or above and neither '"' nor '\\'.
bool is_string_text(const std::string& p) {
  for (size_t i = 0; i < p.size();) {
    const auto b = static_cast<unsigned char>(p[i]);
    if (b < 0x80) {
      if (b < 0x20 || b == '"' || b == '\\') return false;
      ++i;
      continue;
    }
    const size_t n = (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > p.size()) return false;
    uint32_t cp = n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
    for (size_t k = 1; k < n; ++k) {
      const auto c = static_cast<unsigned char>(p[i + k]);
      if ((c >> 6) != 2) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return !p.empty();
}

}  // namespace

TokenVocabulary::~TokenVocabulary() = default;

bool TokenVocabulary::is_eog(TokenId id) const { return std::binary_search(eog_.begin(), eog_.end(), id); }

std::shared_ptr<const TokenVocabulary> TokenVocabulary::build(const Tokenizer& tokenizer, std::span<const TokenId> eog) {
  std::shared_ptr<TokenVocabulary> v(new TokenVocabulary());
  const size_t n = tokenizer.n_vocab();
  v->pieces_.resize(n);
  for (size_t t = 0; t < n; ++t) v->pieces_[t] = tokenizer.token_to_piece(static_cast<TokenId>(t), false);
  v->eog_.assign(eog.begin(), eog.end());
  std::sort(v->eog_.begin(), v->eog_.end());
  v->eog_.erase(std::unique(v->eog_.begin(), v->eog_.end()), v->eog_.end());
  for (TokenId e : v->eog_) {
    if (e < 0 || static_cast<size_t>(e) >= n) throw Error(Errc::invalid_argument, "token vocabulary: end-of-generation id out of range");
    v->pieces_[static_cast<size_t>(e)].clear();  // an end token is never text
  }

  std::vector<TokenId> order;
  for (size_t t = 0; t < n; ++t) {
    const std::string& p = v->pieces_[t];
    if (p.size() > 0xFFFF) throw Error(Errc::invalid_argument, "token vocabulary: a token longer than 65535 bytes");
    if (!p.empty()) order.push_back(static_cast<TokenId>(t));
  }
  std::sort(order.begin(), order.end(), [&](TokenId a, TokenId b) {
    const auto& pa = v->pieces_[static_cast<size_t>(a)];
    const auto& pb = v->pieces_[static_cast<size_t>(b)];
    return pa != pb ? pa < pb : a < b;
  });
  v->trie_ = build_trie(v->pieces_, order);

  std::vector<TokenId> rest;
  v->string_slice_.assign((n + 63) / 64, 0);
  for (TokenId t : order) {
    if (is_string_text(v->pieces_[static_cast<size_t>(t)])) {
      v->string_slice_[static_cast<size_t>(t) >> 6] |= uint64_t{1} << (t & 63);
    } else {
      rest.push_back(t);
    }
  }
  v->rest_trie_ = build_trie(v->pieces_, rest);
  // The other tokens again, split where their string text ends: those that start with it by what follows it (a
  // state that loops on string text is back where it was when that part begins), the others whole.
  std::vector<std::string> tails(n);
  std::vector<TokenId> with_text, without_text;
  for (TokenId t : rest) {
    const std::string& p = v->pieces_[static_cast<size_t>(t)];
    size_t k = 0;
    while (k < p.size()) {  // the longest prefix of whole string-text characters
      const auto b = static_cast<unsigned char>(p[k]);
      const size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
      if (len == 0 || k + len > p.size() || !is_string_text(p.substr(k, len))) break;
      k += len;
    }
    if (k == 0) {
      without_text.push_back(t);
    } else {
      tails[static_cast<size_t>(t)] = p.substr(k);
      with_text.push_back(t);
    }
  }
  std::sort(with_text.begin(), with_text.end(), [&](TokenId a, TokenId b) {
    const auto& ta = tails[static_cast<size_t>(a)];
    const auto& tb = tails[static_cast<size_t>(b)];
    return ta != tb ? ta < tb : a < b;
  });
  v->tail_trie_ = build_trie(tails, with_text);
  v->head_trie_ = build_trie(v->pieces_, without_text);
  v->slice_first_begin_.assign(257, 0);
  for (TokenId t : order) {
    if (is_string_text(v->pieces_[static_cast<size_t>(t)])) {
      ++v->slice_first_begin_[static_cast<unsigned char>(v->pieces_[static_cast<size_t>(t)][0]) + 1];
    }
  }
  std::partial_sum(v->slice_first_begin_.begin(), v->slice_first_begin_.end(), v->slice_first_begin_.begin());
  v->slice_by_first_.resize(v->slice_first_begin_[256]);
  std::vector<uint32_t> fill(v->slice_first_begin_.begin(), v->slice_first_begin_.end() - 1);
  for (TokenId t : order) {  // sorted by piece, so already grouped by first byte
    const std::string& p = v->pieces_[static_cast<size_t>(t)];
    if (is_string_text(p)) v->slice_by_first_[fill[static_cast<unsigned char>(p[0])]++] = t;
  }
  // Masks of the slice by character count (bytes that do not start with 10xxxxxx start a character).
  v->slice_upto_.assign(17, std::vector<uint64_t>((n + 63) / 64, 0));
  for (TokenId t : order) {
    const std::string& p = v->pieces_[static_cast<size_t>(t)];
    if (!is_string_text(p)) continue;
    uint32_t chars = 0;
    for (unsigned char c : p) chars += (c & 0xC0) != 0x80;
    v->slice_max_chars_ = std::max(v->slice_max_chars_, chars);
    if (chars >= v->slice_upto_.size()) v->slice_long_.push_back(t);
    for (uint32_t l = chars; l < v->slice_upto_.size(); ++l) v->slice_upto_[l][static_cast<size_t>(t) >> 6] |= uint64_t{1} << (t & 63);
  }
  const grammar::TokenTrie& tr = *v->trie_;
  for (uint32_t i = 1; i < tr.size(); ++i) {
    if (tr.depth[i] == 1) v->first_byte_node_[tr.byte[i]] = i;
  }
  return v;
}

}  // namespace qtr
