// A corpus of handcrafted bad model files: GGUF, GGUF tokenizer metadata, safetensors (single and sharded) and
// SentencePiece .model files. Every case must end in a qtr::Error whose message names the problem — never a crash,
// a hang or a huge allocation (the sanitizer build runs this suite too). A few valid files check the builders.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "bad_file_builder.hpp"
#include "qtr/blob.hpp"
#include "qtr/error.hpp"
#include "qtr/gguf.hpp"
#include "qtr/gguf_writer.hpp"
#include "qtr/model.hpp"
#include "qtr/safetensors.hpp"
#include "qtr/tokenizer.hpp"
#include "qtr/vocab.hpp"

namespace qtr {
namespace {

using hostile::Bytes;
using hostile::Caught;
using hostile::gguf_header;
using hostile::Proto;
using hostile::ScratchDir;

constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();
constexpr uint32_t kF32 = static_cast<uint32_t>(TensorType::F32);

// =============================================================================================================
// GGUF
// =============================================================================================================

GgufFile parse_gguf(std::vector<uint8_t> bytes, const std::string& name = "hostile.gguf") {
  return GgufFile::parse(Blob::from_bytes(std::move(bytes), name));
}

// Parsing `bytes` must throw qtr::Error(code) whose message starts with the file name and contains `substring`.
void expect_gguf_rejected(std::vector<uint8_t> bytes, const std::string& substring, Errc code = Errc::bad_format) {
  const Caught c = hostile::catch_error([&] { parse_gguf(std::move(bytes)); });
  ASSERT_EQ(c.kind, Caught::Kind::qtr_error) << hostile::kind_name(c.kind) << " (" << c.message << ")";
  EXPECT_STREQ(errc_name(c.code), errc_name(code)) << c.message;
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, substring, c.message);
  EXPECT_EQ(c.message.rfind("hostile.gguf: ", 0), 0u) << "the message does not name the file: " << c.message;
}
#define EXPECT_GGUF_REJECTED(...)          \
  do {                                     \
    SCOPED_TRACE("EXPECT_GGUF_REJECTED");  \
    expect_gguf_rejected(__VA_ARGS__);     \
  } while (0)

// A GGUF file with one metadata entry written by `entry`.
std::vector<uint8_t> gguf_one_kv(const std::function<void(Bytes&)>& entry) {
  Bytes b = gguf_header(0, 1);
  entry(b);
  return b.take();
}

// A GGUF file with no metadata, `n` tensor infos written by `infos`, padding to 32 and `data_bytes` of data.
std::vector<uint8_t> gguf_tensors(uint64_t n, const std::function<void(Bytes&)>& infos, size_t data_bytes) {
  Bytes b = gguf_header(n, 0);
  infos(b);
  b.pad_to(32).zeros(data_bytes);
  return b.take();
}

std::vector<uint8_t> f32_bytes(std::vector<float> v) {
  std::vector<uint8_t> out(v.size() * sizeof(float));
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

// A small valid GGUF: metadata of many types (arrays and a nested array included) and two tensors whose data
// fills the file to its last byte, so that every proper prefix is a truncated file.
GgufWriter reference_writer() {
  GgufWriter w;
  w.set("general.architecture", GgufValue{std::string("llama")});
  w.set("general.name", GgufValue{std::string("hostile reference ✓")});
  w.set("general.alignment", GgufValue{uint32_t{32}});
  w.set("test.u8", GgufValue{uint8_t{7}});
  w.set("test.i16", GgufValue{int16_t{-3}});
  w.set("test.u32", GgufValue{uint32_t{123456}});
  w.set("test.f32", GgufValue{0.5f});
  w.set("test.bool", GgufValue{true});
  w.set("test.u64", GgufValue{uint64_t{1} << 40});
  w.set("test.i64", GgufValue{int64_t{-5}});
  w.set("test.f64", GgufValue{2.5});
  w.set("test.strings", gguf_array(std::vector<std::string>{"a", "", "ccc"}));
  w.set("test.floats", gguf_array(std::vector<float>{1.0f, -2.0f}));
  GgufArray nested{GgufType::array, {}};
  nested.items.push_back(gguf_array(std::vector<int32_t>{1, 2}));
  nested.items.push_back(gguf_array(std::vector<int32_t>{3}));
  w.set("test.nested", GgufValue{nested});
  w.add_tensor("a", TensorType::F32, {4, 2}, f32_bytes({1, 2, 3, 4, 5, 6, 7, 8}));
  w.add_tensor("bb", TensorType::F16, {16}, std::vector<uint8_t>(32, 0x3C));
  return w;
}

TEST(HostileGguf, ReferenceFileIsValid) {
  const auto bytes = reference_writer().to_bytes();
  const GgufFile f = parse_gguf(bytes);
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.metadata().size(), 14u);
  EXPECT_EQ(f.require_string("general.name"), "hostile reference ✓");
  EXPECT_EQ(f.require_array("test.nested", GgufType::array).items.size(), 2u);
  ASSERT_EQ(f.tensor_infos().size(), 2u);
  const auto& last = f.tensor_infos().back();
  // The last tensor ends exactly at the end of the file: no trailing padding.
  EXPECT_EQ(f.data_offset() + last.offset + last.n_bytes, bytes.size());
  EXPECT_EQ(f.require_tensor("a").data.size(), 32u);
}

TEST(HostileGguf, HandBuiltBytesMatchTheWriter) {
  // The raw builder and GgufWriter agree, so the broken variants below differ from valid files only where intended.
  GgufWriter w;
  w.set("k", GgufValue{uint32_t{5}});
  w.add_tensor("t", TensorType::F32, {8}, std::vector<uint8_t>(32, 0));
  Bytes b = gguf_header(1, 1);
  b.key("k", GgufType::u32).u32(5).tensor("t", {8}, kF32, 0).pad_to(32).zeros(32);
  EXPECT_EQ(b.bytes(), w.to_bytes());
  EXPECT_NO_THROW(parse_gguf(b.take()));
}

const char* const kEndOfFileMessages[] = {
    "not a GGUF file (only ",            // fewer than 4 bytes
    "truncated file",                    // a fixed-size field, or the data section start
    "more than the file can hold",       // entry / tensor counts bounded by the bytes left
    "bytes remain in the file",          // a string longer than the rest of the file
    "remaining bytes can hold",          // an array count bounded by the bytes left
    "extends past the end of the file",  // tensor data cut short
};

TEST(HostileGguf, EveryTruncationOfAValidFileIsRejected) {
  const auto full = reference_writer().to_bytes();
  int failures = 0;
  for (size_t len = 0; len < full.size() && failures < 5; ++len) {
    std::vector<uint8_t> prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len));
    const Caught c = hostile::catch_error([&] { parse_gguf(std::move(prefix), "prefix.gguf"); });
    bool ok = c.kind == Caught::Kind::qtr_error && c.code == Errc::bad_format &&
              c.message.rfind("prefix.gguf: ", 0) == 0;
    ok = ok && std::any_of(std::begin(kEndOfFileMessages), std::end(kEndOfFileMessages),
                           [&](const char* m) { return c.message.find(m) != std::string::npos; });
    if (!ok) {
      ++failures;
      ADD_FAILURE() << "prefix of " << len << " of " << full.size() << " bytes: " << hostile::kind_name(c.kind)
                    << " (" << c.message << ")";
    }
  }
}

