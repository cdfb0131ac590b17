// Imports a SentencePiece ModelProto (.model file) into a Vocab, reading just the protobuf fields qtr needs:
//   ModelProto     { 1: repeated SentencePiece pieces; 2: TrainerSpec trainer_spec; 3: NormalizerSpec normalizer_spec }
//   SentencePiece  { 1: string piece; 2: float score; 3: Type type (1 normal, 2 unknown, 3 control, 4 user, 5 unused, 6 byte) }
//   TrainerSpec    { 3: model_type (1 unigram, 2 bpe); 40: unk_id; 41: bos_id; 42: eos_id; 43: pad_id }
//   NormalizerSpec { 3: add_dummy_prefix (default true) }
// Unknown fields are skipped; every length is bounds-checked.
#include <cstring>

#include "qtr/blob.hpp"
#include "qtr/error.hpp"
#include "qtr/vocab.hpp"

namespace qtr {

namespace {

class ProtoReader {
 public:
  ProtoReader(const uint8_t* begin, const uint8_t* end, const std::string& source)
      : p_(begin), end_(end), source_(source) {}

  bool done() const { return p_ >= end_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(Errc::bad_format, source_ + ": not a SentencePiece model (" + what + ")");
  }

  uint64_t varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) fail("truncated varint");
      const uint8_t b = *p_++;
      value |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return value;
    }
    fail("varint longer than 10 bytes");
  }

  // Reads a field key; returns {field number, wire type}.
  std::pair<uint32_t, uint32_t> key() {
    const uint64_t k = varint();
    return {static_cast<uint32_t>(k >> 3), static_cast<uint32_t>(k & 7)};
  }

  ProtoReader sub() {
    const uint64_t n = varint();
    if (n > static_cast<uint64_t>(end_ - p_)) fail("length-delimited field past the end");
    ProtoReader r(p_, p_ + n, source_);
    p_ += n;
    return r;
  }

  std::string string() {
    ProtoReader r = sub();
    return std::string(reinterpret_cast<const char*>(r.p_), static_cast<size_t>(r.end_ - r.p_));
  }

  float fixed32_float() {
    if (end_ - p_ < 4) fail("truncated fixed32");
    float f;
    std::memcpy(&f, p_, 4);
    p_ += 4;
    return f;
  }

  void skip(uint32_t wire_type) {
    switch (wire_type) {
      case 0: varint(); return;
      case 1: advance(8); return;
      case 2: sub(); return;
      case 5: advance(4); return;
      default: fail("unsupported wire type " + std::to_string(wire_type));
    }
  }

 private:
  void advance(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) fail("truncated field");
    p_ += n;
  }
  const uint8_t* p_;
  const uint8_t* end_;
  const std::string& source_;
};

}  // namespace

Vocab Vocab::from_sentencepiece_model(const std::filesystem::path& path) {
  auto blob = Blob::map_file(path);
  const std::string source = path.string();
  ProtoReader model(blob->data(), blob->data() + blob->size(), source);

  Vocab v;
  v.model = "llama";
  v.add_bos = true;
  v.add_space_prefix = true;
  int64_t unk = 0, bos = 1, eos = 2, pad = -1;  // SentencePiece's defaults
  int64_t model_type = 1;
  while (!model.done()) {
    const auto [field, wire] = model.key();
    if (field == 1 && wire == 2) {
      ProtoReader piece = model.sub();
      std::string text;
      float score = 0.0f;
      int64_t type = 1;
      while (!piece.done()) {
        const auto [f, w] = piece.key();
        if (f == 1 && w == 2) text = piece.string();
        else if (f == 2 && w == 5) score = piece.fixed32_float();
        else if (f == 3 && w == 0) type = static_cast<int64_t>(piece.varint());
        else piece.skip(w);
      }
      if (type < 1 || type > 6) model.fail("piece type " + std::to_string(type));
      v.tokens.push_back(std::move(text));
      v.scores.push_back(score);
      v.types.push_back(static_cast<TokenType>(type));
    } else if (field == 2 && wire == 2) {
      ProtoReader trainer = model.sub();
      while (!trainer.done()) {
        const auto [f, w] = trainer.key();
        auto as_int32 = [&] { return static_cast<int64_t>(static_cast<int32_t>(trainer.varint())); };
        if (f == 3 && w == 0) model_type = as_int32();
        else if (f == 40 && w == 0) unk = as_int32();
        else if (f == 41 && w == 0) bos = as_int32();
        else if (f == 42 && w == 0) eos = as_int32();
        else if (f == 43 && w == 0) pad = as_int32();
        else trainer.skip(w);
      }
    } else if (field == 3 && wire == 2) {
      ProtoReader normalizer = model.sub();
      while (!normalizer.done()) {
        const auto [f, w] = normalizer.key();
        if (f == 3 && w == 0) v.add_space_prefix = normalizer.varint() != 0;
        else normalizer.skip(w);
      }
    } else {
      model.skip(wire);
    }
  }
  if (v.tokens.empty()) model.fail("no pieces");
  if (model_type != 2) {
    throw Error(Errc::unsupported, source + ": SentencePiece model type " + std::to_string(model_type) +
                                       " (only BPE models, type 2, are supported)");
  }
  const auto n = static_cast<int64_t>(v.tokens.size());
  auto id = [&](int64_t x) { return (x >= 0 && x < n) ? static_cast<TokenId>(x) : kNoToken; };
  v.unk = id(unk);
  v.bos = id(bos);
  v.eos = id(eos);
  v.pad = id(pad);
  if (v.bos == kNoToken) v.add_bos = false;
  return v;
}

}  // namespace qtr
