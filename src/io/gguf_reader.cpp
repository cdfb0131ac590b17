#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <limits>

#include "checked.hpp"
#include "qtr/error.hpp"
#include "qtr/gguf.hpp"
#include "qtr/utf8.hpp"

namespace qtr {

namespace {

using io::ByteReader;

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr int kMaxArrayDepth = 8;
constexpr uint32_t kMaxDims = 4;  // GGML_MAX_DIMS

// The fewest bytes one value of `type` can occupy; used to bound element counts by the bytes left in the file.
uint64_t min_encoded_size(GgufType type) {
  switch (type) {
    case GgufType::u8: case GgufType::i8: case GgufType::boolean: return 1;
    case GgufType::u16: case GgufType::i16: return 2;
    case GgufType::u32: case GgufType::i32: case GgufType::f32: return 4;
    case GgufType::u64: case GgufType::i64: case GgufType::f64: return 8;
    case GgufType::string: return 8;
    case GgufType::array: return 12;
  }
  return 1;
}

bool is_known_type(uint32_t raw) { return raw <= static_cast<uint32_t>(GgufType::f64); }

class Parser {
 public:
  explicit Parser(const Blob& blob) : r_(blob.bytes(), blob.name()) {}

  [[noreturn]] void fail(const std::string& what) const { io::fail_format(r_.source() + ": " + what); }

  std::string read_string(std::string_view what) {
    const auto length = r_.read<uint64_t>(what);
    if (length > r_.remaining()) {
      fail(std::string(what) + " has length " + std::to_string(length) + " but only " +
           std::to_string(r_.remaining()) + " bytes remain in the file (at offset " + std::to_string(r_.offset()) +
           ")");
    }
    auto bytes = r_.read_bytes(length, what);
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }

  GgufType read_type(const std::string& context) {
    const auto raw = r_.read<uint32_t>("value type of " + context);
    if (!is_known_type(raw)) fail("unknown metadata value type " + std::to_string(raw) + " for " + context);
    return static_cast<GgufType>(raw);
  }

  GgufValue read_value(GgufType type, const std::string& context, int depth) {
    GgufValue v;
    switch (type) {
      case GgufType::u8: v.value = r_.read<uint8_t>(context); break;
      case GgufType::i8: v.value = r_.read<int8_t>(context); break;
      case GgufType::u16: v.value = r_.read<uint16_t>(context); break;
      case GgufType::i16: v.value = r_.read<int16_t>(context); break;
      case GgufType::u32: v.value = r_.read<uint32_t>(context); break;
      case GgufType::i32: v.value = r_.read<int32_t>(context); break;
      case GgufType::f32: v.value = r_.read<float>(context); break;
      case GgufType::u64: v.value = r_.read<uint64_t>(context); break;
      case GgufType::i64: v.value = r_.read<int64_t>(context); break;
      case GgufType::f64: v.value = r_.read<double>(context); break;
      case GgufType::boolean: {
        const auto b = r_.read<uint8_t>(context);
        if (b > 1) fail("invalid bool value " + std::to_string(b) + " for " + context);
        v.value = b == 1;
        break;
      }
      case GgufType::string: v.value = read_string(context); break;
      case GgufType::array: v.value = read_array(context, depth + 1); break;
    }
    return v;
  }

  GgufArray read_array(const std::string& context, int depth) {
    if (depth > kMaxArrayDepth) {
      fail("arrays nested deeper than " + std::to_string(kMaxArrayDepth) + " levels in " + context);
    }
    GgufArray array;
    array.element_type = read_type("elements of " + context);
    const auto count = r_.read<uint64_t>("element count of " + context);
    if (count > r_.remaining() / min_encoded_size(array.element_type)) {
      fail(context + " claims " + std::to_string(count) + " elements of type " +
           gguf_type_name(array.element_type) + ", more than the " + std::to_string(r_.remaining()) +
           " remaining bytes can hold");
    }
    array.items.reserve(static_cast<size_t>(count));
    for (uint64_t i = 0; i < count; ++i) {
      array.items.push_back(read_value(array.element_type, context, depth));
    }
    return array;
  }

