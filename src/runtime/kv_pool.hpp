// KvPool — the paged KV cache of many sequences: one byte budget cut into pages, and a page table per sequence.
//
// Geometry (docs/kv-cache.md has the full design):
//   - Layers form groups by their attention window: one "full" group (window 0, keeps every position) and one group
//     per distinct sliding window W (keeps only the last W positions). Each group has its own pages.
//   - A page holds page_size consecutive positions of one sequence for ALL layers of its group:
//       [layer i of the group][K, V][page_size rows][row_bytes]  — K block of layer i at (2i) * page_size * row_bytes,
//       V block at (2i + 1) * page_size * row_bytes. Pages start on 64-byte boundaries.
//   - The budget is split between groups when the pool is made, in proportion to what one sequence of max_seq_len
//     positions holds in each (a window group: the pages covering W + batch_positions positions); a group's pages
//     are never lent to another group.
//
// A sequence has a length (positions 0 .. length-1 hold committed rows) and a reservation end (rows up to it may be
// written). The write cycle of a batch of n tokens: reserve(seq, n) → write rows through k_row / v_row at positions
// length .. length+n-1 → attention reads through page_pointers → commit(seq, n) advances the length.
//
// Sharing: fork shares every page (refcount); a page held by more than one sequence is copied on the first reserve
// that covers a position in it (copy-on-write). Sequences are identified by ids the pool hands out (never reused);
// an unknown id is an invalid_argument naming it. All operations either succeed or throw leaving the pool as it was.
// Not thread-safe: one thread mutates; concurrent readers of rows/page pointers are fine between mutations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kernels/kv_types.hpp"

namespace qtr {

using SeqId = int64_t;

struct KvGeometry {
  int64_t n_layers = 0;
  std::vector<int64_t> layer_window;  // empty: every layer full; else [n_layers], 0 = full, W > 0 = sliding window W
  kernels::KvType type = kernels::KvType::f16;
  int64_t kv_dim = 0;                 // n_head_kv * head_dim (elements of one K or V row)
  int64_t page_size = 16;             // positions per page
  size_t budget_bytes = 0;            // all pages of all groups together
  int64_t max_seq_len = 0;            // reserve past this many positions is an invalid_argument (e.g. n_ctx)
  int64_t batch_positions = 1;        // most positions one reserve adds (n_ubatch): sizes the window groups' share
  bool release_window_pages = true;   // commit frees window-group pages wholly below length - W
};

struct KvGroupReport {
  int64_t window = 0;                 // 0: full layers
  int64_t n_layers = 0;
  size_t page_bytes = 0;              // stride between pages (64-byte multiple)
  int64_t pages_total = 0, pages_free = 0, pages_used = 0, pages_shared = 0;  // shared: refcount > 1
};

struct KvMemoryReport {
  size_t bytes_total = 0;             // the whole arena
  size_t bytes_used = 0;              // pages held by at least one sequence
  int64_t pages_total = 0, pages_free = 0, pages_used = 0, pages_shared = 0;
  size_t bytes_per_token = 0;         // K and V rows of one position in every layer
  std::vector<KvGroupReport> groups;
};

class KvPool {
 public:
  explicit KvPool(const KvGeometry& geometry);
  // The budget at which n_seq sequences of max_seq_len positions fit at once, reserving batch_positions at a time.
  static size_t bytes_for_sequences(const KvGeometry& geometry, int64_t n_seq);
  KvPool(const KvPool&) = delete;
  KvPool& operator=(const KvPool&) = delete;

  // --- sequences ---
  SeqId create();                            // empty sequence
  SeqId fork(SeqId src);                     // shares src's committed positions (see docs: eager copy when src has
                                             // an open reservation inside its last page; may throw out_of_memory)
  void remove(SeqId seq);                    // releases its pages
  void truncate(SeqId seq, int64_t n);       // keep positions < n (n <= length); drops any reservation
  void reserve(SeqId seq, int64_t n_new);    // room for positions length .. length+n_new-1, all or nothing
  void commit(SeqId seq, int64_t n);         // length += n (rows must be reserved and written), window release
  bool can_reserve(SeqId seq, int64_t n_new) const;  // reserve would succeed

