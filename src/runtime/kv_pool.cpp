// KvPool: page arena, per-group free lists and refcounts, per-sequence page tables (design: docs/kv-cache.md).
#include "runtime/kv_pool.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <new>
#include <set>

namespace qtr {

namespace {

constexpr size_t kPageAlign = 64;

size_t checked_mul(size_t a, size_t b, const char* what) {
  size_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) {
    throw Error(Errc::invalid_argument, std::string("KV cache geometry: ") + what + " overflows");
  }
  return r;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

std::string group_name(int64_t window) {
  return window == 0 ? std::string("full layers") : "window-" + std::to_string(window) + " layers";
}

// Copies rows 0 .. n_rows-1 of every K and V block of a page (the positions a copy-on-write must keep).
void copy_rows(uint8_t* dst, const uint8_t* src, int64_t n_blocks, int64_t page_size, size_t row_bytes,
               int64_t n_rows) {
  const size_t block = static_cast<size_t>(page_size) * row_bytes;
  for (int64_t b = 0; b < n_blocks; ++b) {
    std::memcpy(dst + static_cast<size_t>(b) * block, src + static_cast<size_t>(b) * block,
                static_cast<size_t>(n_rows) * row_bytes);
  }
}

}  // namespace

void KvPool::ArenaFree::operator()(uint8_t* p) const { ::operator delete(p, std::align_val_t{kPageAlign}); }

// ---- construction ---------------------------------------------------------------------------------------------

namespace {

// One layer group as the geometry defines it, and the pages one sequence of max_seq_len positions holds in it.
struct GroupPlan {
  int64_t window = 0;
  int64_t n_layers = 0;
  size_t page_bytes = 0;  // stride, 64-byte multiple
  size_t seq_pages = 0;
};

struct Plan {
  size_t row_bytes = 0;
  std::vector<GroupPlan> groups;      // full layers first, then windows ascending
  std::vector<int64_t> layer_group;   // [layer]
  std::vector<int64_t> layer_slot;    // [layer] index inside its group
  size_t seq_bytes = 0;               // one sequence of max_seq_len positions, all groups
};

int64_t layer_window(const KvGeometry& g, int64_t layer) {
  return g.layer_window.empty() ? 0 : g.layer_window[static_cast<size_t>(layer)];
}

Plan make_plan(const KvGeometry& g) {
  if (g.n_layers <= 0) {
    throw Error(Errc::invalid_argument, "KV cache geometry: n_layers must be positive, got " +
                                            std::to_string(g.n_layers));
  }
  if (!g.layer_window.empty() && static_cast<int64_t>(g.layer_window.size()) != g.n_layers) {
    throw Error(Errc::invalid_argument, "KV cache geometry: layer_window has " +
                                            std::to_string(g.layer_window.size()) + " entries for " +
                                            std::to_string(g.n_layers) + " layers");
  }
  if (g.page_size <= 0 || g.page_size > (1 << 20)) {
    throw Error(Errc::invalid_argument, "KV cache geometry: page_size must be in 1 .. 2^20, got " +
                                            std::to_string(g.page_size));
  }
  if (g.max_seq_len <= 0 || g.max_seq_len > (int64_t{1} << 40)) {
    throw Error(Errc::invalid_argument, "KV cache geometry: max_seq_len must be in 1 .. 2^40, got " +
                                            std::to_string(g.max_seq_len));
  }
  if (g.batch_positions <= 0 || g.batch_positions > (int64_t{1} << 40)) {
    throw Error(Errc::invalid_argument, "KV cache geometry: batch_positions must be in 1 .. 2^40, got " +
                                            std::to_string(g.batch_positions));
  }
  Plan plan;
  plan.row_bytes = kernels::kv_row_bytes(g.type, g.kv_dim);
  std::set<int64_t> windows;
  for (int64_t l = 0; l < g.n_layers; ++l) {
    const int64_t w = layer_window(g, l);
    if (w < 0 || w > (int64_t{1} << 40)) {
      throw Error(Errc::invalid_argument, "KV cache geometry: layer " + std::to_string(l) + " has window " +
                                              std::to_string(w) + " (expected 0 = full, or 1 .. 2^40)");
    }
    windows.insert(w);
  }
  for (int64_t w : windows) plan.groups.push_back(GroupPlan{.window = w});
  for (int64_t l = 0; l < g.n_layers; ++l) {
    const auto gi = std::distance(windows.begin(), windows.find(layer_window(g, l)));
    plan.layer_group.push_back(gi);
    plan.layer_slot.push_back(plan.groups[static_cast<size_t>(gi)].n_layers++);
  }
  const int64_t ps = g.page_size;
  const int64_t full_pages = ceil_div(g.max_seq_len, ps);
  for (GroupPlan& grp : plan.groups) {
    const size_t bytes = checked_mul(
        checked_mul(static_cast<size_t>(grp.n_layers) * 2, static_cast<size_t>(ps), "page bytes"), plan.row_bytes,
        "page bytes");
    if (bytes > std::numeric_limits<size_t>::max() - kPageAlign) {
      throw Error(Errc::invalid_argument, "KV cache geometry: page bytes overflow");
    }
    grp.page_bytes = (bytes + kPageAlign - 1) / kPageAlign * kPageAlign;
    // A window group holds the page of position length - W up to the last reserved one: at most
    // ceil((ps - 1 + W + batch_positions) / ps) pages.
    const int64_t pages = grp.window == 0
                              ? full_pages
                              : std::min(full_pages, ceil_div(ps - 1 + grp.window + g.batch_positions, ps));
    grp.seq_pages = static_cast<size_t>(pages);
    const size_t add = checked_mul(grp.seq_pages, grp.page_bytes, "bytes of one sequence");
    if (plan.seq_bytes > std::numeric_limits<size_t>::max() - add) {
      throw Error(Errc::invalid_argument, "KV cache geometry: bytes of one sequence overflow");
    }
    plan.seq_bytes += add;
  }
  return plan;
}

}  // namespace

size_t KvPool::bytes_for_sequences(const KvGeometry& geometry, int64_t n_seq) {
  if (n_seq <= 0) {
    throw Error(Errc::invalid_argument, "KV cache: sequence count must be positive, got " + std::to_string(n_seq));
  }
  return checked_mul(make_plan(geometry).seq_bytes, static_cast<size_t>(n_seq), "budget");
}

KvPool::KvPool(const KvGeometry& geometry) : geometry_(geometry) {
  const KvGeometry& g = geometry_;
  const Plan plan = make_plan(g);
  row_bytes_ = plan.row_bytes;
  layer_group_ = plan.layer_group;
  layer_slot_ = plan.layer_slot;
  const size_t plan_bytes = plan.seq_bytes;
  for (const GroupPlan& gp : plan.groups) {
    groups_.push_back(Group{.window = gp.window, .n_layers = gp.n_layers, .page_bytes = gp.page_bytes});
  }
  size_t total = 0;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    Group& grp = groups_[gi];
    // pages = floor(budget * plan / plan_bytes), without overflowing budget * plan.
    const size_t q = g.budget_bytes / plan_bytes, r = g.budget_bytes % plan_bytes;
    const size_t seq_pages = plan.groups[gi].seq_pages;
    size_t pages = checked_mul(q, seq_pages, "page count");
    size_t rp = 0;
    if (!__builtin_mul_overflow(r, seq_pages, &rp)) {
      pages += rp / plan_bytes;
    } else {  // astronomically large pages only; rounding down keeps the total within the budget
      pages += static_cast<size_t>(static_cast<long double>(r) / static_cast<long double>(plan_bytes) *
                                   static_cast<long double>(seq_pages) * (1.0L - 1e-15L));
    }
    pages = std::min<size_t>(pages, std::numeric_limits<int32_t>::max());
    if (pages == 0) {
      throw Error(Errc::invalid_argument,
                  "KV cache budget of " + std::to_string(g.budget_bytes) + " bytes gives the " +
                      group_name(grp.window) + " no page (one page is " + std::to_string(grp.page_bytes) +
                      " bytes; one sequence of " + std::to_string(g.max_seq_len) + " positions needs " +
                      std::to_string(plan_bytes) + " bytes)");
    }
    grp.refcount.assign(pages, 0);
    grp.free_list.resize(pages);
    for (size_t i = 0; i < pages; ++i) grp.free_list[i] = static_cast<int32_t>(pages - 1 - i);  // page 0 first
    total += pages * grp.page_bytes;
  }
  auto* mem = static_cast<uint8_t*>(::operator new(total, std::align_val_t{kPageAlign}, std::nothrow));
  if (mem == nullptr) {
    throw Error(Errc::out_of_memory, "KV cache: cannot allocate " + std::to_string(total) + " bytes");
  }
  arena_.reset(mem);
  size_t offset = 0;
  for (Group& grp : groups_) {
    grp.base = mem + offset;
    offset += static_cast<size_t>(grp.pages()) * grp.page_bytes;
  }
}