  ByteReader& reader() { return r_; }

 private:
  ByteReader r_;
};

}  // namespace

const char* gguf_type_name(GgufType type) {
  switch (type) {
    case GgufType::u8: return "u8";
    case GgufType::i8: return "i8";
    case GgufType::u16: return "u16";
    case GgufType::i16: return "i16";
    case GgufType::u32: return "u32";
    case GgufType::i32: return "i32";
    case GgufType::f32: return "f32";
    case GgufType::boolean: return "bool";
    case GgufType::string: return "string";
    case GgufType::array: return "array";
    case GgufType::u64: return "u64";
    case GgufType::i64: return "i64";
    case GgufType::f64: return "f64";
  }
  return "?";
}

GgufFile GgufFile::open(const std::filesystem::path& path) { return parse(Blob::map_file(path)); }

GgufFile GgufFile::parse(std::shared_ptr<const Blob> blob) {
  GgufFile file;
  file.blob_ = std::move(blob);
  Parser p(*file.blob_);
  ByteReader& r = p.reader();

  // ---- header ----
  if (r.size() < 4) p.fail("not a GGUF file (only " + std::to_string(r.size()) + " bytes)");
  const auto magic = r.read<uint32_t>("magic");
  if (magic != kMagic) {
    std::string shown;
    for (int i = 0; i < 4; ++i) {
      const auto c = static_cast<uint8_t>((magic >> (8 * i)) & 0xFF);
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      shown += (c >= 32 && c < 127) ? std::string(1, static_cast<char>(c)) : std::string(escaped);
    }
    p.fail("not a GGUF file (magic is '" + shown + "', expected 'GGUF')");
  }
  file.version_ = r.read<uint32_t>("version");
  if (file.version_ != 2 && file.version_ != 3) {
    std::string hint;
    if (__builtin_bswap32(file.version_) == 2 || __builtin_bswap32(file.version_) == 3) {
      hint = " (a big-endian GGUF file; only little-endian files are supported)";
    } else if (file.version_ == 1) {
      hint = " (only versions 2 and 3 are read; re-convert the model with a current converter)";
    }
    throw Error(Errc::unsupported,
                file.source() + ": unsupported GGUF version " + std::to_string(file.version_) + hint);
  }
  const auto n_tensors = r.read<uint64_t>("tensor count");
  const auto n_kv = r.read<uint64_t>("metadata count");
  // Each kv needs at least 8 (key length) + 4 (type) + 1 bytes; each tensor info at least 8 + 4 + 4 + 8.
  if (n_kv > r.remaining() / 13) {
    p.fail("header claims " + std::to_string(n_kv) + " metadata entries, more than the file can hold");
  }
  if (n_tensors > r.remaining() / 24) {
    p.fail("header claims " + std::to_string(n_tensors) + " tensors, more than the file can hold");
  }

  // ---- metadata ----
  file.kv_.reserve(static_cast<size_t>(n_kv));
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = p.read_string("key of metadata entry " + std::to_string(i));
    if (key.empty()) p.fail("metadata entry " + std::to_string(i) + " has an empty key");
    if (!utf8::is_valid(key)) p.fail("metadata entry " + std::to_string(i) + " has a key that is not valid UTF-8");
    if (file.kv_index_.count(key)) p.fail("duplicate metadata key '" + key + "'");
    const std::string context = "metadata '" + key + "'";
    const GgufType type = p.read_type(context);
    GgufValue value = p.read_value(type, context, 0);
    file.kv_index_.emplace(key, file.kv_.size());
    file.kv_.emplace_back(std::move(key), std::move(value));
  }

  if (const GgufValue* a = file.find("general.alignment")) {
    const auto* v = std::get_if<uint32_t>(&a->value);
    if (!v) p.fail(std::string("general.alignment must be a u32, found ") + gguf_type_name(a->type()));
    if (*v == 0 || (*v & (*v - 1)) != 0) {
      p.fail("general.alignment " + std::to_string(*v) + " is not a power of two");
    }
    file.alignment_ = *v;
  }