  bool contains(SeqId seq) const;
  std::vector<SeqId> sequences() const;      // ascending
  int64_t length(SeqId seq) const;
  int64_t reserved_end(SeqId seq) const;     // rows at positions length .. reserved_end-1 may be written
  int64_t rollback_limit(SeqId seq) const;   // smallest n > 0 that truncate accepts (window pages already released
                                             // below it); 0 when every n in 1 .. length is fine

  // --- rows: writing (pos in [length, reserved_end)) ---
  uint8_t* k_row(SeqId seq, int64_t layer, int64_t pos);
  uint8_t* v_row(SeqId seq, int64_t layer, int64_t pos);

  // --- pages: reading. page_count pages cover positions 0 .. page_count*page_size-1 (committed and reserved);
  // k[j] / v[j] = the K / V block of `layer` in page j ([page_size][row_bytes]), nullptr where released.
  int64_t page_count(SeqId seq, int64_t layer) const;
  void page_pointers(SeqId seq, int64_t layer, std::span<const uint8_t*> k, std::span<const uint8_t*> v) const;

  // --- geometry and accounting ---
  kernels::KvType type() const { return geometry_.type; }
  int64_t page_size() const { return geometry_.page_size; }
  int64_t row_bytes() const { return static_cast<int64_t>(row_bytes_); }
  int64_t max_seq_len() const { return geometry_.max_seq_len; }
  int64_t n_groups() const { return static_cast<int64_t>(groups_.size()); }
  int64_t group_of_layer(int64_t layer) const;
  int64_t group_window(int64_t group) const;
  KvMemoryReport memory_report() const;

  // --- introspection (tests, debugging) ---
  const std::vector<int32_t>& page_table(SeqId seq, int64_t group) const;  // page ids, -1 = released
  int32_t page_refcount(int64_t group, int32_t page) const;

 private:
  struct Group {
    int64_t window = 0;
    int64_t n_layers = 0;
    size_t page_bytes = 0;            // stride, 64-byte multiple
    uint8_t* base = nullptr;          // first page, inside arena_
    std::vector<int32_t> refcount;    // [pages]
    std::vector<int32_t> free_list;   // stack; back() is handed out next
    int64_t pages() const { return static_cast<int64_t>(refcount.size()); }
  };
  struct Sequence {
    int64_t length = 0;
    int64_t reserved_end = 0;
    std::vector<std::vector<int32_t>> tables;  // [group][page index] page id, -1 = released (window groups)
    std::vector<int64_t> first_live;           // [group] pages below this index are released
  };
  struct ArenaFree {
    void operator()(uint8_t* p) const;
  };

  Sequence& find(SeqId seq, const char* op);
  const Sequence& find(SeqId seq, const char* op) const;
  void check_layer(int64_t layer, const char* op) const;
  uint8_t* page_base(int64_t group, int32_t page) const;
  uint8_t* row(SeqId seq, int64_t layer, int64_t pos, int kv, const char* op);
  std::vector<int64_t> pages_needed(const Sequence& s, int64_t end) const;  // [group] for reserving up to end
  int32_t take_page(int64_t group);
  void drop_page(int64_t group, int32_t page);
  void release_window_pages(Sequence& s);

  KvGeometry geometry_;
  size_t row_bytes_ = 0;
  std::vector<int64_t> layer_group_, layer_slot_;  // [layer] group index, index of the layer inside its group
  std::vector<Group> groups_;
  std::unique_ptr<uint8_t, ArenaFree> arena_;
  std::map<SeqId, Sequence> seqs_;
  SeqId next_id_ = 1;
};

}  // namespace qtr
