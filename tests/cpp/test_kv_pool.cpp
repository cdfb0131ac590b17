// KvPool (src/runtime/kv_pool.hpp): unit tests for each operation, and a randomized test against a reference model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "kernels/kv_types.hpp"
#include "runtime/kv_pool.hpp"

namespace qtr {
namespace {

using kernels::KvType;

// ---- helpers -------------------------------------------------------------------------------------------------

// Recognisable row bytes: a function of (tag, layer, K or V, byte index).
uint8_t pattern_byte(uint64_t tag, int64_t layer, int kv, size_t i) {
  uint64_t x = tag * 0x9E3779B97F4A7C15ull ^ (static_cast<uint64_t>(layer) << 40) ^ (static_cast<uint64_t>(kv) << 56) ^
               (i * 0xBF58476D1CE4E5B9ull);
  x ^= x >> 31;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 29;
  return static_cast<uint8_t>(x);
}

void write_position(KvPool& pool, SeqId seq, int64_t n_layers, int64_t pos, uint64_t tag) {
  const auto rb = static_cast<size_t>(pool.row_bytes());
  for (int64_t l = 0; l < n_layers; ++l) {
    uint8_t* k = pool.k_row(seq, l, pos);
    uint8_t* v = pool.v_row(seq, l, pos);
    for (size_t i = 0; i < rb; ++i) {
      k[i] = pattern_byte(tag, l, 0, i);
      v[i] = pattern_byte(tag, l, 1, i);
    }
  }
}

// The K (kv 0) or V (kv 1) row of (seq, layer, pos) as the attention kernel would find it; nullptr if released.
const uint8_t* read_row(const KvPool& pool, SeqId seq, int64_t layer, int64_t pos, int kv) {
  const int64_t n = pool.page_count(seq, layer);
  std::vector<const uint8_t*> k(static_cast<size_t>(n)), v(static_cast<size_t>(n));
  pool.page_pointers(seq, layer, k, v);
  const int64_t j = pos / pool.page_size();
  if (j >= n) return nullptr;
  const uint8_t* page = kv == 0 ? k[static_cast<size_t>(j)] : v[static_cast<size_t>(j)];
  if (page == nullptr) return nullptr;
  return page + static_cast<size_t>(pos % pool.page_size()) * static_cast<size_t>(pool.row_bytes());
}

bool row_matches(const KvPool& pool, SeqId seq, int64_t layer, int64_t pos, uint64_t tag) {
  const auto rb = static_cast<size_t>(pool.row_bytes());
  for (int kv = 0; kv < 2; ++kv) {
    const uint8_t* row = read_row(pool, seq, layer, pos, kv);
    if (row == nullptr) return false;
    for (size_t i = 0; i < rb; ++i) {
      if (row[i] != pattern_byte(tag, layer, kv, i)) return false;
    }
  }
  return true;
}

// Everything observable about the pool, including the bytes of every readable row.
struct Snapshot {
  std::vector<SeqId> ids;
  std::vector<int64_t> lengths, ends, limits;
  std::vector<std::vector<int32_t>> tables;  // [seq * n_groups + group]
  std::vector<int32_t> refcounts;            // all pages of all groups
  std::vector<uint8_t> bytes;                // rows 0 .. reserved_end-1 of every sequence and layer, K then V
  int64_t pages_free = 0, pages_used = 0, pages_shared = 0;
  bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(const KvPool& pool, int64_t n_layers) {
  Snapshot s;
  const KvMemoryReport r = pool.memory_report();
  s.pages_free = r.pages_free;
  s.pages_used = r.pages_used;
  s.pages_shared = r.pages_shared;
  for (int64_t g = 0; g < pool.n_groups(); ++g) {
    for (int64_t p = 0; p < r.groups[static_cast<size_t>(g)].pages_total; ++p) {
      s.refcounts.push_back(pool.page_refcount(g, static_cast<int32_t>(p)));
    }
  }
  const auto rb = static_cast<size_t>(pool.row_bytes());
  for (SeqId id : pool.sequences()) {
    s.ids.push_back(id);
    s.lengths.push_back(pool.length(id));
    s.ends.push_back(pool.reserved_end(id));
    s.limits.push_back(pool.rollback_limit(id));
    for (int64_t g = 0; g < pool.n_groups(); ++g) s.tables.push_back(pool.page_table(id, g));
    for (int64_t l = 0; l < n_layers; ++l) {
      const auto n = static_cast<size_t>(pool.page_count(id, l));
      std::vector<const uint8_t*> k(n), v(n);
      pool.page_pointers(id, l, k, v);
      for (int64_t pos = 0; pos < pool.reserved_end(id); ++pos) {
        const auto j = static_cast<size_t>(pos / pool.page_size());
        const size_t off = static_cast<size_t>(pos % pool.page_size()) * rb;
        for (const uint8_t* page : {k[j], v[j]}) {
          if (page != nullptr) s.bytes.insert(s.bytes.end(), page + off, page + off + rb);
        }
      }
    }
  }
  return s;
}

// n_layers layers, f32 rows of 8 elements (32 bytes), page_size 4: one page of a 2-layer full group is 512 bytes.
KvGeometry small_geometry(int64_t n_layers, int64_t pages, std::vector<int64_t> windows = {}) {
  KvGeometry g;
  g.n_layers = n_layers;
  g.layer_window = std::move(windows);
  g.type = KvType::f32;
  g.kv_dim = 8;
  g.page_size = 4;
  g.max_seq_len = 64;
  g.budget_bytes = static_cast<size_t>(pages) * static_cast<size_t>(n_layers) * 2 * 4 * 32;
  return g;
}

// Appends n positions (tags first_tag, first_tag+1, ...) to seq: reserve, write, commit.
void append(KvPool& pool, SeqId seq, int64_t n_layers, int64_t n, uint64_t first_tag) {
  const int64_t len = pool.length(seq);
  pool.reserve(seq, n);
  for (int64_t i = 0; i < n; ++i) write_position(pool, seq, n_layers, len + i, first_tag + static_cast<uint64_t>(i));
  pool.commit(seq, n);
}

template <class F>
void expect_error(Errc code, const std::string& needle, F&& f) {
  try {
    f();
    ADD_FAILURE() << "expected qtr::Error (" << errc_name(code) << ") containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

// ---- kv_types ------------------------------------------------------------------------------------------------

TEST(KvTypes, RowBytesNamesAndParse) {
  EXPECT_EQ(kernels::kv_row_bytes(KvType::f32, 64), 256u);
  EXPECT_EQ(kernels::kv_row_bytes(KvType::f16, 64), 128u);
  EXPECT_EQ(kernels::kv_row_bytes(KvType::q8_0, 64), 68u);
  expect_error(Errc::invalid_argument, "48", [] { kernels::kv_row_bytes(KvType::q8_0, 48); });
  expect_error(Errc::invalid_argument, "kv_dim", [] { kernels::kv_row_bytes(KvType::f16, 0); });
  for (KvType t : {KvType::f32, KvType::f16, KvType::q8_0}) {
    EXPECT_EQ(kernels::parse_kv_type(kernels::kv_type_name(t)), t);
  }
  EXPECT_STREQ(kernels::kv_type_name(KvType::q8_0), "q8_0");
  expect_error(Errc::invalid_argument, "'bf16'", [] { kernels::parse_kv_type("bf16"); });
}

// ---- geometry ------------------------------------------------------------------------------------------------

TEST(KvPool, RejectsBadGeometry) {
  auto bad = [](auto edit, const std::string& needle) {
    KvGeometry g = small_geometry(2, 4);
    edit(g);
    expect_error(Errc::invalid_argument, needle, [&] { KvPool pool(g); });
  };
  bad([](KvGeometry& g) { g.n_layers = 0; }, "n_layers");
  bad([](KvGeometry& g) { g.layer_window = {0}; }, "layer_window has 1 entries for 2 layers");
  bad([](KvGeometry& g) { g.layer_window = {0, -3}; }, "layer 1 has window -3");
  bad([](KvGeometry& g) { g.page_size = 0; }, "page_size");
  bad([](KvGeometry& g) { g.max_seq_len = 0; }, "max_seq_len");
  bad([](KvGeometry& g) { g.budget_bytes = 100; }, "no page");
  bad([](KvGeometry& g) { g.type = KvType::q8_0; }, "multiple of 32");
  bad([](KvGeometry& g) { g.kv_dim = int64_t{1} << 62; }, "kv_dim must be in");
  bad([](KvGeometry& g) { g.batch_positions = 0; }, "batch_positions");
  bad([](KvGeometry& g) { g.kv_dim = int64_t{1} << 40; g.page_size = 1 << 20; g.n_layers = 1 << 20; }, "overflow");
}

TEST(KvPool, PageLayoutAndAlignment) {
  KvGeometry g = small_geometry(3, 8);
  g.type = KvType::q8_0;  // 34-byte rows: page = 3 layers * 2 * 4 rows * 34 = 816 bytes, stride 832
  g.kv_dim = 32;
  KvPool pool(g);
  EXPECT_EQ(pool.row_bytes(), 34);
  const KvMemoryReport r = pool.memory_report();
  ASSERT_EQ(r.groups.size(), 1u);
  EXPECT_EQ(r.groups[0].page_bytes, 832u);
  EXPECT_EQ(r.bytes_per_token, 3u * 2 * 34);
  const SeqId s = pool.create();
  pool.reserve(s, 7);
  for (int64_t l = 0; l < 3; ++l) {
    std::vector<const uint8_t*> k(2), v(2);
    pool.page_pointers(s, l, k, v);
    for (int64_t pos = 0; pos < 7; ++pos) {
      const auto j = static_cast<size_t>(pos / 4);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(k[j] - 2 * l * 4 * 34) % 64, 0u);  // page base 64-byte aligned
      EXPECT_EQ(pool.k_row(s, l, pos), k[j] + (pos % 4) * 34);
      EXPECT_EQ(pool.v_row(s, l, pos), v[j] + (pos % 4) * 34);
      EXPECT_EQ(v[j] - k[j], 4 * 34);
    }
  }
}

// ---- basic operations ----------------------------------------------------------------------------------------

TEST(KvPool, ReserveWriteCommitRead) {
  KvPool pool(small_geometry(2, 10));
  const SeqId s = pool.create();
  EXPECT_EQ(pool.length(s), 0);
  pool.reserve(s, 6);
  EXPECT_EQ(pool.length(s), 0);
  EXPECT_EQ(pool.reserved_end(s), 6);
  EXPECT_EQ(pool.page_count(s, 0), 2);
  for (int64_t pos = 0; pos < 6; ++pos) write_position(pool, s, 2, pos, 100 + static_cast<uint64_t>(pos));
  expect_error(Errc::invalid_argument, "position 6 of sequence", [&] { pool.k_row(s, 0, 6); });
  expect_error(Errc::invalid_argument, "7 positions", [&] { pool.commit(s, 7); });
  pool.commit(s, 4);
  EXPECT_EQ(pool.length(s), 4);
  expect_error(Errc::invalid_argument, "position 3", [&] { pool.v_row(s, 1, 3); });  // committed: read-only
  pool.commit(s, 2);
  EXPECT_EQ(pool.length(s), 6);
  for (int64_t l = 0; l < 2; ++l) {
    for (int64_t pos = 0; pos < 6; ++pos) EXPECT_TRUE(row_matches(pool, s, l, pos, 100 + static_cast<uint64_t>(pos)));
  }
  const KvMemoryReport r = pool.memory_report();
  EXPECT_EQ(r.pages_total, 10);
  EXPECT_EQ(r.pages_used, 2);
  EXPECT_EQ(r.pages_free, 8);
  EXPECT_EQ(r.pages_shared, 0);
  EXPECT_EQ(r.bytes_total, 10u * 512);
  EXPECT_EQ(r.bytes_used, 2u * 512);
  EXPECT_EQ(r.bytes_per_token, 2u * 2 * 32);
  // Reserving again inside the already reserved pages takes nothing.
  pool.reserve(s, 2);
  EXPECT_EQ(pool.memory_report().pages_used, 2);
  pool.reserve(s, 3);
  EXPECT_EQ(pool.memory_report().pages_used, 3);
}

TEST(KvPool, ReserveOutOfPagesLeavesEverythingUnchanged) {
  KvPool pool(small_geometry(2, 4));
  const SeqId a = pool.create();
  append(pool, a, 2, 6, 1);            // pages 0, 1 (page 1 half full)
  const SeqId b = pool.fork(a);         // shares both
  const SeqId c = pool.create();
  append(pool, c, 2, 4, 50);            // page 2; one page left
  // b needs a copy of the shared page 1 plus 2 new pages for 10 more positions: 3 > 1 free.
  EXPECT_FALSE(pool.can_reserve(b, 10));
  const Snapshot before = snapshot(pool, 2);
  try {
    pool.reserve(b, 10);
    ADD_FAILURE() << "reserve should have failed";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::out_of_memory);
    EXPECT_NE(std::string(e.what()).find("KV cache full"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("needs 3 pages"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("1 free"), std::string::npos) << e.what();
  }
  EXPECT_EQ(snapshot(pool, 2), before);
  // What fits still works: 2 more positions need only the copy of page 1.
  EXPECT_TRUE(pool.can_reserve(b, 2));
  pool.reserve(b, 2);
  EXPECT_EQ(pool.memory_report().pages_free, 0);
  expect_error(Errc::out_of_memory, "0 free", [&] { pool.reserve(c, 1); });
}

TEST(KvPool, ReservePastMaxLength) {
  KvGeometry g = small_geometry(1, 16);
  g.max_seq_len = 10;
  KvPool pool(g);
  const SeqId s = pool.create();
  EXPECT_FALSE(pool.can_reserve(s, 11));
  const Snapshot before = snapshot(pool, 1);
  expect_error(Errc::invalid_argument, "maximum length 10", [&] { pool.reserve(s, 11); });
  EXPECT_EQ(snapshot(pool, 1), before);
  append(pool, s, 1, 10, 7);
  expect_error(Errc::invalid_argument, "exceed the maximum length", [&] { pool.reserve(s, 1); });
  expect_error(Errc::invalid_argument, "negative", [&] { pool.reserve(s, -1); });
  pool.reserve(s, 0);  // nothing to do
  EXPECT_EQ(pool.length(s), 10);
}

// ---- fork and copy-on-write ----------------------------------------------------------------------------------

TEST(KvPool, ForkSharesPagesAndCopiesOnWrite) {
  KvPool pool(small_geometry(2, 10));
  const SeqId a = pool.create();
  append(pool, a, 2, 6, 1);  // tags 1..6
  const SeqId b = pool.fork(a);
  EXPECT_EQ(pool.length(b), 6);
  EXPECT_EQ(pool.page_table(b, 0), pool.page_table(a, 0));
  KvMemoryReport r = pool.memory_report();
  EXPECT_EQ(r.pages_used, 2);
  EXPECT_EQ(r.pages_shared, 2);
  for (int32_t page : pool.page_table(a, 0)) EXPECT_EQ(pool.page_refcount(0, page), 2);

  // b writes position 6, inside the shared half-full page 1: b gets a copy; a's bytes stay.
  pool.reserve(b, 1);
  EXPECT_EQ(pool.page_table(b, 0)[0], pool.page_table(a, 0)[0]);
  EXPECT_NE(pool.page_table(b, 0)[1], pool.page_table(a, 0)[1]);
  EXPECT_EQ(pool.page_refcount(0, pool.page_table(a, 0)[1]), 1);
  write_position(pool, b, 2, 6, 999);
  pool.commit(b, 1);
  for (int64_t l = 0; l < 2; ++l) {
    for (int64_t pos = 0; pos < 6; ++pos) {
      EXPECT_TRUE(row_matches(pool, a, l, pos, 1 + static_cast<uint64_t>(pos)));
      EXPECT_TRUE(row_matches(pool, b, l, pos, 1 + static_cast<uint64_t>(pos)));  // copied rows
    }
    EXPECT_TRUE(row_matches(pool, b, l, 6, 999));
  }
  // a writes its own position 6: its page 1 is no longer shared, so no copy; b's row 6 stays.
  const int32_t a_page1 = pool.page_table(a, 0)[1];
  append(pool, a, 2, 1, 555);
  EXPECT_EQ(pool.page_table(a, 0)[1], a_page1);
  for (int64_t l = 0; l < 2; ++l) {
    EXPECT_TRUE(row_matches(pool, a, l, 6, 555));
    EXPECT_TRUE(row_matches(pool, b, l, 6, 999));
  }
  r = pool.memory_report();
  EXPECT_EQ(r.pages_used, 3);
  EXPECT_EQ(r.pages_shared, 1);
}

TEST(KvPool, ForkOnPageBoundarySharesEverythingAndWritesFreshPages) {
  KvPool pool(small_geometry(1, 10));
  const SeqId a = pool.create();
  append(pool, a, 1, 8, 1);  // two full pages
  const SeqId b = pool.fork(a);
  append(pool, b, 1, 1, 77);  // new page 2 for b, nothing copied
  EXPECT_EQ(pool.memory_report().pages_used, 3);
  EXPECT_EQ(pool.memory_report().pages_shared, 2);
  EXPECT_EQ(pool.page_count(a, 0), 2);
}

TEST(KvPool, ForkWithOpenReservationCopiesLastPage) {
  KvPool pool(small_geometry(1, 4));
  const SeqId a = pool.create();
  pool.reserve(a, 8);
  for (int64_t pos = 0; pos < 8; ++pos) write_position(pool, a, 1, pos, 10 + static_cast<uint64_t>(pos));
  pool.commit(a, 5);  // positions 5..7 reserved, written, not committed
  const SeqId b = pool.fork(a);
  EXPECT_EQ(pool.length(b), 5);
  EXPECT_EQ(pool.reserved_end(b), 5);
  ASSERT_EQ(pool.page_table(b, 0).size(), 2u);
  EXPECT_EQ(pool.page_table(b, 0)[0], pool.page_table(a, 0)[0]);
  EXPECT_NE(pool.page_table(b, 0)[1], pool.page_table(a, 0)[1]);  // a keeps its reservation to itself
  for (int64_t pos = 0; pos < 5; ++pos) EXPECT_TRUE(row_matches(pool, b, 0, pos, 10 + static_cast<uint64_t>(pos)));
  write_position(pool, a, 1, 6, 4242);
  pool.commit(a, 3);
  EXPECT_TRUE(row_matches(pool, a, 0, 6, 4242));
  EXPECT_TRUE(row_matches(pool, a, 0, 7, 17));
  EXPECT_TRUE(row_matches(pool, b, 0, 4, 14));

  // Out of pages: the copy cannot be made; nothing changes.
  const SeqId c = pool.create();
  append(pool, c, 1, 4, 90);  // last free page
  pool.truncate(a, 5);
  pool.reserve(a, 1);         // open reservation in a half-full page, no page free
  ASSERT_EQ(pool.memory_report().pages_free, 0);
  const Snapshot before = snapshot(pool, 1);
  expect_error(Errc::out_of_memory, "fork of sequence", [&] { pool.fork(a); });
  EXPECT_EQ(snapshot(pool, 1), before);
  pool.commit(a, 0);
  pool.truncate(a, 5);        // reservation dropped: fork shares again, needs no page
  const SeqId d = pool.fork(a);
  EXPECT_EQ(pool.page_table(d, 0), pool.page_table(a, 0));
}

// ---- truncate ------------------------------------------------------------------------------------------------

TEST(KvPool, TruncateReleasesPages) {
  KvPool pool(small_geometry(2, 10));
  const SeqId s = pool.create();
  append(pool, s, 2, 10, 1);
  EXPECT_EQ(pool.memory_report().pages_used, 3);
  pool.truncate(s, 4);
  EXPECT_EQ(pool.length(s), 4);
  EXPECT_EQ(pool.page_count(s, 1), 1);
  EXPECT_EQ(pool.memory_report().pages_used, 1);
  for (int64_t pos = 0; pos < 4; ++pos) EXPECT_TRUE(row_matches(pool, s, 1, pos, 1 + static_cast<uint64_t>(pos)));
  expect_error(Errc::invalid_argument, "to 5 positions, but it has 4", [&] { pool.truncate(s, 5); });
  expect_error(Errc::invalid_argument, "to -1", [&] { pool.truncate(s, -1); });
  // A reservation is dropped by truncate.
  pool.reserve(s, 9);
  EXPECT_EQ(pool.memory_report().pages_used, 4);
  pool.truncate(s, 4);
  EXPECT_EQ(pool.reserved_end(s), 4);
  EXPECT_EQ(pool.memory_report().pages_used, 1);
  pool.truncate(s, 0);
  EXPECT_EQ(pool.memory_report().pages_used, 0);
  EXPECT_EQ(pool.page_count(s, 0), 0);
}

TEST(KvPool, TruncateInsideSharedPageKeepsItSharedUntilWritten) {
  KvPool pool(small_geometry(2, 10));
  const SeqId a = pool.create();
  append(pool, a, 2, 8, 1);  // pages p0 (1..4), p1 (5..8)
  const SeqId b = pool.fork(a);
  const std::vector<int32_t> a_pages = pool.page_table(a, 0);
  pool.truncate(b, 6);  // inside p1: still shared
  EXPECT_EQ(pool.page_table(b, 0), a_pages);
  EXPECT_EQ(pool.page_refcount(0, a_pages[1]), 2);
  pool.truncate(b, 3);  // inside p0: p1 now a's alone
  EXPECT_EQ(pool.page_table(b, 0), std::vector<int32_t>{a_pages[0]});
  EXPECT_EQ(pool.page_refcount(0, a_pages[1]), 1);
  EXPECT_EQ(pool.page_refcount(0, a_pages[0]), 2);
  append(pool, b, 2, 1, 700);  // writes position 3 of p0: copy first
  EXPECT_NE(pool.page_table(b, 0)[0], a_pages[0]);
  EXPECT_EQ(pool.page_refcount(0, a_pages[0]), 1);
  for (int64_t l = 0; l < 2; ++l) {
    for (int64_t pos = 0; pos < 8; ++pos) EXPECT_TRUE(row_matches(pool, a, l, pos, 1 + static_cast<uint64_t>(pos)));
    for (int64_t pos = 0; pos < 3; ++pos) EXPECT_TRUE(row_matches(pool, b, l, pos, 1 + static_cast<uint64_t>(pos)));
    EXPECT_TRUE(row_matches(pool, b, l, 3, 700));
  }
}

TEST(KvPool, RemoveReleasesOnlyUnsharedPages) {
  KvPool pool(small_geometry(1, 10));
  const SeqId a = pool.create();
  append(pool, a, 1, 6, 1);
  const SeqId b = pool.fork(a);
  append(pool, b, 1, 4, 20);  // copy of page 1, new page 2
  EXPECT_EQ(pool.memory_report().pages_used, 4);
  pool.remove(a);
  EXPECT_FALSE(pool.contains(a));
  EXPECT_EQ(pool.memory_report().pages_used, 3);
  for (int64_t pos = 0; pos < 6; ++pos) EXPECT_TRUE(row_matches(pool, b, 0, pos, 1 + static_cast<uint64_t>(pos)));
  pool.remove(b);
  EXPECT_EQ(pool.memory_report().pages_used, 0);
  EXPECT_EQ(pool.memory_report().pages_free, 10);
}

// ---- sliding-window layers -----------------------------------------------------------------------------------

TEST(KvPool, WindowLayersReleasePagesBelowTheWindow) {
  // Layers 0 and 2 full, layer 1 window 6; page_size 4.
  KvGeometry g = small_geometry(3, 0, {0, 6, 0});
  g.budget_bytes = 1 << 20;
  KvPool pool(g);
  ASSERT_EQ(pool.n_groups(), 2);
  EXPECT_EQ(pool.group_of_layer(0), 0);
  EXPECT_EQ(pool.group_of_layer(1), 1);
  EXPECT_EQ(pool.group_of_layer(2), 0);
  EXPECT_EQ(pool.group_window(1), 6);
  const SeqId s = pool.create();
  for (int64_t pos = 0; pos < 20; ++pos) append(pool, s, 3, 1, 1000 + static_cast<uint64_t>(pos));
  // len 20, W 6: positions < 14 are dead; pages 0..2 (positions 0..11) wholly below, page 3 (12..15) live.
  std::vector<const uint8_t*> k(5), v(5);
  pool.page_pointers(s, 1, k, v);
  for (size_t j = 0; j < 3; ++j) {
    EXPECT_EQ(k[j], nullptr);
    EXPECT_EQ(v[j], nullptr);
  }
  for (size_t j = 3; j < 5; ++j) EXPECT_NE(k[j], nullptr);
  for (int64_t pos = 12; pos < 20; ++pos) EXPECT_TRUE(row_matches(pool, s, 1, pos, 1000 + static_cast<uint64_t>(pos)));
  for (int64_t l : {0, 2}) {
    for (int64_t pos = 0; pos < 20; ++pos) {
      EXPECT_TRUE(row_matches(pool, s, l, pos, 1000 + static_cast<uint64_t>(pos)));
    }
  }
  const KvMemoryReport r = pool.memory_report();
  EXPECT_EQ(r.groups[0].pages_used, 5);
  EXPECT_EQ(r.groups[1].pages_used, 2);
  EXPECT_EQ(r.groups[0].n_layers, 2);
  EXPECT_EQ(r.groups[1].n_layers, 1);
  EXPECT_EQ(r.groups[1].window, 6);
  EXPECT_EQ(r.bytes_per_token, 3u * 2 * 32);

  // Going back: the window layers must still hold positions n-6 .. n-1.
  EXPECT_EQ(pool.rollback_limit(s), 3 * 4 + 6);
  const Snapshot before = snapshot(pool, 3);
  expect_error(Errc::invalid_argument, "shortest length it can go back to: 18", [&] { pool.truncate(s, 17); });
  EXPECT_EQ(snapshot(pool, 3), before);
  pool.truncate(s, 18);
  EXPECT_EQ(pool.length(s), 18);
  // A fork keeps the released entries.
  const SeqId f = pool.fork(s);
  EXPECT_EQ(pool.page_table(f, 1), pool.page_table(s, 1));
  EXPECT_EQ(pool.rollback_limit(f), 18);
  pool.truncate(s, 0);
  EXPECT_EQ(pool.rollback_limit(s), 0);
  EXPECT_EQ(pool.page_count(s, 1), 0);
}

TEST(KvPool, WindowReleaseCanBeTurnedOff) {
  KvGeometry g = small_geometry(2, 0, {6, 0});
  g.budget_bytes = 1 << 20;
  g.release_window_pages = false;
  KvPool pool(g);
  const SeqId s = pool.create();
  append(pool, s, 2, 20, 1);
  for (int64_t pos = 0; pos < 20; ++pos) EXPECT_TRUE(row_matches(pool, s, 0, pos, 1 + static_cast<uint64_t>(pos)));
  EXPECT_EQ(pool.rollback_limit(s), 0);
}

TEST(KvPool, BudgetSplitBetweenGroups) {
  // max_seq_len 64, page_size 4: a sequence needs 16 pages of the full group (2 layers, 512 bytes) and
  // ceil(6/4) + 1 = 3 pages of the window-6 group (1 layer, 256 bytes): 8960 bytes.
  KvGeometry g = small_geometry(3, 0, {0, 6, 0});
  g.budget_bytes = 2 * 8960 + 100;
  KvPool pool(g);
  const KvMemoryReport r = pool.memory_report();
  EXPECT_EQ(r.groups[0].page_bytes, 512u);
  EXPECT_EQ(r.groups[1].page_bytes, 256u);
  EXPECT_EQ(r.groups[0].pages_total, 32);
  EXPECT_EQ(r.groups[1].pages_total, 6);
  EXPECT_EQ(r.bytes_total, 2u * 8960);
  EXPECT_LE(r.bytes_total, g.budget_bytes);
  // Two sequences of the maximum length fit, decoding one token at a time.
  const SeqId a = pool.create(), b = pool.create();
  int64_t window_peak = 0;
  for (int64_t i = 0; i < 64; ++i) {
    for (SeqId s : {a, b}) {
      pool.reserve(s, 1);
      window_peak = std::max(window_peak, pool.memory_report().groups[1].pages_used);
      write_position(pool, s, 3, i, static_cast<uint64_t>(i));
      pool.commit(s, 1);
    }
  }
  EXPECT_EQ(pool.memory_report().groups[0].pages_free, 0);
  EXPECT_EQ(window_peak, 6);  // 3 pages each while a position is reserved (e.g. length 9: pages of 3 .. 9)
  // bytes_for_sequences gives exactly this budget; a batch of 8 positions needs ceil((3 + 6 + 8) / 4) = 5 pages.
  EXPECT_EQ(KvPool::bytes_for_sequences(g, 2), 2u * 8960);
  g.batch_positions = 8;
  EXPECT_EQ(KvPool::bytes_for_sequences(g, 3), 3u * (16 * 512 + 5 * 256));
  expect_error(Errc::invalid_argument, "sequence count", [&] { KvPool::bytes_for_sequences(g, 0); });
}

// ---- ids and arguments ---------------------------------------------------------------------------------------

TEST(KvPool, UnknownIdsAreRejected) {
  KvPool pool(small_geometry(2, 4));
  const SeqId a = pool.create();
  pool.remove(a);
  const SeqId b = pool.create();
  EXPECT_NE(a, b);  // ids are never reused
  const std::string name = "unknown sequence id " + std::to_string(a);
  std::vector<const uint8_t*> k(4), v(4);
  expect_error(Errc::invalid_argument, name, [&] { pool.fork(a); });
  expect_error(Errc::invalid_argument, name, [&] { pool.remove(a); });
  expect_error(Errc::invalid_argument, name, [&] { pool.truncate(a, 0); });
  expect_error(Errc::invalid_argument, name, [&] { pool.reserve(a, 1); });
  expect_error(Errc::invalid_argument, name, [&] { pool.can_reserve(a, 1); });
  expect_error(Errc::invalid_argument, name, [&] { pool.commit(a, 0); });
  expect_error(Errc::invalid_argument, name, [&] { pool.length(a); });
  expect_error(Errc::invalid_argument, name, [&] { pool.reserved_end(a); });
  expect_error(Errc::invalid_argument, name, [&] { pool.rollback_limit(a); });
  expect_error(Errc::invalid_argument, name, [&] { pool.k_row(a, 0, 0); });
  expect_error(Errc::invalid_argument, name, [&] { pool.v_row(a, 0, 0); });
  expect_error(Errc::invalid_argument, name, [&] { pool.page_count(a, 0); });
  expect_error(Errc::invalid_argument, name, [&] { pool.page_pointers(a, 0, k, v); });
  expect_error(Errc::invalid_argument, name, [&] { pool.page_table(a, 0); });
  expect_error(Errc::invalid_argument, "unknown sequence id 12345", [&] { pool.length(12345); });
  EXPECT_FALSE(pool.contains(a));
  EXPECT_EQ(pool.sequences(), std::vector<SeqId>{b});
}

TEST(KvPool, BadLayersAndShortArrays) {
  KvPool pool(small_geometry(2, 4));
  const SeqId s = pool.create();
  append(pool, s, 2, 5, 1);
  std::vector<const uint8_t*> k(1), v(2);
  expect_error(Errc::invalid_argument, "has 2 pages, arrays hold 1", [&] { pool.page_pointers(s, 0, k, v); });
  expect_error(Errc::invalid_argument, "layer 2 out of range", [&] { pool.page_count(s, 2); });
  expect_error(Errc::invalid_argument, "layer -1 out of range", [&] { pool.k_row(s, -1, 5); });
  expect_error(Errc::invalid_argument, "group 1 out of range", [&] { pool.page_table(s, 1); });
  expect_error(Errc::invalid_argument, "out of range", [&] { pool.page_refcount(0, 4); });
}

// ---- randomized test against a reference model ---------------------------------------------------------------

struct ModelSeq {
  std::vector<uint64_t> tags;           // [reserved_end] the tag written at each position
  int64_t length = 0;
  std::vector<int64_t> released_below;  // [group] window layers: positions below this were released (page multiple)
};

class PoolModelTest {
 public:
  PoolModelTest(const KvGeometry& g, uint64_t seed) : g_(g), pool_(g), rng_(seed) {
    windows_.resize(static_cast<size_t>(pool_.n_groups()));
    for (int64_t gi = 0; gi < pool_.n_groups(); ++gi) windows_[static_cast<size_t>(gi)] = pool_.group_window(gi);
  }

  void run(int steps) {
    for (int i = 0; i < steps; ++i) {
      step();
      check();
      if (::testing::Test::HasFailure()) return;
    }
    for (auto& [id, m] : model_) pool_.remove(id);
    model_.clear();
    check();
    const KvMemoryReport r = pool_.memory_report();
    EXPECT_EQ(r.pages_used, 0);
    EXPECT_EQ(r.pages_free, r.pages_total);
    EXPECT_EQ(r.bytes_used, 0u);
  }

  int64_t ooms = 0, forks = 0, fork_copies = 0, cows = 0, window_truncate_errors = 0;

 private:
  int64_t ps() const { return g_.page_size; }

  SeqId pick() {
    auto it = model_.begin();
    std::advance(it, std::uniform_int_distribution<size_t>(0, model_.size() - 1)(rng_));
    return it->first;
  }
  int64_t uniform(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng_); }

  int64_t model_limit(const ModelSeq& m) const {
    int64_t limit = 0;
    for (size_t gi = 0; gi < windows_.size(); ++gi) {
      if (m.released_below[gi] > 0) limit = std::max(limit, m.released_below[gi] + windows_[gi]);
    }
    return limit;
  }

  void step() {
    const int64_t op = uniform(0, 99);
    if (model_.empty() || (op < 8 && model_.size() < 8)) {
      const SeqId id = pool_.create();
      model_[id] = ModelSeq{{}, 0, std::vector<int64_t>(windows_.size(), 0)};
      return;
    }
    const SeqId id = pick();
    ModelSeq& m = model_[id];
    if (op < 20) {  // fork
      const Snapshot before = snapshot(pool_, g_.n_layers);
      try {
        const bool open_in_last_page = static_cast<int64_t>(m.tags.size()) > m.length && m.length % ps() != 0;
        const SeqId child = pool_.fork(id);
        ++forks;
        fork_copies += open_in_last_page;
        ModelSeq c = m;
        c.tags.resize(static_cast<size_t>(m.length));
        model_[child] = std::move(c);
      } catch (const Error& e) {
        ASSERT_EQ(e.code(), Errc::out_of_memory) << e.what();
        ASSERT_GT(static_cast<int64_t>(m.tags.size()), m.length);  // only an open reservation needs a page
        ASSERT_NE(m.length % ps(), 0);
        ASSERT_EQ(snapshot(pool_, g_.n_layers), before);
        ++ooms;
      }
    } else if (op < 32) {  // truncate
      const int64_t n = uniform(0, m.length);
      const bool ok = n == 0 || n >= model_limit(m);
      const Snapshot before = snapshot(pool_, g_.n_layers);
      try {
        pool_.truncate(id, n);
        ASSERT_TRUE(ok) << "truncate to " << n << " should have failed";
        m.tags.resize(static_cast<size_t>(n));
        m.length = n;
        if (n == 0) std::fill(m.released_below.begin(), m.released_below.end(), 0);
      } catch (const Error& e) {
        ASSERT_FALSE(ok) << e.what();
        ASSERT_EQ(e.code(), Errc::invalid_argument);
        ASSERT_EQ(snapshot(pool_, g_.n_layers), before);
        ++window_truncate_errors;
      }
    } else if (op < 40) {  // remove
      pool_.remove(id);
      model_.erase(id);
    } else if (op < 46) {  // commit (part of) an open reservation written earlier
      const auto open = static_cast<int64_t>(m.tags.size()) - m.length;
      const int64_t n = uniform(0, open);
      pool_.commit(id, n);
      commit_model(m, n);
    } else if (op < 49) {  // writing outside the reservation is refused
      const int64_t pos = uniform(0, 2) == 0 ? static_cast<int64_t>(m.tags.size()) : uniform(0, m.length);
      if (pos >= m.length && pos < static_cast<int64_t>(m.tags.size())) return;
      EXPECT_THROW(pool_.k_row(id, uniform(0, g_.n_layers - 1), pos), Error);
    } else {  // reserve, write, commit some or all
      const int64_t n = uniform(0, 3) == 0 ? uniform(0, 3 * ps() * 4) : uniform(0, 2 * ps());
      const int64_t end = m.length + n;
      // Upper bound on the pages any group can need: every page index the new positions touch.
      const int64_t touched = n == 0 ? 0 : (end - 1) / ps() - m.length / ps() + 1;
      bool surely_fits = true;
      const KvMemoryReport r = pool_.memory_report();
      for (const auto& gr : r.groups) surely_fits = surely_fits && gr.pages_free >= touched;
      // Exactly: a page for every touched index not yet in the table or shared (copy-on-write).
      bool fits = true;
      for (int64_t gi = 0; gi < pool_.n_groups(); ++gi) {
        const auto& table = pool_.page_table(id, gi);
        int64_t need = 0;
        for (int64_t j = m.length / ps(); n > 0 && j <= (end - 1) / ps(); ++j) {
          need += j >= static_cast<int64_t>(table.size()) || pool_.page_refcount(gi, table[static_cast<size_t>(j)]) > 1;
        }
        fits = fits && need <= r.groups[static_cast<size_t>(gi)].pages_free;
      }
      const bool can = pool_.can_reserve(id, n);
      ASSERT_EQ(can, fits && end <= g_.max_seq_len);
      const Snapshot before = snapshot(pool_, g_.n_layers);
      const std::vector<int32_t> table_before = pool_.page_table(id, 0);
      try {
        pool_.reserve(id, n);
        const auto j = static_cast<size_t>(m.length / ps());
        cows += n > 0 && j < table_before.size() && pool_.page_table(id, 0)[j] != table_before[j];
        ASSERT_LE(end, g_.max_seq_len);
        ASSERT_TRUE(can);
      } catch (const Error& e) {
        ASSERT_FALSE(can);
        ASSERT_EQ(snapshot(pool_, g_.n_layers), before);
        if (end > g_.max_seq_len) {
          ASSERT_EQ(e.code(), Errc::invalid_argument) << e.what();
        } else {
          ASSERT_EQ(e.code(), Errc::out_of_memory) << e.what();
          ASSERT_FALSE(surely_fits) << e.what();
          ++ooms;
        }
        return;
      }
      if (static_cast<int64_t>(m.tags.size()) < end) m.tags.resize(static_cast<size_t>(end));
      for (int64_t pos = m.length; pos < end; ++pos) {
        const uint64_t tag = next_tag_++;
        write_position(pool_, id, g_.n_layers, pos, tag);
        m.tags[static_cast<size_t>(pos)] = tag;
      }
      const int64_t k = uniform(0, 1) == 0 ? uniform(0, n) : n;
      pool_.commit(id, k);
      commit_model(m, k);
    }
  }

  void commit_model(ModelSeq& m, int64_t n) {
    m.length += n;
    if (!g_.release_window_pages) return;
    for (size_t gi = 0; gi < windows_.size(); ++gi) {
      const int64_t w = windows_[gi];
      if (w == 0 || m.length - w <= 0) continue;
      m.released_below[gi] = std::max(m.released_below[gi], (m.length - w) / ps() * ps());
    }
  }

  void check() {
    std::vector<SeqId> ids;
    for (const auto& [id, m] : model_) ids.push_back(id);
    ASSERT_EQ(pool_.sequences(), ids);
    const KvMemoryReport r = pool_.memory_report();
    std::vector<std::vector<int32_t>> holders(windows_.size());  // [group][page] tables holding it
    for (size_t gi = 0; gi < windows_.size(); ++gi) holders[gi].assign(static_cast<size_t>(r.groups[gi].pages_total), 0);
    const auto rb = static_cast<size_t>(pool_.row_bytes());
    for (const auto& [id, m] : model_) {
      const auto end = static_cast<int64_t>(m.tags.size());
      ASSERT_EQ(pool_.length(id), m.length);
      ASSERT_EQ(pool_.reserved_end(id), end);
      ASSERT_EQ(pool_.rollback_limit(id), model_limit(m));
      for (size_t gi = 0; gi < windows_.size(); ++gi) {
        const auto& table = pool_.page_table(id, static_cast<int64_t>(gi));
        ASSERT_EQ(static_cast<int64_t>(table.size()), (end + ps() - 1) / ps());
        for (size_t j = 0; j < table.size(); ++j) {
          const bool released = static_cast<int64_t>(j) * ps() < m.released_below[gi];
          ASSERT_EQ(table[j] < 0, released) << "seq " << id << " group " << gi << " page index " << j;
          if (table[j] >= 0) ++holders[gi][static_cast<size_t>(table[j])];
          // Pages that may be written (open reservation) belong to this sequence alone.
          if (!released && static_cast<int64_t>(j + 1) * ps() > m.length && end > m.length) {
            ASSERT_EQ(pool_.page_refcount(static_cast<int64_t>(gi), table[j]), 1);
          }
        }
        std::vector<int32_t> live;
        for (int32_t p : table) if (p >= 0) live.push_back(p);
        std::sort(live.begin(), live.end());
        ASSERT_EQ(std::adjacent_find(live.begin(), live.end()), live.end()) << "page twice in one table";
      }
      for (int64_t l = 0; l < g_.n_layers; ++l) {
        const int64_t n = pool_.page_count(id, l);
        std::vector<const uint8_t*> k(static_cast<size_t>(n)), v(static_cast<size_t>(n));
        pool_.page_pointers(id, l, k, v);
        const auto gi = static_cast<size_t>(pool_.group_of_layer(l));
        for (int64_t pos = 0; pos < end; ++pos) {
          const auto j = static_cast<size_t>(pos / ps());
          if (pos < m.released_below[gi]) {
            ASSERT_EQ(k[j], nullptr);
            ASSERT_EQ(v[j], nullptr);
            continue;
          }
          const uint64_t tag = m.tags[static_cast<size_t>(pos)];
          const size_t off = static_cast<size_t>(pos % ps()) * rb;
          for (size_t i = 0; i < rb; ++i) {
            ASSERT_EQ(k[j][off + i], pattern_byte(tag, l, 0, i)) << "seq " << id << " layer " << l << " pos " << pos;
            ASSERT_EQ(v[j][off + i], pattern_byte(tag, l, 1, i)) << "seq " << id << " layer " << l << " pos " << pos;
          }
        }
      }
    }
    int64_t used = 0, shared = 0;
    for (size_t gi = 0; gi < windows_.size(); ++gi) {
      int64_t g_used = 0;
      for (size_t p = 0; p < holders[gi].size(); ++p) {
        ASSERT_EQ(pool_.page_refcount(static_cast<int64_t>(gi), static_cast<int32_t>(p)), holders[gi][p]);
        g_used += holders[gi][p] > 0;
        shared += holders[gi][p] > 1;
      }
      ASSERT_EQ(r.groups[gi].pages_used, g_used);
      ASSERT_EQ(r.groups[gi].pages_free + r.groups[gi].pages_used, r.groups[gi].pages_total);
      used += g_used;
    }
    ASSERT_EQ(r.pages_used, used);
    ASSERT_EQ(r.pages_shared, shared);
    ASSERT_EQ(r.pages_free + r.pages_used, r.pages_total);
  }

  KvGeometry g_;
  KvPool pool_;
  std::mt19937_64 rng_;
  std::vector<int64_t> windows_;
  std::map<SeqId, ModelSeq> model_;
  uint64_t next_tag_ = 1;
};

std::vector<KvGeometry> model_geometries() {
  std::vector<KvGeometry> out;
  KvGeometry a = small_geometry(3, 24);  // one full group
  a.max_seq_len = 40;
  out.push_back(a);
  KvGeometry b;  // full + window 5, f16, page_size 3
  b.n_layers = 4;
  b.layer_window = {0, 5, 5, 0};
  b.type = KvType::f16;
  b.kv_dim = 6;
  b.page_size = 3;
  b.max_seq_len = 36;
  b.budget_bytes = 6000;
  out.push_back(b);
  KvGeometry c;  // full + window 4 + window 9, q8_0, page_size 2
  c.n_layers = 3;
  c.layer_window = {9, 0, 4};
  c.type = KvType::q8_0;
  c.kv_dim = 32;
  c.page_size = 2;
  c.max_seq_len = 30;
  c.budget_bytes = 9000;
  out.push_back(c);
  KvGeometry d = b;  // window layers keep everything
  d.release_window_pages = false;
  d.budget_bytes = 9000;
  out.push_back(d);
  return out;
}

TEST(KvPoolModel, RandomOperationsMatchReferenceModel) {
  int64_t ooms = 0, forks = 0, fork_copies = 0, cows = 0, truncate_errors = 0, steps = 0;
  const std::vector<KvGeometry> geometries = model_geometries();
  for (size_t gi = 0; gi < geometries.size(); ++gi) {
    for (uint64_t seed = 1; seed <= 5; ++seed) {
      SCOPED_TRACE("geometry " + std::to_string(gi) + " seed " + std::to_string(seed));
      for (int episode = 0; episode < 8; ++episode) {
        PoolModelTest t(geometries[gi], seed * 1000 + static_cast<uint64_t>(episode));
        t.run(150);
        if (::testing::Test::HasFailure()) return;
        ooms += t.ooms;
        forks += t.forks;
        fork_copies += t.fork_copies;
        cows += t.cows;
        truncate_errors += t.window_truncate_errors;
        steps += 150;
      }
    }
  }
  // The operation mix must really reach the interesting paths.
  EXPECT_GT(ooms, 100);
  EXPECT_GT(forks, 500);
  EXPECT_GT(fork_copies, 50);
  EXPECT_GT(cows, 200);
  EXPECT_GT(truncate_errors, 20);
  RecordProperty("steps", static_cast<int>(steps));
  std::printf("[ model ] %lld steps: %lld forks (%lld copying an open last page), %lld copy-on-write reserves, "
              "%lld out-of-pages, %lld refused truncates\n",
              static_cast<long long>(steps), static_cast<long long>(forks), static_cast<long long>(fork_copies),
              static_cast<long long>(cows), static_cast<long long>(ooms), static_cast<long long>(truncate_errors));
}

}  // namespace
}  // namespace qtr
