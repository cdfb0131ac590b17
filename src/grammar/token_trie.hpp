// TokenTrie — every token's bytes in one trie, stored in depth-first preorder so that a mask walk is a single
// forward pass: node i's subtree is [i, subtree_end[i]), and skipping a refused prefix skips its whole subtree.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "qtr/vocab.hpp"

namespace qtr::grammar {

struct TokenTrie {
  // Node 0 is the root (the empty prefix); the others in preorder.
  std::vector<uint8_t> byte;          // [n_nodes] the byte on the edge into the node
  std::vector<uint16_t> depth;        // [n_nodes] bytes from the root
  std::vector<uint32_t> subtree_end;  // [n_nodes] one past the node's last descendant
  std::vector<uint32_t> token_begin;  // [n_nodes + 1] the node's tokens are tokens[token_begin[i], token_begin[i+1])
  std::vector<TokenId> tokens;        // ids, grouped by the node where their bytes end
  // [n_nodes] every byte on the edges of the node's subtree (its own edge included): a walk whose state loops on
  // all of them allows the whole subtree without visiting it.
  std::vector<std::array<uint64_t, 4>> subtree_bytes;
  uint16_t max_depth = 0;

  size_t size() const { return byte.size(); }
};

}  // namespace qtr::grammar