TEST(HostileGguf, TruncationInEachSectionNamesWhatWasCut) {
  const auto full = reference_writer().to_bytes();
  const GgufFile f = parse_gguf(full);
  auto cut = [&](size_t len) {
    return std::vector<uint8_t>(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len));
  };
  // Where the last tensor info ends (the padding before the data section follows it).
  Bytes last_info;
  last_info.tensor("bb", {16}, static_cast<uint32_t>(TensorType::F16), 32);
  const auto it = std::search(full.begin(), full.end(), last_info.bytes().begin(), last_info.bytes().end());
  ASSERT_NE(it, full.end());
  const size_t infos_end = static_cast<size_t>(it - full.begin()) + last_info.size();
  ASSERT_LT(infos_end, f.data_offset()) << "the reference file should have padding before its data";
  const size_t infos_start = infos_end - last_info.size() - Bytes().tensor("a", {4, 2}, kF32, 0).size();

  EXPECT_GGUF_REJECTED(cut(0), "not a GGUF file (only 0 bytes)");
  EXPECT_GGUF_REJECTED(cut(3), "not a GGUF file (only 3 bytes)");
  EXPECT_GGUF_REJECTED(cut(6), "truncated file: version needs 4 bytes at offset 4 but only 2 remain");
  EXPECT_GGUF_REJECTED(cut(12), "truncated file: tensor count needs 8 bytes");
  EXPECT_GGUF_REJECTED(cut(20), "truncated file: metadata count needs 8 bytes");
  EXPECT_GGUF_REJECTED(cut(100), "header claims 14 metadata entries, more than the file can hold");
  EXPECT_GGUF_REJECTED(cut(infos_start - 1), "metadata 'test.nested' claims 1 elements of type i32");
  EXPECT_GGUF_REJECTED(cut(infos_start + 5), "truncated file: name of tensor 0 needs 8 bytes");
  EXPECT_GGUF_REJECTED(cut(infos_start + 8), "name of tensor 0 has length 1 but only 0 bytes remain");
  EXPECT_GGUF_REJECTED(cut(infos_end - 3), "truncated file: offset of tensor 'bb' needs 8 bytes");
  EXPECT_GGUF_REJECTED(cut(f.data_offset() - 1), "truncated file: the data section would start at offset");
  EXPECT_GGUF_REJECTED(cut(f.data_offset() + 40), "tensor 'bb' (32 bytes at data offset 32) extends past the end");
}

TEST(HostileGguf, BadMagic) {
  Bytes ggml;
  ggml.raw("GGML").u32(3).u64(0).u64(0);
  EXPECT_GGUF_REJECTED(ggml.take(), "not a GGUF file (magic is 'GGML', expected 'GGUF')");
  Bytes elf;
  elf.raw("\x7f" "ELF").zeros(60);
  EXPECT_GGUF_REJECTED(elf.take(), "not a GGUF file (magic is '\\x7fELF', expected 'GGUF')");
  // A safetensors file starts with its u64 header length.
  EXPECT_GGUF_REJECTED(hostile::safetensors_bytes("{}", {}), "magic is '\\x02\\x00\\x00\\x00'");
  Bytes lower;
  lower.raw("gguf").u32(3).u64(0).u64(0);
  EXPECT_GGUF_REJECTED(lower.take(), "magic is 'gguf'");
}

TEST(HostileGguf, UnsupportedVersions) {
  EXPECT_GGUF_REJECTED(gguf_header(0, 0, 0).take(), "unsupported GGUF version 0", Errc::unsupported);
  EXPECT_GGUF_REJECTED(gguf_header(0, 0, 1).take(), "unsupported GGUF version 1 (only versions 2 and 3 are read",
                       Errc::unsupported);
  EXPECT_GGUF_REJECTED(gguf_header(0, 0, 99).take(), "unsupported GGUF version 99", Errc::unsupported);
  EXPECT_GGUF_REJECTED(gguf_header(0, 0, 0xFFFFFFFFu).take(), "unsupported GGUF version 4294967295",
                       Errc::unsupported);
  // A big-endian file: the magic is written as bytes, everything after it big-endian.
  Bytes be;
  be.raw("GGUF").u32(__builtin_bswap32(3)).u64(0).u64(0);
  EXPECT_GGUF_REJECTED(be.take(), "a big-endian GGUF file; only little-endian files are supported",
                       Errc::unsupported);
  Bytes be2;
  be2.raw("GGUF").u32(__builtin_bswap32(2)).u64(__builtin_bswap64(1)).u64(__builtin_bswap64(3));
  EXPECT_GGUF_REJECTED(be2.take(), "big-endian", Errc::unsupported);
  // Versions 2 and 3 are fine.
  EXPECT_NO_THROW(parse_gguf(gguf_header(0, 0, 2).take()));
  EXPECT_NO_THROW(parse_gguf(gguf_header(0, 0, 3).take()));
}

TEST(HostileGguf, HugeCounts) {
  EXPECT_GGUF_REJECTED(gguf_header(kU64Max, 0).take(),
                       "header claims 18446744073709551615 tensors, more than the file can hold");
  EXPECT_GGUF_REJECTED(gguf_header(0, kU64Max).take(),
                       "header claims 18446744073709551615 metadata entries, more than the file can hold");
  // Counts that would fit in memory arithmetic but not in the file.
  Bytes b = gguf_header(uint64_t{1} << 40, 0);
  b.zeros(1000);
  EXPECT_GGUF_REJECTED(b.take(), "header claims 1099511627776 tensors");
  Bytes kv = gguf_header(0, 100);
  kv.key("k", GgufType::u8).u8(1).zeros(200);
  EXPECT_GGUF_REJECTED(kv.take(), "header claims 100 metadata entries");
}

TEST(HostileGguf, StringLengthPastEndOfFile) {
  Bytes key = gguf_header(0, 1);
  key.u64(1000).raw("abcdefghijklmnop");
  EXPECT_GGUF_REJECTED(key.take(), "key of metadata entry 0 has length 1000 but only 16 bytes remain");
  EXPECT_GGUF_REJECTED(gguf_one_kv([](Bytes& b) { b.key("k", GgufType::string).u64(kU64Max).raw("abc"); }),
                       "metadata 'k' has length 18446744073709551615 but only 3 bytes remain");
  EXPECT_GGUF_REJECTED(gguf_one_kv([](Bytes& b) { b.key("k", GgufType::string).u64(4).raw("abc"); }),
                       "metadata 'k' has length 4 but only 3 bytes remain");
  // A string inside an array.
  EXPECT_GGUF_REJECTED(gguf_one_kv([](Bytes& b) {
                         b.key("k", GgufType::array).type(GgufType::string).u64(2).str("ok").u64(100).raw("x");
                       }),
                       "metadata 'k' has length 100 but only 1 bytes remain");
  // A tensor name.
  Bytes name = gguf_header(1, 0);
  name.u64(500).zeros(30);
  EXPECT_GGUF_REJECTED(name.take(), "name of tensor 0 has length 500 but only 30 bytes remain");
}

TEST(HostileGguf, HugeArrayCounts) {
  EXPECT_GGUF_REJECTED(gguf_one_kv([](Bytes& b) { b.key("arr", GgufType::array).type(GgufType::u8).u64(kU64Max); }),
                       "metadata 'arr' claims 18446744073709551615 elements of type u8, more than the 0 remaining");
  EXPECT_GGUF_REJECTED(
      gguf_one_kv([](Bytes& b) { b.key("arr", GgufType::array).type(GgufType::u64).u64(3).u64(1).u64(2); }),
      "metadata 'arr' claims 3 elements of type u64, more than the 16 remaining bytes can hold");
  EXPECT_GGUF_REJECTED(gguf_one_kv([](Bytes& b) {
                         b.key("arr", GgufType::array).type(GgufType::string).u64(uint64_t{1} << 61).zeros(64);
                       }),
                       "claims 2305843009213693952 elements of type string");
  // An array of arrays: each element needs at least 12 bytes.
  EXPECT_GGUF_REJECTED(gguf_one_kv([](Bytes& b) {
                         b.key("arr", GgufType::array).type(GgufType::array).u64(1000000).zeros(1000);
                       }),
                       "claims 1000000 elements of type array");
}

// `levels` arrays nested inside each other, the innermost an empty u8 array.
std::vector<uint8_t> nested_arrays(int levels) {
  return gguf_one_kv([&](Bytes& b) {
    b.key("deep", GgufType::array);
    for (int i = 1; i < levels; ++i) b.type(GgufType::array).u64(1);
    b.type(GgufType::u8).u64(0);
  });
}

TEST(HostileGguf, ArraysNestedTooDeep) {
  EXPECT_NO_THROW(parse_gguf(nested_arrays(8)));
  EXPECT_GGUF_REJECTED(nested_arrays(9), "arrays nested deeper than 8 levels in metadata 'deep'");
  EXPECT_GGUF_REJECTED(nested_arrays(100000), "arrays nested deeper than 8 levels");
}

TEST(HostileGguf, InvalidBool) {
  EXPECT_GGUF_REJECTED(gguf_one_kv([](Bytes& b) { b.key("flag", GgufType::boolean).u8(2); }),
                       "invalid bool value 2 for metadata 'flag'");
  EXPECT_GGUF_REJECTED(
      gguf_one_kv([](Bytes& b) { b.key("flags", GgufType::array).type(GgufType::boolean).u64(3).u8(1).u8(0).u8(255); }),
      "invalid bool value 255 for metadata 'flags'");
}