// ---- helpers ---------------------------------------------------------------------------------------------------

KvPool::Sequence& KvPool::find(SeqId seq, const char* op) {
  auto it = seqs_.find(seq);
  if (it == seqs_.end()) {
    throw Error(Errc::invalid_argument, std::string("KV cache ") + op + ": unknown sequence id " + std::to_string(seq));
  }
  return it->second;
}

const KvPool::Sequence& KvPool::find(SeqId seq, const char* op) const {
  return const_cast<KvPool*>(this)->find(seq, op);
}

void KvPool::check_layer(int64_t layer, const char* op) const {
  if (layer < 0 || layer >= geometry_.n_layers) {
    throw Error(Errc::invalid_argument, std::string("KV cache ") + op + ": layer " + std::to_string(layer) +
                                            " out of range (n_layers " + std::to_string(geometry_.n_layers) + ")");
  }
}

uint8_t* KvPool::page_base(int64_t group, int32_t page) const {
  const Group& grp = groups_[static_cast<size_t>(group)];
  return grp.base + static_cast<size_t>(page) * grp.page_bytes;
}

int32_t KvPool::take_page(int64_t group) {
  Group& grp = groups_[static_cast<size_t>(group)];
  if (grp.free_list.empty()) throw Error(Errc::internal, "KV cache: page taken from an empty free list");
  const int32_t page = grp.free_list.back();
  grp.free_list.pop_back();
  grp.refcount[static_cast<size_t>(page)] = 1;
  return page;
}

