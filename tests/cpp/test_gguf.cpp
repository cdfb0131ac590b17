// GGUF writer -> reader round trips for every metadata type, tensors and alignment; typed accessors.
#include <gtest/gtest.h>

#include <cstring>

#include "qtr/error.hpp"
#include "qtr/gguf.hpp"
#include "qtr/gguf_writer.hpp"
#include "test_support.hpp"

namespace qtr {
namespace {

GgufFile parse(const GgufWriter& w) { return GgufFile::parse(Blob::from_bytes(w.to_bytes(), "test.gguf")); }

std::vector<uint8_t> float_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> out(v.size() * sizeof(float));
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

TEST(Gguf, RoundTripsEveryScalarType) {
  GgufWriter w;
  w.set("u8", GgufValue{uint8_t{200}});
  w.set("i8", GgufValue{int8_t{-100}});
  w.set("u16", GgufValue{uint16_t{60000}});
  w.set("i16", GgufValue{int16_t{-30000}});
  w.set("u32", GgufValue{uint32_t{4000000000u}});
  w.set("i32", GgufValue{int32_t{-2000000000}});
  w.set("f32", GgufValue{1.5f});
  w.set("bool", GgufValue{true});
  w.set("string", GgufValue{std::string("héllo ✓")});
  w.set("u64", GgufValue{uint64_t{1} << 60});
  w.set("i64", GgufValue{-(int64_t{1} << 60)});
  w.set("f64", GgufValue{-2.25});
  const GgufFile f = parse(w);
  EXPECT_EQ(f.version(), 3u);
  ASSERT_EQ(f.metadata().size(), 12u);
  EXPECT_EQ(std::get<uint8_t>(f.find("u8")->value), 200);
  EXPECT_EQ(std::get<int8_t>(f.find("i8")->value), -100);
  EXPECT_EQ(std::get<uint16_t>(f.find("u16")->value), 60000);
  EXPECT_EQ(std::get<int16_t>(f.find("i16")->value), -30000);
  EXPECT_EQ(std::get<uint32_t>(f.find("u32")->value), 4000000000u);
  EXPECT_EQ(std::get<int32_t>(f.find("i32")->value), -2000000000);
  EXPECT_EQ(std::get<float>(f.find("f32")->value), 1.5f);
  EXPECT_EQ(std::get<bool>(f.find("bool")->value), true);
  EXPECT_EQ(std::get<std::string>(f.find("string")->value), "héllo ✓");
  EXPECT_EQ(std::get<uint64_t>(f.find("u64")->value), uint64_t{1} << 60);
  EXPECT_EQ(std::get<int64_t>(f.find("i64")->value), -(int64_t{1} << 60));
  EXPECT_EQ(std::get<double>(f.find("f64")->value), -2.25);
  // Metadata keeps file order.
  EXPECT_EQ(f.metadata().front().first, "u8");
  EXPECT_EQ(f.metadata().back().first, "f64");
}

TEST(Gguf, RoundTripsArraysIncludingNestedAndEmpty) {
  GgufWriter w;
  w.set("strings", gguf_array(std::vector<std::string>{"a", "", "ccc"}));
  w.set("floats", gguf_array(std::vector<float>{1.0f, -2.0f}));
  w.set("ints", gguf_array(std::vector<int32_t>{7, -8, 9}));
  w.set("empty", gguf_array(std::vector<int32_t>{}));
  GgufArray inner1{GgufType::u8, {GgufValue{uint8_t{1}}, GgufValue{uint8_t{2}}}};
  GgufArray inner2{GgufType::u8, {}};
  w.set("nested", GgufValue{GgufArray{GgufType::array, {GgufValue{inner1}, GgufValue{inner2}}}});
  GgufArray bools{GgufType::boolean, {GgufValue{true}, GgufValue{false}}};
  w.set("bools", GgufValue{bools});
  const GgufFile f = parse(w);
  const GgufArray& s = f.require_array("strings", GgufType::string);
  ASSERT_EQ(s.items.size(), 3u);
  EXPECT_EQ(std::get<std::string>(s.items[2].value), "ccc");
  EXPECT_EQ(std::get<std::string>(s.items[1].value), "");
  EXPECT_EQ(std::get<float>(f.require_array("floats", GgufType::f32).items[1].value), -2.0f);
  EXPECT_EQ(std::get<int32_t>(f.require_array("ints", GgufType::i32).items[1].value), -8);
  EXPECT_TRUE(f.require_array("empty", GgufType::i32).items.empty());
  const GgufArray& nested = f.require_array("nested", GgufType::array);
  ASSERT_EQ(nested.items.size(), 2u);
  const auto& first = std::get<GgufArray>(nested.items[0].value);
  EXPECT_EQ(first.element_type, GgufType::u8);
  EXPECT_EQ(std::get<uint8_t>(first.items[1].value), 2);
  EXPECT_TRUE(std::get<GgufArray>(nested.items[1].value).items.empty());
  EXPECT_EQ(std::get<bool>(f.require_array("bools", GgufType::boolean).items[1].value), false);
}

TEST(Gguf, RoundTripsTensorsWithDefaultAndCustomAlignment) {
  for (uint32_t alignment : {0u, 64u, 1u}) {
    GgufWriter w;
    if (alignment) w.set("general.alignment", GgufValue{alignment});
    const std::vector<float> a = {1, 2, 3, 4, 5, 6};
    const std::vector<float> b = {9, 8, 7};
    w.add_tensor("a", TensorType::F32, {3, 2}, float_bytes(a));
    w.add_tensor("b.weight", TensorType::F32, {3}, float_bytes(b));
    std::vector<uint8_t> q(18 * 2, 0x11);  // two Q4_0 blocks
    w.add_tensor("q", TensorType::Q4_0, {32, 2}, q);
    const GgufFile f = parse(w);
    const uint32_t expected_alignment = alignment ? alignment : 32;
    EXPECT_EQ(f.alignment(), expected_alignment);
    EXPECT_EQ(f.data_offset() % expected_alignment, 0u);
    ASSERT_EQ(f.tensor_infos().size(), 3u);
    const TensorView va = f.require_tensor("a");
    EXPECT_EQ(va.ne, (std::vector<int64_t>{3, 2}));
    EXPECT_EQ(va.type, TensorType::F32);
    ASSERT_EQ(va.data.size(), a.size() * 4);
    EXPECT_EQ(std::memcmp(va.data.data(), a.data(), va.data.size()), 0);
    const TensorView vb = f.require_tensor("b.weight");
    EXPECT_EQ(std::memcmp(vb.data.data(), b.data(), vb.data.size()), 0);
    const TensorView vq = f.require_tensor("q");
    EXPECT_EQ(vq.type, TensorType::Q4_0);
    EXPECT_EQ(vq.data.size(), 36u);
    for (const auto& t : f.tensor_infos()) EXPECT_EQ(t.offset % expected_alignment, 0u) << t.name;
    EXPECT_FALSE(f.optional_tensor("missing").has_value());
  }
}

TEST(Gguf, WritesAndReadsAFileOnDisk) {
  test::TempDir dir;
  GgufWriter w;
  w.set("general.name", GgufValue{std::string("disk")});
  w.add_tensor("t", TensorType::F32, {4}, float_bytes({1, 2, 3, 4}));
  w.write(dir / "m.gguf");
  const GgufFile f = GgufFile::open(dir / "m.gguf");
  EXPECT_EQ(f.require_string("general.name"), "disk");
  EXPECT_EQ(f.require_tensor("t").n_elements(), 4);
  EXPECT_FALSE(std::filesystem::exists(dir / "m.gguf.tmp"));
}

TEST(Gguf, ReadsVersion2Files) {
  GgufWriter w;
  w.set("k", GgufValue{uint32_t{5}});
  auto bytes = w.to_bytes();
  bytes[4] = 2;  // v2 has the same layout as v3
  const GgufFile f = GgufFile::parse(Blob::from_bytes(bytes, "v2.gguf"));
  EXPECT_EQ(f.version(), 2u);
  EXPECT_EQ(f.require_uint("k"), 5u);
}

TEST(Gguf, RejectsVersion1WithAClearMessage) {
  GgufWriter w;
  auto bytes = w.to_bytes();
  bytes[4] = 1;
  try {
    GgufFile::parse(Blob::from_bytes(bytes, "old.gguf"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::unsupported);
    EXPECT_NE(std::string(e.what()).find("unsupported GGUF version 1"), std::string::npos) << e.what();
  }
}

TEST(Gguf, TypedAccessorsConvertWhereTheValueFits) {
  GgufWriter w;
  w.set("small", GgufValue{uint8_t{7}});
  w.set("neg", GgufValue{int32_t{-3}});
  w.set("float", GgufValue{0.25f});
  w.set("str", GgufValue{std::string("x")});
  const GgufFile f = parse(w);
  EXPECT_EQ(f.require_uint("small"), 7u);
  EXPECT_EQ(*f.get_int("neg"), -3);
  EXPECT_DOUBLE_EQ(f.require_float("float"), 0.25);
  EXPECT_DOUBLE_EQ(f.require_float("small"), 7.0);
  EXPECT_FALSE(f.get_uint("absent").has_value());
  EXPECT_THROW(f.get_uint("neg"), Error);    // negative into unsigned
  EXPECT_THROW(f.get_uint("str"), Error);    // wrong type
  EXPECT_THROW(f.require_uint("absent"), Error);
  try {
    f.require_string("absent");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing GGUF key 'absent'"), std::string::npos);
  }
  try {
    f.get_bool("str");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("has type string, expected bool"), std::string::npos);
  }
}

TEST(Gguf, WriterRejectsInconsistentTensors) {
  GgufWriter w;
  EXPECT_THROW(w.add_tensor("t", TensorType::F32, {4}, std::vector<uint8_t>(15)), Error);
  EXPECT_THROW(w.add_tensor("q", TensorType::Q8_0, {16}, std::vector<uint8_t>(17)), Error);  // not a block multiple
  w.add_tensor("ok", TensorType::F32, {1}, std::vector<uint8_t>(4));
  EXPECT_THROW(w.add_tensor("ok", TensorType::F32, {1}, std::vector<uint8_t>(4)), Error);
  EXPECT_THROW(w.set("general.alignment", GgufValue{uint32_t{3}}), Error);
}

TEST(Gguf, EveryGgmlTypeIsRecognisedByName) {
  for (uint32_t id = 0; id < 40; ++id) {
    const auto info = tensor_type_info(id);
    const bool removed = id == 4 || id == 5 || (id >= 31 && id <= 33) || (id >= 36 && id <= 38);
    EXPECT_EQ(info.has_value(), !removed) << id;
    if (info) {
      EXPECT_EQ(parse_tensor_type(info->name), info->type);
    }
  }
  EXPECT_EQ(tensor_type_info(TensorType::Q4_K).type_size, 144u);
  EXPECT_EQ(tensor_type_info(TensorType::Q6_K).type_size, 210u);
  EXPECT_EQ(tensor_type_name(TensorType::Q5_K), "Q5_K");
}

TEST(Gguf, ReadsTheSharedStoriesModel) {
  QTR_REQUIRE_SHARED(shared);
  const GgufFile f = GgufFile::open(shared / "models/stories260K.gguf");
  EXPECT_EQ(f.require_string("general.architecture"), "llama");
  EXPECT_EQ(f.tensor_infos().size(), 48u);
  EXPECT_EQ(f.require_tensor("token_embd.weight").ne, (std::vector<int64_t>{64, 512}));
}

}  // namespace
}  // namespace qtr
