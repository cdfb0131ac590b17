#include "qtr/safetensors.hpp"

#include <algorithm>
#include <array>
#include <set>

#include "checked.hpp"
#include "qtr/error.hpp"
#include "qtr/utf8.hpp"

namespace qtr {

namespace {

struct DtypeInfo {
  std::string_view name;
  size_t size;
  std::optional<TensorType> type;  // what qtr computes with
};

constexpr std::array<DtypeInfo, 15> kDtypes = {{
    {"BOOL", 1, std::nullopt},       {"U8", 1, std::nullopt},        {"I8", 1, TensorType::I8},
    {"F8_E5M2", 1, std::nullopt},    {"F8_E4M3", 1, std::nullopt},   {"I16", 2, TensorType::I16},
    {"U16", 2, std::nullopt},        {"F16", 2, TensorType::F16},    {"BF16", 2, TensorType::BF16},
    {"I32", 4, TensorType::I32},     {"U32", 4, std::nullopt},       {"F32", 4, TensorType::F32},
    {"F64", 8, TensorType::F64},     {"I64", 8, TensorType::I64},    {"U64", 8, std::nullopt},
}};

const DtypeInfo* find_dtype(std::string_view name) {
  for (const auto& d : kDtypes) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

}  // namespace

std::optional<size_t> safetensors_dtype_size(std::string_view dtype) {
  if (const auto* d = find_dtype(dtype)) return d->size;
  return std::nullopt;
}

TensorView SafetensorsTensor::view() const {
  const DtypeInfo* d = find_dtype(dtype);
  if (!d || !d->type) {
    throw Error(Errc::unsupported, "unsupported tensor dtype " + dtype + " in " + name);
  }
  TensorView v;
  v.name = name;
  v.type = *d->type;
  v.ne.assign(shape.rbegin(), shape.rend());
  if (v.ne.empty()) v.ne.push_back(1);
  v.data = data;
  return v;
}

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) { return parse(Blob::map_file(path)); }

SafetensorsFile SafetensorsFile::parse(std::shared_ptr<const Blob> blob) {
  SafetensorsFile file;
  file.blob_ = std::move(blob);
  const std::string& src = file.blob_->name();
  auto fail = [&](const std::string& what) -> void { io::fail_format(src + ": " + what); };

  io::ByteReader r(file.blob_->bytes(), src);
  const auto header_len = r.read<uint64_t>("safetensors header length");
  if (header_len > r.remaining()) {
    fail("header length " + std::to_string(header_len) + " is larger than the rest of the file (" +
         std::to_string(r.remaining()) + " bytes)");
  }
  if (header_len > kMaxHeaderBytes) fail("header length " + std::to_string(header_len) + " exceeds 100 MiB");
  const auto header_bytes = r.read_bytes(header_len, "safetensors header");
  const std::string_view header(reinterpret_cast<const char*>(header_bytes.data()), header_bytes.size());
  const auto data = file.blob_->bytes().subspan(r.offset());

  const Json root = parse_json(header, src + " (header)");
  if (!root.is_object()) fail("header is not a JSON object");

  struct Range {
    uint64_t begin, end;
    size_t index;
  };
  std::vector<Range> ranges;
  for (const auto& [name, entry] : root.as_object(src)) {
    if (name == "__metadata__") {
      for (const auto& [k, v] : entry.as_object(src + ": __metadata__")) {
        file.metadata_[k] = v.as_string(src + ": __metadata__." + k);
      }
      continue;
    }
    const std::string where = src + ": tensor '" + name + "'";
    if (!utf8::is_valid(name)) fail("a tensor name is not valid UTF-8");
    if (!entry.is_object()) fail("tensor '" + name + "' is not described by a JSON object");
    const Json* dtype = entry.find("dtype");
    const Json* shape = entry.find("shape");
    const Json* offsets = entry.find("data_offsets");
    if (!dtype || !shape || !offsets) fail("tensor '" + name + "' lacks dtype, shape or data_offsets");

    SafetensorsTensor t;
    t.name = name;
    t.dtype = dtype->as_string(where + " dtype");
    const DtypeInfo* info = find_dtype(t.dtype);
    if (!info) fail("tensor '" + name + "' has unknown dtype '" + t.dtype + "'");
    uint64_t n_elements = 1;
    for (const auto& d : shape->as_array(where + " shape")) {
      const int64_t dim = d.as_int(where + " shape");
      if (dim < 0) fail("tensor '" + name + "' has a negative dimension");
      if (__builtin_mul_overflow(n_elements, static_cast<uint64_t>(dim), &n_elements)) {
        fail("tensor '" + name + "' has a shape whose element count overflows 64 bits");
      }
      t.shape.push_back(dim);
    }
    if (t.shape.size() > 8) fail("tensor '" + name + "' has more than 8 dimensions");
    const auto& offs = offsets->as_array(where + " data_offsets");
    if (offs.size() != 2) fail("tensor '" + name + "' data_offsets must hold two numbers");
    const int64_t begin = offs[0].as_int(where + " data_offsets");
    const int64_t end = offs[1].as_int(where + " data_offsets");
    if (begin < 0 || end < begin) fail("tensor '" + name + "' has invalid data_offsets");
    if (static_cast<uint64_t>(end) > data.size()) {
      fail("tensor '" + name + "' data ends at " + std::to_string(end) + ", past the end of the data buffer (" +
           std::to_string(data.size()) + " bytes)");
    }
    uint64_t expected = 0;
    if (__builtin_mul_overflow(n_elements, uint64_t{info->size}, &expected)) {
      fail("the byte size of tensor '" + name + "' overflows 64 bits");
    }
    if (expected != static_cast<uint64_t>(end - begin)) {
      fail("tensor '" + name + "' has " + std::to_string(end - begin) + " bytes but its dtype " + t.dtype +
           " and shape need " + std::to_string(expected));
    }
    t.data = data.subspan(static_cast<size_t>(begin), static_cast<size_t>(end - begin));
    ranges.push_back({static_cast<uint64_t>(begin), static_cast<uint64_t>(end), file.tensors_.size()});
    file.tensors_.push_back(std::move(t));
  }
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i - 1].end > ranges[i].begin) {
      fail("tensors '" + file.tensors_[ranges[i - 1].index].name + "' and '" + file.tensors_[ranges[i].index].name +
           "' overlap");
    }
  }
  std::vector<SafetensorsTensor> ordered;
  for (const auto& range : ranges) ordered.push_back(std::move(file.tensors_[range.index]));
  file.tensors_ = std::move(ordered);
  for (size_t i = 0; i < file.tensors_.size(); ++i) file.index_.emplace(file.tensors_[i].name, i);
  return file;
}