void KvPool::drop_page(int64_t group, int32_t page) {
  Group& grp = groups_[static_cast<size_t>(group)];
  int32_t& rc = grp.refcount[static_cast<size_t>(page)];
  if (--rc == 0) grp.free_list.push_back(page);  // capacity = pages, so no allocation
}

std::vector<int64_t> KvPool::pages_needed(const Sequence& s, int64_t end) const {
  const int64_t ps = geometry_.page_size;
  std::vector<int64_t> need(groups_.size(), 0);
  if (end <= s.length) return need;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const auto& table = s.tables[gi];
    for (int64_t j = s.length / ps; j < ceil_div(end, ps); ++j) {
      if (j >= static_cast<int64_t>(table.size())) {
        ++need[gi];
      } else {
        const int32_t page = table[static_cast<size_t>(j)];
        if (page < 0 || groups_[gi].refcount[static_cast<size_t>(page)] > 1) ++need[gi];
      }
    }
  }
  return need;
}

void KvPool::release_window_pages(Sequence& s) {
  const int64_t ps = geometry_.page_size;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const int64_t w = groups_[gi].window;
    if (w == 0) continue;
    auto& table = s.tables[gi];
    int64_t& first = s.first_live[gi];
    while (first < static_cast<int64_t>(table.size()) && (first + 1) * ps <= s.length - w) {
      drop_page(static_cast<int64_t>(gi), table[static_cast<size_t>(first)]);
      table[static_cast<size_t>(first)] = -1;
      ++first;
    }
  }
}

// ---- sequences -------------------------------------------------------------------------------------------------

SeqId KvPool::create() {
  Sequence s;
  s.tables.resize(groups_.size());
  s.first_live.assign(groups_.size(), 0);
  const SeqId id = next_id_;
  seqs_.emplace(id, std::move(s));
  ++next_id_;
  return id;
}