TEST(HostileGguf, UnknownMetadataValueType) {
  EXPECT_GGUF_REJECTED(gguf_one_kv([](Bytes& b) { b.str("k").u32(13).u32(0); }),
                       "unknown metadata value type 13 for metadata 'k'");
  EXPECT_GGUF_REJECTED(gguf_one_kv([](Bytes& b) { b.str("k").u32(0xFFFFFFFFu).u64(0); }),
                       "unknown metadata value type 4294967295 for metadata 'k'");
  EXPECT_GGUF_REJECTED(gguf_one_kv([](Bytes& b) { b.key("k", GgufType::array).u32(99).u64(0); }),
                       "unknown metadata value type 99 for elements of metadata 'k'");
}

TEST(HostileGguf, TensorOffsetPastEndOfFile) {
  EXPECT_GGUF_REJECTED(gguf_tensors(1, [](Bytes& b) { b.tensor("t", {8}, kF32, 32); }, 32),
                       "tensor 't' (32 bytes at data offset 32) extends past the end of the file "
                       "(data section is 32 bytes)");
  // No data section at all.
  Bytes none = gguf_header(1, 0);
  none.tensor("t", {8}, kF32, 0).pad_to(32);
  EXPECT_GGUF_REJECTED(none.take(), "tensor 't' (32 bytes at data offset 0) extends past the end of the file");
  // An aligned offset so large that offset + size wraps around.
  EXPECT_GGUF_REJECTED(gguf_tensors(1, [](Bytes& b) { b.tensor("t", {8}, kF32, kU64Max - 31); }, 32),
                       "tensor 't' (32 bytes at data offset 18446744073709551584) extends past the end of the file");
  // Data section start past the end (alignment 2^31).
  Bytes far = gguf_header(1, 1);
  far.key("general.alignment", GgufType::u32).u32(1u << 31).tensor("t", {8}, kF32, 0).zeros(64);
  EXPECT_GGUF_REJECTED(far.take(), "truncated file: the data section would start at offset 2147483648");
}

TEST(HostileGguf, OverlappingTensors) {
  EXPECT_GGUF_REJECTED(gguf_tensors(2, [](Bytes& b) { b.tensor("a", {16}, kF32, 0).tensor("b", {8}, kF32, 32); }, 64),
                       "tensors 'a' and 'b' overlap");
  EXPECT_GGUF_REJECTED(gguf_tensors(2, [](Bytes& b) { b.tensor("a", {8}, kF32, 0).tensor("b", {8}, kF32, 0); }, 64),
                       "overlap");
  // Listed out of order: still found.
  EXPECT_GGUF_REJECTED(gguf_tensors(3,
                                    [](Bytes& b) {
                                      b.tensor("c", {8}, kF32, 96).tensor("a", {8}, kF32, 0);
                                      b.tensor("b", {24}, kF32, 32);
                                    },
                                    128),
                       "tensors 'b' and 'c' overlap");
  // Adjacent tensors do not overlap.
  EXPECT_NO_THROW(
      parse_gguf(gguf_tensors(2, [](Bytes& b) { b.tensor("a", {8}, kF32, 32).tensor("b", {8}, kF32, 0); }, 64)));
}

TEST(HostileGguf, MisalignedTensorOffset) {
  EXPECT_GGUF_REJECTED(gguf_tensors(1, [](Bytes& b) { b.tensor("t", {8}, kF32, 4); }, 64),
                       "tensor 't' data offset 4 is not a multiple of the alignment 32");
  Bytes custom = gguf_header(1, 1);
  custom.key("general.alignment", GgufType::u32).u32(64).tensor("t", {8}, kF32, 32).pad_to(64).zeros(128);
  EXPECT_GGUF_REJECTED(custom.take(), "tensor 't' data offset 32 is not a multiple of the alignment 64");
}

TEST(HostileGguf, BadAlignment) {
  EXPECT_GGUF_REJECTED(gguf_one_kv([](Bytes& b) { b.key("general.alignment", GgufType::u32).u32(48); }),
                       "general.alignment 48 is not a power of two");
  EXPECT_GGUF_REJECTED(gguf_one_kv([](Bytes& b) { b.key("general.alignment", GgufType::u32).u32(0); }),
                       "general.alignment 0 is not a power of two");
  EXPECT_GGUF_REJECTED(gguf_one_kv([](Bytes& b) { b.key("general.alignment", GgufType::u32).u32(0xFFFFFFFFu); }),
                       "general.alignment 4294967295 is not a power of two");
  EXPECT_GGUF_REJECTED(gguf_one_kv([](Bytes& b) { b.key("general.alignment", GgufType::u64).u64(32); }),
                       "general.alignment must be a u32, found u64");
  EXPECT_GGUF_REJECTED(gguf_one_kv([](Bytes& b) { b.key("general.alignment", GgufType::string).str("32"); }),
                       "general.alignment must be a u32, found string");
  EXPECT_GGUF_REJECTED(
      gguf_one_kv([](Bytes& b) { b.key("general.alignment", GgufType::array).type(GgufType::u32).u64(1).u32(32); }),
      "general.alignment must be a u32, found array");
}

TEST(HostileGguf, DimensionsOverflow) {
  EXPECT_GGUF_REJECTED(gguf_tensors(1, [](Bytes& b) { b.tensor("t", {1ull << 32, 1ull << 32}, kF32, 0); }, 32),
                       "the dimensions of tensor 't' overflow a 64-bit element count");
  // 2^63 elements: fits in a u64 but not in the int64 element count.
  EXPECT_GGUF_REJECTED(
      gguf_tensors(1, [](Bytes& b) { b.tensor("t", {1ull << 21, 1ull << 21, 1ull << 21}, kF32, 0); }, 32),
                       "the dimensions of tensor 't' overflow a 64-bit element count");
  EXPECT_GGUF_REJECTED(gguf_tensors(1, [](Bytes& b) { b.tensor("t", {1ull << 63}, kF32, 0); }, 32),
                       "tensor 't' has invalid dimension 9223372036854775808");
  EXPECT_GGUF_REJECTED(gguf_tensors(1, [](Bytes& b) { b.tensor("t", {8, 0}, kF32, 0); }, 32),
                       "tensor 't' has invalid dimension 0");
  // The element count fits but the byte size does not.
  EXPECT_GGUF_REJECTED(
      gguf_tensors(1, [](Bytes& b) { b.tensor("t", {1ull << 62}, static_cast<uint32_t>(TensorType::F64), 0); }, 32),
      "the byte size of tensor 't' overflows 64 bits");
}

TEST(HostileGguf, DimensionCount) {
  EXPECT_GGUF_REJECTED(gguf_tensors(1, [](Bytes& b) { b.tensor("t", {}, kF32, 0); }, 32),
                       "tensor 't' has 0 dimensions (1 to 4 are allowed)");
  EXPECT_GGUF_REJECTED(gguf_tensors(1, [](Bytes& b) { b.tensor("t", {2, 2, 2, 1, 1}, kF32, 0); }, 32),
                       "tensor 't' has 5 dimensions (1 to 4 are allowed)");
  Bytes many = gguf_header(1, 0);
  many.str("t").u32(0xFFFFFFFFu).zeros(64);
  EXPECT_GGUF_REJECTED(many.take(), "tensor 't' has 4294967295 dimensions");
  EXPECT_NO_THROW(parse_gguf(gguf_tensors(1, [](Bytes& b) { b.tensor("t", {2, 2, 2, 1}, kF32, 0); }, 32)));
}

TEST(HostileGguf, UnknownTensorTypeId) {
  for (uint32_t id : {4u, 5u, 31u, 33u, 36u, 38u, 40u, 1000u, 0xFFFFFFFFu}) {
    SCOPED_TRACE(id);
    EXPECT_GGUF_REJECTED(gguf_tensors(1, [&](Bytes& b) { b.tensor("t", {256}, id, 0); }, 1024),
                         "tensor 't' has unknown tensor type id " + std::to_string(id));
  }
}

TEST(HostileGguf, RowNotAMultipleOfTheBlockSize) {
  EXPECT_GGUF_REJECTED(
      gguf_tensors(1, [](Bytes& b) { b.tensor("t", {33, 2}, static_cast<uint32_t>(TensorType::Q4_0), 0); }, 64),
      "tensor 't' has a row of 33 elements, not a multiple of the Q4_0 block size 32");
  // 64 x 4 elements would fill whole Q4_K blocks, but a row must be a whole number of blocks.
  EXPECT_GGUF_REJECTED(
      gguf_tensors(1, [](Bytes& b) { b.tensor("t", {64, 4}, static_cast<uint32_t>(TensorType::Q4_K), 0); }, 256),
      "tensor 't' has a row of 64 elements, not a multiple of the Q4_K block size 256");
}

