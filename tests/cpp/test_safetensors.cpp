// safetensors reading: single files, sharded checkpoints, config.json, dtype views.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "qtr/error.hpp"
#include "qtr/safetensors.hpp"
#include "test_support.hpp"

namespace qtr {
namespace {

struct Entry {
  std::string name, dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

std::vector<uint8_t> make_safetensors(const std::vector<Entry>& entries, const std::string& metadata_json = "") {
  std::string header = "{";
  if (!metadata_json.empty()) header += "\"__metadata__\":" + metadata_json + ",";
  size_t offset = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    std::string shape;
    for (size_t k = 0; k < e.shape.size(); ++k) shape += (k ? "," : "") + std::to_string(e.shape[k]);
    header += (i ? "," : "") + std::string("\"") + e.name + "\":{\"dtype\":\"" + e.dtype + "\",\"shape\":[" + shape +
              "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + e.bytes.size()) + "]}";
    offset += e.bytes.size();
  }
  header += "}";
  size_t total = 8 + header.size();
  for (const auto& e : entries) total += e.bytes.size();
  std::vector<uint8_t> out(total);
  const uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, header.data(), header.size());
  size_t at = 8 + header.size();
  for (const auto& e : entries) {
    if (!e.bytes.empty()) std::memcpy(out.data() + at, e.bytes.data(), e.bytes.size());
    at += e.bytes.size();
  }
  return out;
}

std::vector<uint8_t> f32(const std::vector<float>& v) {
  std::vector<uint8_t> out(v.size() * 4);
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

void write_file(const std::filesystem::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

TEST(Safetensors, ParsesTensorsMetadataAndDtypes) {
  const auto bytes = make_safetensors({{"w", "F32", {2, 3}, f32({1, 2, 3, 4, 5, 6})},
                                       {"h", "F16", {2}, {0x00, 0x3C, 0x00, 0xC0}},  // 1.0, -2.0
                                       {"b", "BF16", {1}, {0x80, 0x3F}},              // 1.0
                                       {"flag", "BOOL", {1}, {1}}},
                                      "{\"format\":\"pt\"}");
  const auto file = SafetensorsFile::parse(Blob::from_bytes(bytes, "m.safetensors"));
  EXPECT_EQ(file.metadata().at("format"), "pt");
  ASSERT_EQ(file.tensors().size(), 4u);
  const auto* w = file.find("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->shape, (std::vector<int64_t>{2, 3}));
  const TensorView v = w->view();
  EXPECT_EQ(v.ne, (std::vector<int64_t>{3, 2}));  // GGML order
  EXPECT_EQ(v.type, TensorType::F32);
  float x[6];
  std::memcpy(x, v.data.data(), sizeof x);
  EXPECT_EQ(x[5], 6.0f);
  EXPECT_EQ(file.find("h")->view().type, TensorType::F16);
  EXPECT_EQ(file.find("b")->view().type, TensorType::BF16);
  try {
    file.find("flag")->view();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::unsupported);
    EXPECT_NE(std::string(e.what()).find("BOOL"), std::string::npos);
  }
}

TEST(Safetensors, OpensShardedCheckpointWithConfig) {
  test::TempDir dir;
  write_file(dir / "model-00001-of-00002.safetensors", make_safetensors({{"a", "F32", {2}, f32({1, 2})}}));
  write_file(dir / "model-00002-of-00002.safetensors", make_safetensors({{"b", "F32", {1}, f32({3})}}));
  std::ofstream(dir / "model.safetensors.index.json")
      << R"({"metadata":{"total_size":12},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}})";
  std::ofstream(dir / "config.json") << R"({"model_type":"llama","hidden_size":64,"rms_norm_eps":1e-5})";
  const auto ckpt = SafetensorsCheckpoint::open(dir.path());
  EXPECT_EQ(ckpt.shards().size(), 2u);
  EXPECT_EQ(ckpt.require("b").shape, (std::vector<int64_t>{1}));
  EXPECT_EQ(ckpt.tensor_names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ckpt.config().find("model_type")->as_string("model_type"), "llama");
  EXPECT_EQ(ckpt.config().find("hidden_size")->as_int("hidden_size"), 64);
  EXPECT_DOUBLE_EQ(ckpt.config().find("rms_norm_eps")->as_double("eps"), 1e-5);
  EXPECT_THROW(ckpt.require("c"), Error);
}

TEST(Safetensors, OpensSingleFileCheckpoint) {
  test::TempDir dir;
  write_file(dir / "model.safetensors", make_safetensors({{"x", "F32", {}, f32({5})}}));
  const auto by_dir = SafetensorsCheckpoint::open(dir.path());
  EXPECT_EQ(by_dir.require("x").view().ne, (std::vector<int64_t>{1}));
  const auto by_file = SafetensorsCheckpoint::open(dir / "model.safetensors");
  EXPECT_NE(by_file.find("x"), nullptr);
  EXPECT_THROW(SafetensorsCheckpoint::open(dir / "nope"), Error);
}

TEST(Json, ParsesAndReportsKindsClearly) {
  const Json j = parse_json(R"({"a":[1,2.5,"s",true,null],"b":{"c":18446744073709551615}})", "t.json");
  const auto& a = j.find("a")->as_array("a");
  EXPECT_EQ(a[0].as_int("a[0]"), 1);
  EXPECT_DOUBLE_EQ(a[1].as_double("a[1]"), 2.5);
  EXPECT_EQ(a[2].as_string("a[2]"), "s");
  EXPECT_TRUE(a[3].as_bool("a[3]"));
  EXPECT_TRUE(a[4].is_null());
  EXPECT_THROW(j.find("b")->find("c")->as_int("b.c"), Error);
  try {
    a[2].as_int("config.json: hidden_size");
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "config.json: hidden_size: expected an integer, found a string");
  }
  EXPECT_THROW(parse_json("{\"a\":1,\"a\":2}", "dup.json"), Error);
  EXPECT_THROW(parse_json("{", "bad.json"), Error);
}

}  // namespace
}  // namespace qtr