SeqId KvPool::fork(SeqId src) {
  const Sequence& s = find(src, "fork");
  const int64_t ps = geometry_.page_size;
  // An open reservation inside src's last committed page must stay writable by src alone: the child gets a copy.
  const bool copy_last = s.reserved_end > s.length && s.length % ps != 0;
  if (copy_last) {
    for (const Group& grp : groups_) {
      if (grp.free_list.empty()) {
        throw Error(Errc::out_of_memory,
                    "KV cache full: fork of sequence " + std::to_string(src) + " (length " +
                        std::to_string(s.length) + ", open reservation) needs 1 page of the " +
                        group_name(grp.window) + ", 0 free");
      }
    }
  }
  Sequence child;
  child.length = child.reserved_end = s.length;
  child.first_live = s.first_live;
  child.tables.resize(groups_.size());
  const auto n_pages = static_cast<size_t>(ceil_div(s.length, ps));
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    child.tables[gi].assign(s.tables[gi].begin(), s.tables[gi].begin() + static_cast<std::ptrdiff_t>(n_pages));
  }
  const SeqId id = next_id_;
  auto [it, inserted] = seqs_.emplace(id, std::move(child));
  (void)inserted;
  ++next_id_;
  Sequence& c = it->second;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    for (size_t j = 0; j < n_pages; ++j) {
      const int32_t page = c.tables[gi][j];
      if (page < 0) continue;
      if (copy_last && j + 1 == n_pages) {
        const int32_t copy = take_page(static_cast<int64_t>(gi));
        copy_rows(page_base(static_cast<int64_t>(gi), copy), page_base(static_cast<int64_t>(gi), page),
                  2 * groups_[gi].n_layers, ps, row_bytes_, s.length % ps);
        c.tables[gi][j] = copy;
      } else {
        ++groups_[gi].refcount[static_cast<size_t>(page)];
      }
    }
  }
  return id;
}

void KvPool::remove(SeqId seq) {
  Sequence& s = find(seq, "remove");
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    for (int32_t page : s.tables[gi]) {
      if (page >= 0) drop_page(static_cast<int64_t>(gi), page);
    }
  }
  seqs_.erase(seq);
}

void KvPool::truncate(SeqId seq, int64_t n) {
  Sequence& s = find(seq, "truncate");
  if (n < 0 || n > s.length) {
    throw Error(Errc::invalid_argument, "KV cache truncate: sequence " + std::to_string(seq) + " to " +
                                            std::to_string(n) + " positions, but it has " +
                                            std::to_string(s.length));
  }
  const int64_t limit = rollback_limit(seq);
  if (n > 0 && n < limit) {
    throw Error(Errc::invalid_argument,
                "KV cache truncate: sequence " + std::to_string(seq) + " to " + std::to_string(n) +
                    " positions, but its sliding-window layers no longer hold the positions before that (shortest "
                    "length it can go back to: " + std::to_string(limit) + ", or 0)");
  }
  const auto keep = static_cast<size_t>(ceil_div(n, geometry_.page_size));
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    auto& table = s.tables[gi];
    for (size_t j = keep; j < table.size(); ++j) {
      if (table[j] >= 0) drop_page(static_cast<int64_t>(gi), table[j]);
    }
    table.resize(std::min(keep, table.size()));
    if (n == 0) {
      table.clear();
      s.first_live[gi] = 0;
    }
  }
  s.length = s.reserved_end = n;
}

bool KvPool::can_reserve(SeqId seq, int64_t n_new) const {
  const Sequence& s = find(seq, "can_reserve");
  if (n_new < 0 || n_new > geometry_.max_seq_len - s.length) return false;
  const auto need = pages_needed(s, s.length + n_new);
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    if (need[gi] > static_cast<int64_t>(groups_[gi].free_list.size())) return false;
  }
  return true;
}