  // ---- tensor infos ----
  file.tensors_.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t;
    t.name = p.read_string("name of tensor " + std::to_string(i));
    if (t.name.empty()) p.fail("tensor " + std::to_string(i) + " has an empty name");
    if (!utf8::is_valid(t.name)) p.fail("tensor " + std::to_string(i) + " has a name that is not valid UTF-8");
    if (file.tensor_index_.count(t.name)) p.fail("duplicate tensor name '" + t.name + "'");
    const std::string context = "tensor '" + t.name + "'";
    const auto n_dims = r.read<uint32_t>("dimension count of " + context);
    if (n_dims == 0 || n_dims > kMaxDims) {
      p.fail(context + " has " + std::to_string(n_dims) + " dimensions (1 to " + std::to_string(kMaxDims) +
             " are allowed)");
    }
    uint64_t n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const auto ne = r.read<uint64_t>("dimensions of " + context);
      if (ne == 0 || ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        p.fail(context + " has invalid dimension " + std::to_string(ne));
      }
      if (__builtin_mul_overflow(n_elements, ne, &n_elements) ||
          n_elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        p.fail("the dimensions of " + context + " overflow a 64-bit element count");
      }
      t.ne.push_back(static_cast<int64_t>(ne));
    }
    const auto type_id = r.read<uint32_t>("type of " + context);
    const auto info = tensor_type_info(type_id);
    if (!info) p.fail(context + " has unknown tensor type id " + std::to_string(type_id));
    t.type = info->type;
    if (t.ne[0] % info->block_size != 0) {
      p.fail(context + " has a row of " + std::to_string(t.ne[0]) + " elements, not a multiple of the " +
             std::string(info->name) + " block size " + std::to_string(info->block_size));
    }
    if (__builtin_mul_overflow(n_elements / info->block_size, uint64_t{info->type_size}, &t.n_bytes)) {
      p.fail("the byte size of " + context + " overflows 64 bits");
    }
    t.offset = r.read<uint64_t>("offset of " + context);
    if (t.offset % file.alignment_ != 0) {
      p.fail(context + " data offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
             std::to_string(file.alignment_));
    }
    file.tensor_index_.emplace(t.name, file.tensors_.size());
    file.tensors_.push_back(std::move(t));
  }

  // ---- data section ----
  file.data_offset_ = io::align_up(r.offset(), file.alignment_, "data section offset");
  if (!file.tensors_.empty()) {
    if (file.data_offset_ > r.size()) {
      p.fail("truncated file: the data section would start at offset " + std::to_string(file.data_offset_) +
             " but the file has " + std::to_string(r.size()) + " bytes");
    }
    const uint64_t data_size = r.size() - file.data_offset_;
    std::vector<const GgufTensorInfo*> by_offset;
    for (const auto& t : file.tensors_) {
      uint64_t end = 0;
      if (__builtin_add_overflow(t.offset, t.n_bytes, &end) || end > data_size) {
        p.fail("tensor '" + t.name + "' (" + std::to_string(t.n_bytes) + " bytes at data offset " +
               std::to_string(t.offset) + ") extends past the end of the file (data section is " +
               std::to_string(data_size) + " bytes)");
      }
      by_offset.push_back(&t);
    }
    std::sort(by_offset.begin(), by_offset.end(),
              [](const auto* a, const auto* b) { return a->offset < b->offset; });
    for (size_t i = 1; i < by_offset.size(); ++i) {
      if (by_offset[i - 1]->offset + by_offset[i - 1]->n_bytes > by_offset[i]->offset) {
        p.fail("tensors '" + by_offset[i - 1]->name + "' and '" + by_offset[i]->name + "' overlap");
      }
    }
  }
  return file;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

namespace {
[[noreturn]] void wrong_type(const std::string& source, std::string_view key, const GgufValue& v,
                             const char* expected) {
  throw Error(Errc::bad_format, source + ": GGUF key '" + std::string(key) + "' has type " +
                                    gguf_type_name(v.type()) + ", expected " + expected);
}
}  // namespace