const SafetensorsTensor* SafetensorsFile::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

SafetensorsCheckpoint SafetensorsCheckpoint::open(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  SafetensorsCheckpoint ckpt;
  std::vector<fs::path> shard_paths;
  if (fs::is_directory(path)) {
    ckpt.directory_ = path;
    const fs::path index_path = path / "model.safetensors.index.json";
    if (fs::exists(index_path)) {
      const Json index = read_json_file(index_path.string());
      const Json* weight_map = index.find("weight_map");
      if (!weight_map) io::fail_format(index_path.string() + ": missing \"weight_map\"");
      std::set<std::string> files;
      for (const auto& [tensor, file] : weight_map->as_object(index_path.string() + ": weight_map")) {
        const std::string& f = file.as_string(index_path.string() + ": weight_map." + tensor);
        if (f.empty() || f.find('/') != std::string::npos || f == "..") {
          io::fail_format(index_path.string() + ": shard name '" + f + "' must be a plain file name");
        }
        files.insert(f);
      }
      for (const auto& f : files) shard_paths.push_back(path / f);
    } else if (fs::exists(path / "model.safetensors")) {
      shard_paths.push_back(path / "model.safetensors");
    } else {
      throw Error(Errc::io, path.string() + ": no model.safetensors or model.safetensors.index.json in directory");
    }
    if (fs::exists(path / "config.json")) ckpt.config_ = read_json_file((path / "config.json").string());
  } else {
    ckpt.directory_ = path.parent_path();
    shard_paths.push_back(path);
  }
  for (const auto& p : shard_paths) {
    ckpt.shards_.push_back(SafetensorsFile::open(p));
    const auto& shard = ckpt.shards_.back();
    for (size_t i = 0; i < shard.tensors().size(); ++i) {
      const auto& name = shard.tensors()[i].name;
      if (!ckpt.index_.emplace(name, std::make_pair(ckpt.shards_.size() - 1, i)).second) {
        io::fail_format(p.string() + ": tensor '" + name + "' also appears in another shard");
      }
    }
  }
  return ckpt;
}

const SafetensorsTensor* SafetensorsCheckpoint::find(std::string_view name) const {
  auto it = index_.find(name);
  if (it == index_.end()) return nullptr;
  return &shards_[it->second.first].tensors()[it->second.second];
}

const SafetensorsTensor& SafetensorsCheckpoint::require(std::string_view name) const {
  if (const auto* t = find(name)) return *t;
  throw Error(Errc::bad_format, directory_.string() + ": missing tensor '" + std::string(name) + "'");
}

std::vector<std::string> SafetensorsCheckpoint::tensor_names() const {
  std::vector<std::string> names;
  for (const auto& [name, where] : index_) names.push_back(name);
  return names;
}

}  // namespace qtr