void KvPool::reserve(SeqId seq, int64_t n_new) {
  Sequence& s = find(seq, "reserve");
  if (n_new < 0) {
    throw Error(Errc::invalid_argument, "KV cache reserve: negative count " + std::to_string(n_new) +
                                            " for sequence " + std::to_string(seq));
  }
  if (n_new > geometry_.max_seq_len - s.length) {
    throw Error(Errc::invalid_argument,
                "KV cache reserve: sequence " + std::to_string(seq) + " has " + std::to_string(s.length) +
                    " positions; " + std::to_string(n_new) + " more exceed the maximum length " +
                    std::to_string(geometry_.max_seq_len));
  }
  const int64_t end = s.length + n_new;
  const auto need = pages_needed(s, end);
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const auto n_free = static_cast<int64_t>(groups_[gi].free_list.size());
    if (need[gi] > n_free) {
      throw Error(Errc::out_of_memory,
                  "KV cache full: reserving " + std::to_string(n_new) + " positions for sequence " +
                      std::to_string(seq) + " (length " + std::to_string(s.length) + ") needs " +
                      std::to_string(need[gi]) + " pages of the " + group_name(groups_[gi].window) + ", " +
                      std::to_string(n_free) + " free (of " + std::to_string(groups_[gi].pages()) + ")");
    }
  }
  if (end <= s.length) return;
  const int64_t ps = geometry_.page_size;
  const int64_t last = ceil_div(end, ps);  // page indices length/ps .. last-1 are written
  for (auto& table : s.tables) table.reserve(static_cast<size_t>(last));  // the only step that may throw
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    auto& table = s.tables[gi];
    for (int64_t j = s.length / ps; j < last; ++j) {
      if (j >= static_cast<int64_t>(table.size())) {
        table.push_back(take_page(static_cast<int64_t>(gi)));
        continue;
      }
      const int32_t page = table[static_cast<size_t>(j)];
      if (page < 0) throw Error(Errc::internal, "KV cache reserve: released page inside the written range");
      if (groups_[gi].refcount[static_cast<size_t>(page)] > 1) {  // copy-on-write
        const int32_t copy = take_page(static_cast<int64_t>(gi));
        copy_rows(page_base(static_cast<int64_t>(gi), copy), page_base(static_cast<int64_t>(gi), page),
                  2 * groups_[gi].n_layers, ps, row_bytes_, std::clamp<int64_t>(s.length - j * ps, 0, ps));
        drop_page(static_cast<int64_t>(gi), page);
        table[static_cast<size_t>(j)] = copy;
      }
    }
  }
  s.reserved_end = std::max(s.reserved_end, end);
}

void KvPool::commit(SeqId seq, int64_t n) {
  Sequence& s = find(seq, "commit");
  if (n < 0 || n > s.reserved_end - s.length) {
    throw Error(Errc::invalid_argument, "KV cache commit: " + std::to_string(n) + " positions for sequence " +
                                            std::to_string(seq) + ", but " +
                                            std::to_string(s.reserved_end - s.length) + " are reserved");
  }
  s.length += n;
  if (geometry_.release_window_pages) release_window_pages(s);
}

bool KvPool::contains(SeqId seq) const { return seqs_.count(seq) != 0; }

std::vector<SeqId> KvPool::sequences() const {
  std::vector<SeqId> ids;
  ids.reserve(seqs_.size());
  for (const auto& [id, s] : seqs_) ids.push_back(id);
  return ids;
}

int64_t KvPool::length(SeqId seq) const { return find(seq, "length").length; }

int64_t KvPool::reserved_end(SeqId seq) const { return find(seq, "reserved_end").reserved_end; }

int64_t KvPool::rollback_limit(SeqId seq) const {
  const Sequence& s = find(seq, "rollback_limit");
  int64_t limit = 0;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    if (s.first_live[gi] > 0) {
      limit = std::max(limit, s.first_live[gi] * geometry_.page_size + groups_[gi].window);
    }
  }
  return limit;
}

// ---- rows and pages --------------------------------------------------------------------------------------------

uint8_t* KvPool::row(SeqId seq, int64_t layer, int64_t pos, int kv, const char* op) {
  const Sequence& s = find(seq, op);
  check_layer(layer, op);
  if (pos < s.length || pos >= s.reserved_end) {
    throw Error(Errc::invalid_argument, std::string("KV cache ") + op + ": position " + std::to_string(pos) +
                                            " of sequence " + std::to_string(seq) + " is not reserved (length " +
                                            std::to_string(s.length) + ", reserved to " +
                                            std::to_string(s.reserved_end) + ")");
  }
  const int64_t ps = geometry_.page_size;
  const int64_t gi = layer_group_[static_cast<size_t>(layer)];
  const int64_t slot = layer_slot_[static_cast<size_t>(layer)];
  const int32_t page = s.tables[static_cast<size_t>(gi)][static_cast<size_t>(pos / ps)];
  const size_t block = static_cast<size_t>(2 * slot + kv);
  return page_base(gi, page) + (block * static_cast<size_t>(ps) + static_cast<size_t>(pos % ps)) * row_bytes_;
}

uint8_t* KvPool::k_row(SeqId seq, int64_t layer, int64_t pos) { return row(seq, layer, pos, 0, "k_row"); }