bool GgufValue::is_integer() const {
  switch (type()) {
    case GgufType::u8: case GgufType::i8: case GgufType::u16: case GgufType::i16: case GgufType::u32:
    case GgufType::i32: case GgufType::u64: case GgufType::i64: return true;
    default: return false;
  }
}

std::optional<int64_t> GgufFile::get_int(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  return std::visit(
      [&](const auto& x) -> int64_t {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, uint64_t>) {
          if (x > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
            throw Error(Errc::bad_format, source() + ": GGUF key '" + std::string(key) + "' is out of range");
          }
          return static_cast<int64_t>(x);
        } else if constexpr (std::is_integral_v<X> && !std::is_same_v<X, bool>) {
          return static_cast<int64_t>(x);
        } else {
          wrong_type(source(), key, *v, "an integer");
        }
      },
      v->value);
}

std::optional<uint64_t> GgufFile::get_uint(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (const auto* u = std::get_if<uint64_t>(&v->value)) return *u;
  const auto i = get_int(key);
  if (*i < 0) {
    throw Error(Errc::bad_format, source() + ": GGUF key '" + std::string(key) + "' is negative (" +
                                      std::to_string(*i) + ")");
  }
  return static_cast<uint64_t>(*i);
}

std::optional<double> GgufFile::get_float(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (const auto* f = std::get_if<float>(&v->value)) return *f;
  if (const auto* d = std::get_if<double>(&v->value)) return *d;
  if (v->is_integer()) return static_cast<double>(*get_int(key));
  wrong_type(source(), key, *v, "a number");
}

std::optional<bool> GgufFile::get_bool(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (const auto* b = std::get_if<bool>(&v->value)) return *b;
  wrong_type(source(), key, *v, "bool");
}

std::optional<std::string> GgufFile::get_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (const auto* s = std::get_if<std::string>(&v->value)) return *s;
  wrong_type(source(), key, *v, "string");
}

const GgufArray* GgufFile::get_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return nullptr;
  if (const auto* a = std::get_if<GgufArray>(&v->value)) return a;
  wrong_type(source(), key, *v, "array");
}

namespace {
[[noreturn]] void missing_key(const std::string& source, std::string_view key) {
  throw Error(Errc::bad_format, source + ": missing GGUF key '" + std::string(key) + "'");
}
}  // namespace

uint64_t GgufFile::require_uint(std::string_view key) const {
  if (auto v = get_uint(key)) return *v;
  missing_key(source(), key);
}

double GgufFile::require_float(std::string_view key) const {
  if (auto v = get_float(key)) return *v;
  missing_key(source(), key);
}

std::string GgufFile::require_string(std::string_view key) const {
  if (auto v = get_string(key)) return *v;
  missing_key(source(), key);
}

const GgufArray& GgufFile::require_array(std::string_view key, GgufType element_type) const {
  const GgufArray* a = get_array(key);
  if (!a) missing_key(source(), key);
  if (a->element_type != element_type) {
    throw Error(Errc::bad_format, source() + ": GGUF key '" + std::string(key) + "' is an array of " +
                                      gguf_type_name(a->element_type) + ", expected an array of " +
                                      gguf_type_name(element_type));
  }
  return *a;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

TensorView GgufFile::tensor(const GgufTensorInfo& info) const {
  TensorView view;
  view.name = info.name;
  view.type = info.type;
  view.ne = info.ne;
  view.data = blob_->bytes().subspan(static_cast<size_t>(data_offset_ + info.offset),
                                     static_cast<size_t>(info.n_bytes));
  return view;
}

TensorView GgufFile::require_tensor(std::string_view name) const {
  const GgufTensorInfo* info = find_tensor(name);
  if (!info) throw Error(Errc::bad_format, source() + ": missing tensor '" + std::string(name) + "'");
  return tensor(*info);
}

std::optional<TensorView> GgufFile::optional_tensor(std::string_view name) const {
  const GgufTensorInfo* info = find_tensor(name);
  if (!info) return std::nullopt;
  return tensor(*info);
}

}  // namespace qtr
