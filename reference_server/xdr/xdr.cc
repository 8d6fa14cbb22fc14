#include "xdr/xdr.h"

namespace ovl::xdr {
namespace {

// XDR pads every item to a multiple of four bytes (RFC 4506 sec 3).
size_t Pad(size_t n) {
  return (4 - (n & 3)) & 3;
}

constexpr char kZeros[4] = {0, 0, 0, 0};

uint32_t LoadBe32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}

void StoreBe32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}

}  // namespace

bool Decoder::Take(size_t n, const char** p) {
  if (!ok_ || n > in_.size() - pos_) {
    ok_ = false;
    return false;
  }
  *p = in_.data() + pos_;
  pos_ += n;
  return true;
}

bool Decoder::U32(uint32_t* v) {
  const char* p;
  if (!Take(4, &p)) return false;
  *v = LoadBe32(p);
  return true;
}

bool Decoder::I32(int32_t* v) {
  uint32_t u;
  if (!U32(&u)) return false;
  *v = static_cast<int32_t>(u);
  return true;
}

bool Decoder::U64(uint64_t* v) {
  const char* p;
  if (!Take(8, &p)) return false;
  *v = (uint64_t{LoadBe32(p)} << 32) | LoadBe32(p + 4);
  return true;
}

bool Decoder::Bool(bool* v) {
  uint32_t u;
  if (!U32(&u)) return false;
  // An XDR bool is an enum with exactly two values; anything else is malformed input.
  if (u > 1) {
    ok_ = false;
    return false;
  }
  *v = u == 1;
  return true;
}

bool Decoder::Opaque(std::string* v, uint32_t max) {
  uint32_t len;
  if (!U32(&len)) return false;
  if (len > max) {
    ok_ = false;
    return false;
  }
  const char* p;
  // Size check before the copy: a hostile length never makes us allocate more than we received.
  if (!Take(size_t{len} + Pad(len), &p)) return false;
  v->assign(p, len);
  return true;
}

bool Decoder::FixedOpaque(void* out, size_t n) {
  const char* p;
  if (n > in_.size() || !Take(n + Pad(n), &p)) {
    ok_ = false;
    return false;
  }
  if (n > 0) std::memcpy(out, p, n);
  return true;
}

void Encoder::U32(uint32_t v) {
  char b[4];
  StoreBe32(b, v);
  out_.append(b, 4);
}

void Encoder::U64(uint64_t v) {
  char b[8];
  StoreBe32(b, static_cast<uint32_t>(v >> 32));
  StoreBe32(b + 4, static_cast<uint32_t>(v));
  out_.append(b, 8);
}

void Encoder::Opaque(std::string_view v) {
  U32(static_cast<uint32_t>(v.size()));
  out_.append(v.data(), v.size());
  out_.append(kZeros, Pad(v.size()));
}

void Encoder::FixedOpaque(const void* p, size_t n) {
  out_.append(static_cast<const char*>(p), n);
  out_.append(kZeros, Pad(n));
}

size_t Encoder::ReserveU32() {
  size_t at = out_.size();
  out_.append(kZeros, 4);
  return at;
}

void Encoder::PatchU32(size_t at, uint32_t v) {
  StoreBe32(out_.data() + at, v);
}

void Encoder::OpaqueTail(std::unique_ptr<char[]> data, size_t len) {
  U32(static_cast<uint32_t>(len));
  std::memset(data.get() + len, 0, Pad(len));
  tail_.data = std::move(data);
  tail_.size = len + Pad(len);
}

std::string Encoder::Take() {
  if (tail_.size > 0) out_.append(tail_.data.get(), tail_.size);
  tail_ = Tail{};
  return std::move(out_);
}

void Encoder::TakeParts(std::string* bytes, Tail* tail) {
  *bytes = std::move(out_);
  *tail = std::move(tail_);
  tail_ = Tail{};
}

}  // namespace ovl::xdr