uint8_t* KvPool::v_row(SeqId seq, int64_t layer, int64_t pos) { return row(seq, layer, pos, 1, "v_row"); }

int64_t KvPool::page_count(SeqId seq, int64_t layer) const {
  const Sequence& s = find(seq, "page_count");
  check_layer(layer, "page_count");
  return static_cast<int64_t>(s.tables[static_cast<size_t>(layer_group_[static_cast<size_t>(layer)])].size());
}

void KvPool::page_pointers(SeqId seq, int64_t layer, std::span<const uint8_t*> k,
                           std::span<const uint8_t*> v) const {
  const Sequence& s = find(seq, "page_pointers");
  check_layer(layer, "page_pointers");
  const int64_t gi = layer_group_[static_cast<size_t>(layer)];
  const auto& table = s.tables[static_cast<size_t>(gi)];
  if (k.size() < table.size() || v.size() < table.size()) {
    throw Error(Errc::invalid_argument, "KV cache page_pointers: sequence " + std::to_string(seq) + " layer " +
                                            std::to_string(layer) + " has " + std::to_string(table.size()) +
                                            " pages, arrays hold " + std::to_string(std::min(k.size(), v.size())));
  }
  const size_t block = static_cast<size_t>(geometry_.page_size) * row_bytes_;
  const auto slot = static_cast<size_t>(layer_slot_[static_cast<size_t>(layer)]);
  for (size_t j = 0; j < table.size(); ++j) {
    if (table[j] < 0) {
      k[j] = v[j] = nullptr;
    } else {
      const uint8_t* base = page_base(gi, table[j]);
      k[j] = base + (2 * slot) * block;
      v[j] = base + (2 * slot + 1) * block;
    }
  }
}

// ---- geometry and accounting -----------------------------------------------------------------------------------

int64_t KvPool::group_of_layer(int64_t layer) const {
  check_layer(layer, "group_of_layer");
  return layer_group_[static_cast<size_t>(layer)];
}

int64_t KvPool::group_window(int64_t group) const {
  if (group < 0 || group >= n_groups()) {
    throw Error(Errc::invalid_argument, "KV cache: group " + std::to_string(group) + " out of range");
  }
  return groups_[static_cast<size_t>(group)].window;
}

KvMemoryReport KvPool::memory_report() const {
  KvMemoryReport r;
  r.bytes_per_token = static_cast<size_t>(geometry_.n_layers) * 2 * row_bytes_;
  for (const Group& grp : groups_) {
    KvGroupReport gr;
    gr.window = grp.window;
    gr.n_layers = grp.n_layers;
    gr.page_bytes = grp.page_bytes;
    gr.pages_total = grp.pages();
    gr.pages_free = static_cast<int64_t>(grp.free_list.size());
    gr.pages_used = gr.pages_total - gr.pages_free;
    gr.pages_shared = std::count_if(grp.refcount.begin(), grp.refcount.end(), [](int32_t rc) { return rc > 1; });
    r.bytes_total += static_cast<size_t>(gr.pages_total) * grp.page_bytes;
    r.bytes_used += static_cast<size_t>(gr.pages_used) * grp.page_bytes;
    r.pages_total += gr.pages_total;
    r.pages_free += gr.pages_free;
    r.pages_used += gr.pages_used;
    r.pages_shared += gr.pages_shared;
    r.groups.push_back(gr);
  }
  return r;
}

const std::vector<int32_t>& KvPool::page_table(SeqId seq, int64_t group) const {
  const Sequence& s = find(seq, "page_table");
  if (group < 0 || group >= n_groups()) {
    throw Error(Errc::invalid_argument, "KV cache page_table: group " + std::to_string(group) + " out of range");
  }
  return s.tables[static_cast<size_t>(group)];
}

int32_t KvPool::page_refcount(int64_t group, int32_t page) const {
  if (group < 0 || group >= n_groups() || page < 0 || page >= groups_[static_cast<size_t>(group)].pages()) {
    throw Error(Errc::invalid_argument, "KV cache page_refcount: group " + std::to_string(group) + " page " +
                                            std::to_string(page) + " out of range");
  }
  return groups_[static_cast<size_t>(group)].refcount[static_cast<size_t>(page)];
}

}  // namespace qtr
