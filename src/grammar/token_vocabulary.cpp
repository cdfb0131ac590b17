// TokenVocabulary::build: each token's bytes from the tokenizer (control tokens none), sorted, and laid into the
// preorder trie: consecutive sorted pieces share their common prefix, so the trie is built in one pass.
#include <algorithm>
#include <numeric>

#include "grammar/token_trie.hpp"
#include "qtr/constraint.hpp"
#include "qtr/error.hpp"
#include "qtr/tokenizer.hpp"

namespace qtr {

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
    if (!v->pieces_[t].empty()) order.push_back(static_cast<TokenId>(t));
  }
  std::sort(order.begin(), order.end(), [&](TokenId a, TokenId b) {
    const auto& pa = v->pieces_[static_cast<size_t>(a)];
    const auto& pb = v->pieces_[static_cast<size_t>(b)];
    return pa != pb ? pa < pb : a < b;
  });

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
    const std::string& p = v->pieces_[static_cast<size_t>(t)];
    if (p.size() > 0xFFFF) throw Error(Errc::invalid_argument, "token vocabulary: a token longer than 65535 bytes");
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
  // Tokens grouped by node: order is sorted by piece, so nodes come in increasing order already.
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
  v->trie_ = std::move(trie);
  return v;
}

}  // namespace qtr
