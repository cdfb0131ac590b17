#include "qtr/gguf_writer.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>

#include "checked.hpp"
#include "qtr/error.hpp"

namespace qtr {

GgufValue gguf_array(const std::vector<std::string>& items) {
  GgufArray a{GgufType::string, {}};
  a.items.reserve(items.size());
  for (const auto& s : items) a.items.push_back(GgufValue{s});
  return GgufValue{std::move(a)};
}

GgufValue gguf_array(const std::vector<float>& items) {
  GgufArray a{GgufType::f32, {}};
  a.items.reserve(items.size());
  for (float f : items) a.items.push_back(GgufValue{f});
  return GgufValue{std::move(a)};
}

GgufValue gguf_array(const std::vector<int32_t>& items) {
  GgufArray a{GgufType::i32, {}};
  a.items.reserve(items.size());
  for (int32_t i : items) a.items.push_back(GgufValue{i});
  return GgufValue{std::move(a)};
}

void GgufWriter::set(const std::string& key, GgufValue value) {
  if (key == "general.alignment") {
    const auto* v = std::get_if<uint32_t>(&value.value);
    if (!v || *v == 0 || (*v & (*v - 1)) != 0) {
      throw Error(Errc::invalid_argument, "general.alignment must be a u32 power of two");
    }
  }
  for (auto& [k, v] : kv_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  kv_.emplace_back(key, std::move(value));
}

namespace {
void validate_tensor(const std::string& name, TensorType type, const std::vector<int64_t>& ne, size_t n_bytes) {
  if (ne.empty() || ne.size() > 4) {
    throw Error(Errc::invalid_argument, "tensor '" + name + "' must have 1 to 4 dimensions");
  }
  const auto& info = tensor_type_info(type);
  uint64_t n = 1;
  for (int64_t d : ne) {
    if (d <= 0) throw Error(Errc::invalid_argument, "tensor '" + name + "' has a dimension <= 0");
    n = io::checked_mul(n, static_cast<uint64_t>(d), "tensor element count");
  }
  if (ne[0] % info.block_size != 0) {
    throw Error(Errc::invalid_argument, "tensor '" + name + "': row length is not a multiple of the block size");
  }
  if (n / info.block_size * info.type_size != n_bytes) {
    throw Error(Errc::invalid_argument, "tensor '" + name + "': " + std::to_string(n_bytes) +
                                            " bytes do not match its shape and type");
  }
}
}  // namespace

void GgufWriter::add_tensor(const std::string& name, TensorType type, std::vector<int64_t> ne,
                            std::vector<uint8_t> data) {
  add_tensor_view(name, type, std::move(ne), data);
  tensors_.back().owned = std::move(data);  // moving a vector keeps its buffer, so the span stays valid
  tensors_.back().data = tensors_.back().owned;
}

void GgufWriter::add_tensor_view(const std::string& name, TensorType type, std::vector<int64_t> ne,
                                 std::span<const uint8_t> data) {
  for (const auto& t : tensors_) {
    if (t.name == name) throw Error(Errc::invalid_argument, "duplicate tensor name '" + name + "'");
  }
  validate_tensor(name, type, ne, data.size());
  tensors_.push_back(PendingTensor{name, type, std::move(ne), {}, data});
}

uint32_t GgufWriter::alignment() const {
  for (const auto& [k, v] : kv_) {
    if (k == "general.alignment") return std::get<uint32_t>(v.value);
  }
  return GgufFile::kDefaultAlignment;
}

namespace {

template <class Sink>
void put_raw(Sink& sink, const void* p, size_t n) {
  sink(static_cast<const uint8_t*>(p), n);
}
template <class Sink, class T>
void put(Sink& sink, T v) {
  put_raw(sink, &v, sizeof v);
}
template <class Sink>
void put_string(Sink& sink, const std::string& s) {
  put<Sink, uint64_t>(sink, s.size());
  put_raw(sink, s.data(), s.size());
}

template <class Sink>
void put_value(Sink& sink, const GgufValue& value) {
  std::visit(
      [&](const auto& x) {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, std::string>) {
          put_string(sink, x);
        } else if constexpr (std::is_same_v<X, GgufArray>) {
          put<Sink, uint32_t>(sink, static_cast<uint32_t>(x.element_type));
          put<Sink, uint64_t>(sink, x.items.size());
          for (const auto& item : x.items) {
            if (item.type() != x.element_type) {
              throw Error(Errc::invalid_argument, "GGUF array holds an item of a type other than its element type");
            }
            put_value(sink, item);
          }
        } else if constexpr (std::is_same_v<X, bool>) {
          put<Sink, uint8_t>(sink, x ? 1 : 0);
        } else {
          put<Sink, X>(sink, x);
        }
      },
      value.value);
}

}  // namespace

template <class Sink>
void GgufWriter::emit(Sink& sink) const {
  uint64_t written = 0;
  auto counting = [&](const uint8_t* p, size_t n) {
    sink(p, n);
    written += n;
  };
  const uint64_t align = alignment();
  auto pad = [&]() {
    static const uint8_t zeros[256] = {};
    uint64_t n = (align - written % align) % align;
    while (n) {
      const size_t chunk = n < sizeof zeros ? static_cast<size_t>(n) : sizeof zeros;
      counting(zeros, chunk);
      n -= chunk;
    }
  };

  put<decltype(counting), uint32_t>(counting, 0x46554747);
  put<decltype(counting), uint32_t>(counting, 3);
  put<decltype(counting), uint64_t>(counting, tensors_.size());
  put<decltype(counting), uint64_t>(counting, kv_.size());
  for (const auto& [key, value] : kv_) {
    put_string(counting, key);
    put<decltype(counting), uint32_t>(counting, static_cast<uint32_t>(value.type()));
    put_value(counting, value);
  }
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    put_string(counting, t.name);
    put<decltype(counting), uint32_t>(counting, static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) put<decltype(counting), uint64_t>(counting, static_cast<uint64_t>(d));
    put<decltype(counting), uint32_t>(counting, static_cast<uint32_t>(t.type));
    put<decltype(counting), uint64_t>(counting, offset);
    offset = io::align_up(offset + t.data.size(), align, "tensor offset");
  }
  pad();
  for (const auto& t : tensors_) {
    counting(t.data.data(), t.data.size());
    pad();
  }
}

std::vector<uint8_t> GgufWriter::to_bytes() const {
  std::vector<uint8_t> out;
  auto sink = [&](const uint8_t* p, size_t n) { out.insert(out.end(), p, p + n); };
  emit(sink);
  return out;
}

void GgufWriter::write(const std::filesystem::path& path) const {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw Error(Errc::io, "cannot create '" + tmp.string() + "': " + std::strerror(errno));
    auto sink = [&](const uint8_t* p, size_t n) { f.write(reinterpret_cast<const char*>(p), static_cast<std::streamsize>(n)); };
    emit(sink);
    f.flush();
    if (!f) throw Error(Errc::io, "cannot write '" + tmp.string() + "': " + std::strerror(errno));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw Error(Errc::io, "cannot rename '" + tmp.string() + "' to '" + path.string() + "': " + ec.message());
}

}  // namespace qtr