TEST(HostileGguf, DuplicateNames) {
  EXPECT_GGUF_REJECTED(gguf_tensors(2, [](Bytes& b) { b.tensor("t", {8}, kF32, 0).tensor("t", {8}, kF32, 32); }, 64),
                       "duplicate tensor name 't'");
  Bytes kv = gguf_header(0, 2);
  kv.key("k", GgufType::u8).u8(1).key("k", GgufType::string).str("x");
  EXPECT_GGUF_REJECTED(kv.take(), "duplicate metadata key 'k'");
}

TEST(HostileGguf, BadUtf8KeysAndTensorNames) {
  for (const char* bad : {"\xC3\x28", "bad\xFF", "\xED\xA0\x80", "\xC0\xAF", "\xF4\x90\x80\x80", "abc\xE2\x82"}) {
    SCOPED_TRACE(::testing::PrintToString(std::string(bad)));
    EXPECT_GGUF_REJECTED(gguf_one_kv([&](Bytes& b) { b.key(bad, GgufType::u8).u8(1); }),
                         "metadata entry 0 has a key that is not valid UTF-8");
    EXPECT_GGUF_REJECTED(gguf_tensors(1, [&](Bytes& b) { b.tensor(bad, {8}, kF32, 0); }, 32),
                         "tensor 0 has a name that is not valid UTF-8");
  }
}

TEST(HostileGguf, EmptyKeyAndTensorName) {
  EXPECT_GGUF_REJECTED(gguf_one_kv([](Bytes& b) { b.key("", GgufType::u8).u8(1); }),
                       "metadata entry 0 has an empty key");
  EXPECT_GGUF_REJECTED(gguf_tensors(1, [](Bytes& b) { b.tensor("", {8}, kF32, 0); }, 32), "tensor 0 has an empty name");
}

// ---- a recognised tensor type the llama graph cannot compute with ----

// A one-layer llama: n_embd 8, 2 heads, n_ff 256, 4 tokens; every weight F32 except ffn_down.
GgufWriter tiny_llama(TensorType ffn_down_type) {
  constexpr int64_t n_embd = 8, n_ff = 256, n_vocab = 4;
  GgufWriter w;
  w.set("general.architecture", GgufValue{std::string("llama")});
  w.set("general.name", GgufValue{std::string("tiny hostile llama")});
  w.set("llama.embedding_length", GgufValue{uint32_t{n_embd}});
  w.set("llama.block_count", GgufValue{uint32_t{1}});
  w.set("llama.attention.head_count", GgufValue{uint32_t{2}});
  w.set("llama.feed_forward_length", GgufValue{uint32_t{n_ff}});
  w.set("llama.context_length", GgufValue{uint32_t{64}});
  w.set("tokenizer.ggml.model", GgufValue{std::string("llama")});
  w.set("tokenizer.ggml.tokens", gguf_array(std::vector<std::string>{"<unk>", "<s>", "</s>", "\xE2\x96\x81" "a"}));
  w.set("tokenizer.ggml.scores", gguf_array(std::vector<float>{0, 0, 0, -1}));
  w.set("tokenizer.ggml.token_type", gguf_array(std::vector<int32_t>{2, 3, 3, 1}));
  w.set("tokenizer.ggml.bos_token_id", GgufValue{uint32_t{1}});
  w.set("tokenizer.ggml.eos_token_id", GgufValue{uint32_t{2}});
  auto f32 = [&](const std::string& name, std::vector<int64_t> ne) {
    int64_t n = 1;
    for (int64_t d : ne) n *= d;
    w.add_tensor(name, TensorType::F32, ne, f32_bytes(std::vector<float>(static_cast<size_t>(n), 0.01f)));
  };
  f32("token_embd.weight", {n_embd, n_vocab});
  f32("output_norm.weight", {n_embd});
  f32("blk.0.attn_norm.weight", {n_embd});
  f32("blk.0.attn_q.weight", {n_embd, n_embd});
  f32("blk.0.attn_k.weight", {n_embd, n_embd});
  f32("blk.0.attn_v.weight", {n_embd, n_embd});
  f32("blk.0.attn_output.weight", {n_embd, n_embd});
  f32("blk.0.ffn_norm.weight", {n_embd});
  f32("blk.0.ffn_gate.weight", {n_embd, n_ff});
  f32("blk.0.ffn_up.weight", {n_embd, n_ff});
  if (ffn_down_type == TensorType::F32) {
    f32("blk.0.ffn_down.weight", {n_ff, n_embd});
  } else {
    const auto& info = tensor_type_info(ffn_down_type);
    w.add_tensor("blk.0.ffn_down.weight", ffn_down_type, {n_ff, n_embd},
                 std::vector<uint8_t>(static_cast<size_t>(n_ff * n_embd / info.block_size * info.type_size), 0));
  }
  return w;
}

TEST(HostileModel, TinyLlamaLoads) {
  ScratchDir dir;
  const auto path = dir.path() / "tiny.gguf";
  tiny_llama(TensorType::F32).write(path);
  const auto model = Model::load(path, LoadOptions{1});
  EXPECT_EQ(model->config().n_vocab, 4);
  EXPECT_EQ(model->config().n_layer, 1);
  Session session(model);
  const TokenId ids[] = {1, 3};
  EXPECT_EQ(session.eval(ids).size(), 4u);
}

TEST(HostileModel, UnsupportedTensorTypeFailsAtLoadWithAnExactMessage) {
  ScratchDir dir;
  const auto path = dir.path() / "iq2xxs.gguf";
  tiny_llama(TensorType::IQ2_XXS).write(path);
  ASSERT_NO_THROW(GgufFile::open(path));  // the file itself is well-formed
  const Caught c = hostile::catch_error([&] { Model::load(path, LoadOptions{1}); });
  ASSERT_EQ(c.kind, Caught::Kind::qtr_error) << c.message;
  EXPECT_EQ(c.code, Errc::unsupported);
  EXPECT_EQ(c.message, "unsupported tensor type IQ2_XXS in blk.0.ffn_down");
}

TEST(HostileModel, BrokenFilesFailAtLoadNamingThePath) {
  ScratchDir dir;
  auto bytes = tiny_llama(TensorType::F32).to_bytes();
  bytes.resize(bytes.size() - 100);
  const auto path = dir.write("cut.gguf", bytes);
  EXPECT_QTR_ERROR(Model::load(path), path.string() + ": ");
  EXPECT_QTR_ERROR(Model::load(path), "extends past the end of the file");
  EXPECT_QTR_ERROR_CODE(Model::load(dir.path() / "absent.gguf"), Errc::io, "cannot open");
  EXPECT_QTR_ERROR_CODE(Model::load(dir.path()), Errc::io, "is not a regular file");
}

// =============================================================================================================
// GGUF tokenizer metadata
// =============================================================================================================

GgufWriter vocab_writer() {
  GgufWriter w;
  w.set("tokenizer.ggml.model", GgufValue{std::string("llama")});
  w.set("tokenizer.ggml.tokens", gguf_array(std::vector<std::string>{"<unk>", "<s>", "</s>"}));
  w.set("tokenizer.ggml.scores", gguf_array(std::vector<float>{0, 0, 0}));
  w.set("tokenizer.ggml.token_type", gguf_array(std::vector<int32_t>{2, 3, 3}));
  w.set("tokenizer.ggml.bos_token_id", GgufValue{uint32_t{1}});
  w.set("tokenizer.ggml.eos_token_id", GgufValue{uint32_t{2}});
  return w;
}

Vocab vocab_of(const GgufWriter& w) { return Vocab::from_gguf(parse_gguf(w.to_bytes(), "vocab.gguf")); }

#define EXPECT_VOCAB_REJECTED(writer, substring)                                   \
  do {                                                                             \
    EXPECT_QTR_ERROR_CODE(vocab_of(writer), Errc::bad_format, substring);          \
    EXPECT_QTR_ERROR(vocab_of(writer), "vocab.gguf: ");                            \
  } while (0)

TEST(HostileVocab, ValidVocabularyParses) {
  const Vocab v = vocab_of(vocab_writer());
  EXPECT_EQ(v.size(), 3u);
  EXPECT_EQ(v.bos, 1);
  EXPECT_EQ(v.eos, 2);
  EXPECT_EQ(v.types[0], TokenType::unknown);
}

TEST(HostileVocab, TokensArrayOfTheWrongType) {
  GgufWriter ints = vocab_writer();
  ints.set("tokenizer.ggml.tokens", gguf_array(std::vector<int32_t>{1, 2, 3}));
  EXPECT_VOCAB_REJECTED(ints, "GGUF key 'tokenizer.ggml.tokens' is an array of i32, expected an array of string");
  GgufWriter scalar = vocab_writer();
  scalar.set("tokenizer.ggml.tokens", GgufValue{std::string("<unk>")});
  EXPECT_VOCAB_REJECTED(scalar, "GGUF key 'tokenizer.ggml.tokens' has type string, expected array");
  GgufWriter empty = vocab_writer();
  empty.set("tokenizer.ggml.tokens", gguf_array(std::vector<std::string>{}));
  EXPECT_VOCAB_REJECTED(empty, "tokenizer.ggml.tokens holds 0 tokens");
  GgufWriter missing;
  missing.set("tokenizer.ggml.model", GgufValue{std::string("llama")});
  EXPECT_VOCAB_REJECTED(missing, "missing GGUF key 'tokenizer.ggml.tokens'");
  GgufWriter no_model = vocab_writer();
  no_model.set("tokenizer.ggml.model", GgufValue{uint32_t{1}});
  EXPECT_VOCAB_REJECTED(no_model, "GGUF key 'tokenizer.ggml.model' has type u32, expected string");
}

TEST(HostileVocab, ScoresAndTypesLengthMismatch) {
  GgufWriter short_scores = vocab_writer();
  short_scores.set("tokenizer.ggml.scores", gguf_array(std::vector<float>{0, 0}));
  EXPECT_VOCAB_REJECTED(short_scores, "tokenizer.ggml.scores has 2 entries for 3 tokens");
  GgufWriter long_scores = vocab_writer();
  long_scores.set("tokenizer.ggml.scores", gguf_array(std::vector<float>{0, 0, 0, 0, 0}));
  EXPECT_VOCAB_REJECTED(long_scores, "tokenizer.ggml.scores has 5 entries for 3 tokens");
  GgufWriter int_scores = vocab_writer();
  int_scores.set("tokenizer.ggml.scores", gguf_array(std::vector<int32_t>{0, 0, 0}));
  EXPECT_VOCAB_REJECTED(int_scores, "'tokenizer.ggml.scores' is an array of i32, expected an array of f32");
  GgufWriter short_types = vocab_writer();
  short_types.set("tokenizer.ggml.token_type", gguf_array(std::vector<int32_t>{1}));
  EXPECT_VOCAB_REJECTED(short_types, "tokenizer.ggml.token_type has 1 entries for 3 tokens");
}

TEST(HostileVocab, BadTokenTypeValue) {
  GgufWriter seven = vocab_writer();
  seven.set("tokenizer.ggml.token_type", gguf_array(std::vector<int32_t>{2, 7, 3}));
  EXPECT_VOCAB_REJECTED(seven, "tokenizer.ggml.token_type[1] = 7 is not a token type");
  GgufWriter negative = vocab_writer();
  negative.set("tokenizer.ggml.token_type", gguf_array(std::vector<int32_t>{2, 3, -1}));
  EXPECT_VOCAB_REJECTED(negative, "tokenizer.ggml.token_type[2] = -1 is not a token type");
  GgufWriter floats = vocab_writer();
  floats.set("tokenizer.ggml.token_type", gguf_array(std::vector<float>{1, 1, 1}));
  EXPECT_VOCAB_REJECTED(floats, "'tokenizer.ggml.token_type' is an array of f32, expected an array of i32");
}

TEST(HostileVocab, SpecialTokenIdOutOfRange) {
  GgufWriter bos = vocab_writer();
  bos.set("tokenizer.ggml.bos_token_id", GgufValue{uint32_t{3}});
  EXPECT_VOCAB_REJECTED(bos, "GGUF key 'tokenizer.ggml.bos_token_id' = 3 is not a token id (vocabulary has 3 tokens)");
  GgufWriter eos = vocab_writer();
  eos.set("tokenizer.ggml.eos_token_id", GgufValue{uint64_t{1} << 40});
  EXPECT_VOCAB_REJECTED(eos, "'tokenizer.ggml.eos_token_id' = 1099511627776 is not a token id");
  GgufWriter negative = vocab_writer();
  negative.set("tokenizer.ggml.unknown_token_id", GgufValue{int32_t{-5}});
  EXPECT_VOCAB_REJECTED(negative, "GGUF key 'tokenizer.ggml.unknown_token_id' is negative (-5)");
  GgufWriter text = vocab_writer();
  text.set("tokenizer.ggml.padding_token_id", GgufValue{std::string("0")});
  EXPECT_VOCAB_REJECTED(text, "GGUF key 'tokenizer.ggml.padding_token_id' has type string, expected an integer");
  // "No BOS token" (u32 max) while the vocabulary asks for one.
  GgufWriter none = vocab_writer();
  none.set("tokenizer.ggml.bos_token_id", GgufValue{std::numeric_limits<uint32_t>::max()});
  none.set("tokenizer.ggml.add_bos_token", GgufValue{true});
  EXPECT_VOCAB_REJECTED(none, "the vocabulary asks for a BOS token but has none");
}

// =============================================================================================================
// safetensors
// =============================================================================================================

SafetensorsFile parse_st(std::vector<uint8_t> bytes, const std::string& name = "hostile.safetensors") {
  return SafetensorsFile::parse(Blob::from_bytes(std::move(bytes), name));
}

void expect_st_rejected(std::vector<uint8_t> bytes, const std::string& substring) {
  const Caught c = hostile::catch_error([&] { parse_st(std::move(bytes)); });
  ASSERT_EQ(c.kind, Caught::Kind::qtr_error) << hostile::kind_name(c.kind) << " (" << c.message << ")";
  EXPECT_EQ(c.code, Errc::bad_format) << c.message;
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, substring, c.message);
  EXPECT_EQ(c.message.rfind("hostile.safetensors", 0), 0u) << "the message does not name the file: " << c.message;
}
#define EXPECT_ST_REJECTED(...)           \
  do {                                    \
    SCOPED_TRACE("EXPECT_ST_REJECTED");   \
    expect_st_rejected(__VA_ARGS__);      \
  } while (0)

// A header with one tensor "t" and `data_bytes` zero bytes of data.
std::vector<uint8_t> st_one(const std::string& dtype, const std::string& shape, const std::string& offsets,
                            size_t data_bytes) {
  const std::string header = R"({"t":{"dtype":)" + dtype + R"(,"shape":)" + shape + R"(,"data_offsets":)" +
                             offsets + "}}";
  return hostile::safetensors_bytes(header, std::vector<uint8_t>(data_bytes, 0));
}

const std::string kValidHeader =
    R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
    R"("b":{"dtype":"BF16","shape":[4],"data_offsets":[16,24]}})";

TEST(HostileSafetensors, ValidFileParses) {
  const SafetensorsFile f = parse_st(hostile::safetensors_bytes(kValidHeader, std::vector<uint8_t>(24, 1)));
  ASSERT_EQ(f.tensors().size(), 2u);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(f.find("a")->data.size(), 16u);
  EXPECT_EQ(f.find("b")->view().type, TensorType::BF16);
  EXPECT_NO_THROW(parse_st(st_one(R"("F32")", "[]", "[0,4]", 4)));  // a scalar
  EXPECT_NO_THROW(parse_st(st_one(R"("F32")", "[0,5]", "[0,0]", 0)));  // an empty tensor
}

TEST(HostileSafetensors, EveryTruncationOfAValidFileIsRejected) {
  const auto full = hostile::safetensors_bytes(kValidHeader, std::vector<uint8_t>(24, 1));
  int failures = 0;
  for (size_t len = 0; len < full.size() && failures < 5; ++len) {
    const Caught c = hostile::catch_error([&] {
      parse_st(std::vector<uint8_t>(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len)));
    });
    const bool ok = c.kind == Caught::Kind::qtr_error && c.code == Errc::bad_format &&
                    (c.message.find("truncated file") != std::string::npos ||
                     c.message.find("larger than the rest of the file") != std::string::npos ||
                     c.message.find("past the end of the data buffer") != std::string::npos);
    if (!ok) {
      ++failures;
      ADD_FAILURE() << "prefix of " << len << " bytes: " << hostile::kind_name(c.kind) << " (" << c.message << ")";
    }
  }
}

TEST(HostileSafetensors, HeaderLengthLargerThanTheFile) {
  EXPECT_ST_REJECTED({1, 2, 3}, "truncated file: safetensors header length needs 8 bytes");
  Bytes b;
  b.u64(1000).raw("{}");
  EXPECT_ST_REJECTED(b.take(), "header length 1000 is larger than the rest of the file (2 bytes)");
  Bytes huge;
  huge.u64(kU64Max).raw("{}");
  EXPECT_ST_REJECTED(huge.take(), "header length 18446744073709551615 is larger than the rest of the file");
}

TEST(HostileSafetensors, HeaderLengthOver100MiB) {
  // A sparse file slightly over 100 MiB whose header claims 100 MiB + 1: rejected before anything is read or copied.
  ScratchDir dir;
  const auto path = dir.path() / "huge.safetensors";
  Bytes b;
  b.u64((uint64_t{100} << 20) + 1).raw("{");
  dir.write("huge.safetensors", b.bytes());
  std::filesystem::resize_file(path, (uintmax_t{100} << 20) + 4096);
  EXPECT_QTR_ERROR_CODE(SafetensorsFile::open(path), Errc::bad_format, "header length 104857601 exceeds 100 MiB");
  EXPECT_QTR_ERROR(SafetensorsFile::open(path), path.string());
}

TEST(HostileSafetensors, InvalidJson) {
  EXPECT_ST_REJECTED(hostile::safetensors_bytes(R"({"t": )", {}), "hostile.safetensors (header): invalid JSON");
  EXPECT_ST_REJECTED(hostile::safetensors_bytes("", {}), "invalid JSON");
  EXPECT_ST_REJECTED(hostile::safetensors_bytes(R"({"t":1} trailing)", {}), "invalid JSON");
  EXPECT_ST_REJECTED(hostile::safetensors_bytes("{\"\xC3\x28\":1}", {}), "invalid JSON");
  EXPECT_ST_REJECTED(hostile::safetensors_bytes(std::string(100000, '[') + std::string(100000, ']'), {}),
                     "invalid JSON");
}

TEST(HostileSafetensors, HeaderNotAnObject) {
  EXPECT_ST_REJECTED(hostile::safetensors_bytes("[]", {}), "header is not a JSON object");
  EXPECT_ST_REJECTED(hostile::safetensors_bytes("42", {}), "header is not a JSON object");
  EXPECT_ST_REJECTED(hostile::safetensors_bytes("null", {}), "header is not a JSON object");
  EXPECT_ST_REJECTED(hostile::safetensors_bytes(R"("{}")", {}), "header is not a JSON object");
  EXPECT_ST_REJECTED(hostile::safetensors_bytes(R"({"t":[1,2]})", {}), "tensor 't' is not described by a JSON object");
  EXPECT_ST_REJECTED(hostile::safetensors_bytes(R"({"t":{"dtype":"F32","shape":[1]}})", {}),
                     "tensor 't' lacks dtype, shape or data_offsets");
}

TEST(HostileSafetensors, DuplicateJsonKeys) {
  const std::string entry = R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
  EXPECT_ST_REJECTED(hostile::safetensors_bytes(R"({"t":)" + entry + R"(,"t":)" + entry + "}", std::vector<uint8_t>(4)),
                     "invalid JSON: duplicate key \"t\"");
  const std::string twice = R"({"t":{"dtype":"F32","dtype":"I8","shape":[1],"data_offsets":[0,4]}})";
  EXPECT_ST_REJECTED(hostile::safetensors_bytes(twice, std::vector<uint8_t>(4)),
                     "duplicate key \"dtype\"");
}

TEST(HostileSafetensors, DtypeAndShapeDisagreeWithTheByteCount) {
  EXPECT_ST_REJECTED(st_one(R"("F32")", "[2,2]", "[0,12]", 16),
                     "tensor 't' has 12 bytes but its dtype F32 and shape need 16");
  EXPECT_ST_REJECTED(st_one(R"("F16")", "[3]", "[0,8]", 8),
                     "tensor 't' has 8 bytes but its dtype F16 and shape need 6");
}

TEST(HostileSafetensors, UnknownDtype) {
  EXPECT_ST_REJECTED(st_one(R"("F128")", "[1]", "[0,16]", 16), "tensor 't' has unknown dtype 'F128'");
  EXPECT_ST_REJECTED(st_one(R"("f32")", "[1]", "[0,4]", 4), "tensor 't' has unknown dtype 'f32'");
  EXPECT_ST_REJECTED(st_one("4", "[1]", "[0,4]", 4), "tensor 't' dtype: expected a string, found an integer");
  // Known to safetensors, not computed with by qtr: parsing works, view() says so.
  const SafetensorsFile f = parse_st(st_one(R"("BOOL")", "[4]", "[0,4]", 4));
  EXPECT_QTR_ERROR_CODE(f.find("t")->view(), Errc::unsupported, "unsupported tensor dtype BOOL in t");
}

TEST(HostileSafetensors, DataOffsets) {
  EXPECT_ST_REJECTED(st_one(R"("F32")", "[4]", "[48,64]", 16),
                     "tensor 't' data ends at 64, past the end of the data buffer (16 bytes)");
  EXPECT_ST_REJECTED(st_one(R"("F32")", "[1]", "[8,4]", 16), "tensor 't' has invalid data_offsets");
  EXPECT_ST_REJECTED(st_one(R"("F32")", "[1]", "[-4,0]", 16), "tensor 't' has invalid data_offsets");
  EXPECT_ST_REJECTED(st_one(R"("F32")", "[1]", "[0,4,8]", 16), "tensor 't' data_offsets must hold two numbers");
  EXPECT_ST_REJECTED(st_one(R"("F32")", "[1]", "[0]", 16), "data_offsets must hold two numbers");
  EXPECT_ST_REJECTED(st_one(R"("F32")", "[1]", "[0,18446744073709551615]", 16), "data_offsets: integer out of range");
  EXPECT_ST_REJECTED(st_one(R"("F32")", "[1]", "[0,4.5]", 16), "data_offsets: expected an integer, found a number");
  EXPECT_ST_REJECTED(st_one(R"("F32")", "[1]", R"({"begin":0})", 16), "data_offsets: expected an array");
}

TEST(HostileSafetensors, NegativeOrBadDimensions) {
  EXPECT_ST_REJECTED(st_one(R"("F32")", "[2,-2]", "[0,16]", 16), "tensor 't' has a negative dimension");
  EXPECT_ST_REJECTED(st_one(R"("F32")", "[-1]", "[0,0]", 16), "tensor 't' has a negative dimension");
  EXPECT_ST_REJECTED(st_one(R"("F32")", "[1.5]", "[0,4]", 16), "shape: expected an integer, found a number");
  EXPECT_ST_REJECTED(st_one(R"("F32")", R"("4")", "[0,16]", 16), "shape: expected an array, found a string");
  EXPECT_ST_REJECTED(st_one(R"("F32")", "[1,1,1,1,1,1,1,1,1]", "[0,4]", 16), "tensor 't' has more than 8 dimensions");
}

TEST(HostileSafetensors, OverlappingTensors) {
  const std::string header = R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                             R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})";
  EXPECT_ST_REJECTED(hostile::safetensors_bytes(header, std::vector<uint8_t>(16)), "tensors 'a' and 'b' overlap");
  const std::string same = R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                           R"("b":{"dtype":"I32","shape":[4],"data_offsets":[0,16]}})";
  EXPECT_ST_REJECTED(hostile::safetensors_bytes(same, std::vector<uint8_t>(16)), "overlap");
}

TEST(HostileSafetensors, ShapeProductOverflow) {
  EXPECT_ST_REJECTED(st_one(R"("F32")", "[4294967296,4294967296]", "[0,16]", 16),
                     "tensor 't' has a shape whose element count overflows 64 bits");
  EXPECT_ST_REJECTED(st_one(R"("F32")", "[9223372036854775807,3]", "[0,16]", 16),
                     "tensor 't' has a shape whose element count overflows 64 bits");
  // The element count fits, the byte size does not.
  EXPECT_ST_REJECTED(st_one(R"("F32")", "[4611686018427387904,2]", "[0,16]", 16),
                     "the byte size of tensor 't' overflows 64 bits");
}

TEST(HostileSafetensors, MetadataWithNonStringValues) {
  EXPECT_ST_REJECTED(hostile::safetensors_bytes(R"({"__metadata__":{"format":1}})", {}),
                     "__metadata__.format: expected a string, found an integer");
  EXPECT_ST_REJECTED(hostile::safetensors_bytes(R"({"__metadata__":{"a":"x","nested":{"b":"c"}}})", {}),
                     "__metadata__.nested: expected a string, found an object");
  EXPECT_ST_REJECTED(hostile::safetensors_bytes(R"({"__metadata__":{"list":["a"]}})", {}),
                     "__metadata__.list: expected a string, found an array");
  EXPECT_ST_REJECTED(hostile::safetensors_bytes(R"({"__metadata__":{"none":null}})", {}),
                     "__metadata__.none: expected a string, found null");
  EXPECT_ST_REJECTED(hostile::safetensors_bytes(R"({"__metadata__":["format","pt"]})", {}),
                     "__metadata__: expected an object, found an array");
}

// ---- sharded checkpoints ----

std::vector<uint8_t> shard(const std::vector<std::string>& names) {
  std::string header = "{";
  std::vector<uint8_t> data;
  for (size_t i = 0; i < names.size(); ++i) {
    header += (i ? "," : "") + ("\"" + names[i] + "\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" +
                                std::to_string(8 * i) + "," + std::to_string(8 * i + 8) + "]}");
    data.resize(data.size() + 8, 0);
  }
  return hostile::safetensors_bytes(header + "}", data);
}

std::string index_json(const std::vector<std::pair<std::string, std::string>>& weight_map) {
  std::string json = R"({"metadata":{"total_size":0},"weight_map":{)";
  for (size_t i = 0; i < weight_map.size(); ++i) {
    json += (i ? "," : "") + ("\"" + weight_map[i].first + "\":\"" + weight_map[i].second + "\"");
  }
  return json + "}}";
}

TEST(HostileCheckpoint, ValidShardedCheckpointOpens) {
  ScratchDir dir;
  dir.write("model-00001-of-00002.safetensors", shard({"a", "b"}));
  dir.write("model-00002-of-00002.safetensors", shard({"c"}));
  dir.write("model.safetensors.index.json", index_json({{"a", "model-00001-of-00002.safetensors"},
                                                        {"b", "model-00001-of-00002.safetensors"},
                                                        {"c", "model-00002-of-00002.safetensors"}}));
  dir.write("config.json", R"({"model_type":"llama"})");
  const auto ckpt = SafetensorsCheckpoint::open(dir.path());
  EXPECT_EQ(ckpt.shards().size(), 2u);
  EXPECT_EQ(ckpt.tensor_names(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(ckpt.require("c").data.size(), 8u);
  EXPECT_EQ(ckpt.config().find("model_type")->as_string("model_type"), "llama");
  EXPECT_QTR_ERROR(ckpt.require("d"), "missing tensor 'd'");
}

TEST(HostileCheckpoint, IndexNamesAMissingShard) {
  ScratchDir dir;
  dir.write("model-00001-of-00002.safetensors", shard({"a"}));
  dir.write("model.safetensors.index.json", index_json({{"a", "model-00001-of-00002.safetensors"},
                                                        {"b", "model-00002-of-00002.safetensors"}}));
  EXPECT_QTR_ERROR_CODE(SafetensorsCheckpoint::open(dir.path()), Errc::io,
                        "cannot open '" + (dir.path() / "model-00002-of-00002.safetensors").string() + "'");
}

TEST(HostileCheckpoint, ShardNameIsNotAPlainFileName) {
  for (const char* name : {"sub/model.safetensors", "../model.safetensors", "/etc/passwd", "..", ""}) {
    SCOPED_TRACE(name);
    ScratchDir dir;
    dir.write("model.safetensors", shard({"a"}));
    dir.write("model.safetensors.index.json", index_json({{"a", name}}));
    EXPECT_QTR_ERROR_CODE(SafetensorsCheckpoint::open(dir.path()), Errc::bad_format,
                          "model.safetensors.index.json: shard name '" + std::string(name) +
                              "' must be a plain file name");
  }
}

TEST(HostileCheckpoint, TensorInTwoShards) {
  ScratchDir dir;
  dir.write("model-00001-of-00002.safetensors", shard({"a", "b"}));
  dir.write("model-00002-of-00002.safetensors", shard({"b", "c"}));
  dir.write("model.safetensors.index.json", index_json({{"a", "model-00001-of-00002.safetensors"},
                                                        {"b", "model-00001-of-00002.safetensors"},
                                                        {"c", "model-00002-of-00002.safetensors"}}));
  EXPECT_QTR_ERROR_CODE(SafetensorsCheckpoint::open(dir.path()), Errc::bad_format,
                        "tensor 'b' also appears in another shard");
}

TEST(HostileCheckpoint, BrokenIndexOrShard) {
  {
    ScratchDir dir;
    dir.write("model.safetensors.index.json", R"({"metadata":{}})");
    EXPECT_QTR_ERROR(SafetensorsCheckpoint::open(dir.path()), "missing \"weight_map\"");
  }
  {
    ScratchDir dir;
    dir.write("model.safetensors.index.json", R"({"weight_map":{"a":)");
    EXPECT_QTR_ERROR(SafetensorsCheckpoint::open(dir.path()), "model.safetensors.index.json: invalid JSON");
  }
  {
    ScratchDir dir;
    dir.write("model.safetensors.index.json", R"({"weight_map":{"a":3}})");
    EXPECT_QTR_ERROR(SafetensorsCheckpoint::open(dir.path()), "weight_map.a: expected a string, found an integer");
  }
  {
    ScratchDir dir;
    dir.write("model.safetensors.index.json", R"({"weight_map":["model.safetensors"]})");
    EXPECT_QTR_ERROR(SafetensorsCheckpoint::open(dir.path()), "weight_map: expected an object, found an array");
  }
  {
    ScratchDir dir;
    auto broken = shard({"a"});
    broken.resize(broken.size() - 1);
    dir.write("model.safetensors", broken);
    EXPECT_QTR_ERROR(SafetensorsCheckpoint::open(dir.path()),
                     (dir.path() / "model.safetensors").string() + ": tensor 'a' data ends at 8, past the end");
  }
  {
    ScratchDir dir;
    EXPECT_QTR_ERROR_CODE(SafetensorsCheckpoint::open(dir.path()), Errc::io,
                          "no model.safetensors or model.safetensors.index.json");
  }
}

// =============================================================================================================
// SentencePiece .model
// =============================================================================================================

Proto piece(const std::string& text, float score, uint64_t type) {
  Proto p;
  p.bytes(1, text).fixed32(2, score).field_varint(3, type);
  return p;
}

Proto valid_model_proto() {
  Proto m;
  m.message(1, piece("<unk>", 0, 2)).message(1, piece("<s>", 0, 3)).message(1, piece("</s>", 0, 3));
  m.message(1, piece("\xE2\x96\x81" "a", -1, 1)).message(1, piece("<0x0A>", 0, 6));
  Proto trainer;
  trainer.field_varint(3, 2).field_varint(40, 0).field_varint(41, 1).field_varint(42, 2);  // BPE, unk, bos, eos
  trainer.field_varint(43, 0xFFFFFFFFull);                                                 // pad_id -1 (int32)
  m.message(2, trainer);
  Proto normalizer;
  normalizer.bytes(1, "identity").field_varint(3, 0);
  m.message(3, normalizer);
  return m;
}

Vocab load_spm(const ScratchDir& dir, const std::vector<uint8_t>& bytes) {
  return Vocab::from_sentencepiece_model(dir.write("tokenizer.model", bytes));
}

#define EXPECT_SPM_REJECTED(bytes, substring)                                                             \
  do {                                                                                                    \
    ScratchDir dir_;                                                                                      \
    EXPECT_QTR_ERROR_CODE(load_spm(dir_, bytes), Errc::bad_format,                                        \
                          (dir_.path() / "tokenizer.model").string() + ": not a SentencePiece model (");  \
    EXPECT_QTR_ERROR(load_spm(dir_, bytes), substring);                                                   \
  } while (0)

TEST(HostileSentencePiece, ValidModelImports) {
  ScratchDir dir;
  const Vocab v = load_spm(dir, valid_model_proto().data());
  ASSERT_EQ(v.size(), 5u);
  EXPECT_EQ(v.tokens[3], "\xE2\x96\x81" "a");
  EXPECT_EQ(v.scores[3], -1.0f);
  EXPECT_EQ(v.types[4], TokenType::byte);
  EXPECT_EQ(v.bos, 1);
  EXPECT_EQ(v.pad, kNoToken);
  EXPECT_FALSE(v.add_space_prefix);
  // Unknown fields of every skippable wire type are ignored.
  Proto extra = valid_model_proto();
  extra.field_varint(50, 7).key(51, 1).raw({1, 2, 3, 4, 5, 6, 7, 8}).fixed32(52, 1.0f).bytes(53, "ignored");
  EXPECT_EQ(load_spm(dir, extra.data()).size(), 5u);
}

TEST(HostileSentencePiece, EmptyModel) {
  EXPECT_SPM_REJECTED(std::vector<uint8_t>{}, "not a SentencePiece model (no pieces)");
  Proto no_pieces;
  no_pieces.message(2, Proto().field_varint(3, 2));
  EXPECT_SPM_REJECTED(no_pieces.data(), "(no pieces)");
}

TEST(HostileSentencePiece, TruncatedVarint) {
  EXPECT_SPM_REJECTED(std::vector<uint8_t>{0x80}, "(truncated varint)");
  EXPECT_SPM_REJECTED(std::vector<uint8_t>({0x08, 0xFF, 0xFF}), "(truncated varint)");
  // Inside a piece: the varint runs to the end of the piece's bytes, not of the file.
  Proto m;
  m.message(1, Proto().bytes(1, "a").raw({0x18, 0x80})).message(1, piece("b", 0, 1));
  EXPECT_SPM_REJECTED(m.data(), "(truncated varint)");
  EXPECT_SPM_REJECTED(std::vector<uint8_t>(11, 0xFF), "(varint longer than 10 bytes)");
}

TEST(HostileSentencePiece, LengthDelimitedFieldPastTheEnd) {
  EXPECT_SPM_REJECTED(std::vector<uint8_t>({0x0A, 0x05, 'a', 'b'}), "(length-delimited field past the end)");
  Proto huge;
  huge.key(1, 2).varint(kU64Max).raw({1, 2, 3});
  EXPECT_SPM_REJECTED(huge.data(), "(length-delimited field past the end)");
  // A piece string longer than its piece.
  Proto inner;
  inner.key(1, 2).varint(10).raw({'a', 'b'});
  Proto m;
  m.message(1, inner);
  EXPECT_SPM_REJECTED(m.data(), "(length-delimited field past the end)");
}

TEST(HostileSentencePiece, UnknownWireType) {
  for (uint32_t wire : {3u, 4u, 6u, 7u}) {
    SCOPED_TRACE(wire);
    Proto top = valid_model_proto();
    top.key(9, wire).raw({0, 0, 0, 0, 0, 0, 0, 0});
    EXPECT_SPM_REJECTED(top.data(), "(unsupported wire type " + std::to_string(wire) + ")");
    Proto in_piece;
    in_piece.message(1, Proto().bytes(1, "a").key(9, wire));
    EXPECT_SPM_REJECTED(in_piece.data(), "(unsupported wire type " + std::to_string(wire) + ")");
  }
  // A GGUF file is not a SentencePiece model: 'G' is field 8 with wire type 7.
  EXPECT_SPM_REJECTED(reference_writer().to_bytes(), "(unsupported wire type 7)");
}

TEST(HostileSentencePiece, TruncatedFixedWidthFieldsAndBadPieceTypes) {
  Proto fixed32;
  fixed32.message(1, Proto().bytes(1, "a").key(2, 5).raw({0, 0}));
  EXPECT_SPM_REJECTED(fixed32.data(), "(truncated fixed32)");
  Proto fixed64 = valid_model_proto();
  fixed64.key(9, 1).raw({1, 2, 3});
  EXPECT_SPM_REJECTED(fixed64.data(), "(truncated field)");
  for (uint64_t type : {0ull, 7ull, 1ull << 40}) {
    SCOPED_TRACE(type);
    Proto m;
    m.message(1, piece("a", 0, type));
    EXPECT_SPM_REJECTED(m.data(), "(piece type " + std::to_string(type) + ")");
  }
}

TEST(HostileSentencePiece, UnigramModelIsUnsupported) {
  ScratchDir dir;
  Proto m;
  m.message(1, piece("a", 0, 1)).message(2, Proto().field_varint(3, 1));
  EXPECT_QTR_ERROR_CODE(load_spm(dir, m.data()), Errc::unsupported,
                        "SentencePiece model type 1 (only BPE models, type 2, are supported)");
}

// =============================================================================================================
// Single-byte corruptions of valid files: each either still parses (and its contents can be used) or is rejected
// with a qtr::Error — no other exception, no sanitizer report.
// =============================================================================================================

// Counts outcomes; reports the first few corruptions that ended in something other than success or qtr::Error.
struct CorruptionTally {
  size_t accepted = 0, rejected = 0;
  int failures = 0;
  void record(const Caught& c, size_t position) {
    if (c.kind == Caught::Kind::nothing) ++accepted;
    else if (c.kind == Caught::Kind::qtr_error) ++rejected;
    else if (++failures <= 5) {
      ADD_FAILURE() << "byte " << position << ": " << hostile::kind_name(c.kind) << " (" << c.message << ")";
    }
  }
};

TEST(HostileGguf, SingleByteCorruptionsNeverCrash) {
  CorruptionTally tally;
  hostile::for_each_corruption(reference_writer().to_bytes(), [&](std::vector<uint8_t> bytes, size_t i) {
    tally.record(hostile::catch_error([&] {
                   const GgufFile f = parse_gguf(std::move(bytes));
                   for (const auto& [key, value] : f.metadata()) (void)value.to_string();
                   for (const auto& info : f.tensor_infos()) {
                     const TensorView v = f.tensor(info);
                     uint64_t sum = 0;
                     for (uint8_t b : v.data) sum += b;  // touch every byte of every view
                     (void)sum;
                     (void)v.n_elements();
                   }
                 }),
                 i);
  });
  EXPECT_GT(tally.rejected, 0u);
  EXPECT_GT(tally.accepted, 0u);  // e.g. changed tensor data or metadata values
}

TEST(HostileVocab, SingleByteCorruptionsNeverCrash) {
  CorruptionTally tally;
  hostile::for_each_corruption(vocab_writer().to_bytes(), [&](std::vector<uint8_t> bytes, size_t i) {
    tally.record(hostile::catch_error([&] {
                   const auto tokenizer = Tokenizer::create(Vocab::from_gguf(parse_gguf(std::move(bytes))));
                   const auto ids = tokenizer->encode("<s>ab c", EncodeOptions{true, true});
                   (void)tokenizer->decode(ids);
                 }),
                 i);
  });
  EXPECT_GT(tally.rejected, 0u);
  EXPECT_GT(tally.accepted, 0u);
}

TEST(HostileSafetensors, SingleByteCorruptionsNeverCrash) {
  CorruptionTally tally;
  hostile::for_each_corruption(hostile::safetensors_bytes(kValidHeader, std::vector<uint8_t>(24, 1)),
                               [&](std::vector<uint8_t> bytes, size_t i) {
                                 tally.record(hostile::catch_error([&] {
                                                const SafetensorsFile f = parse_st(std::move(bytes));
                                                for (const auto& t : f.tensors()) {
                                                  if (safetensors_dtype_size(t.dtype)) (void)t.view();
                                                }
                                              }),
                                              i);
                               });
  EXPECT_GT(tally.rejected, 0u);
  EXPECT_GT(tally.accepted, 0u);
}

TEST(HostileSentencePiece, SingleByteCorruptionsNeverCrash) {
  ScratchDir dir;
  CorruptionTally tally;
  hostile::for_each_corruption(valid_model_proto().data(), [&](std::vector<uint8_t> bytes, size_t i) {
    tally.record(hostile::catch_error([&] {
                   Vocab v = load_spm(dir, bytes);
                   if (v.model == "llama") (void)Tokenizer::create(std::move(v))->encode("ab c");
                 }),
                 i);
  });
  EXPECT_GT(tally.rejected, 0u);
  EXPECT_GT(tally.accepted, 0u);
}

TEST(HostileModel, MetadataAndTensorInfoCorruptionsNeverCrash) {
  // Only the bytes before the data section: corrupting weights changes numbers, not structure.
  const auto full = tiny_llama(TensorType::F32).to_bytes();
  const uint64_t header_end = parse_gguf(full).data_offset();
  ScratchDir dir;
  const auto path = dir.path() / "corrupt.gguf";
  CorruptionTally tally;
  hostile::for_each_corruption(std::vector<uint8_t>(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(header_end)),
                               [&](std::vector<uint8_t> bytes, size_t i) {
                                 bytes.insert(bytes.end(), full.begin() + static_cast<std::ptrdiff_t>(header_end),
                                              full.end());
                                 dir.write("corrupt.gguf", bytes);
                                 tally.record(hostile::catch_error([&] { Model::load(path, LoadOptions{1}); }), i);
                               });
  EXPECT_GT(tally.rejected, 0u);
  EXPECT_GT(tally.accepted, 0u);
}

}  // namespace
}  // namespace qtr
