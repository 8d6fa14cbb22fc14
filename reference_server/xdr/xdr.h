// XDR (RFC 4506) encoding and decoding over byte buffers. The decoder never reads past its input:
// every getter returns false once the input is short or a length field is over its bound, and
// stays failed, so a handler can decode all arguments and check ok() once.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace ovl::xdr {

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  bool U32(uint32_t* v);
  bool I32(int32_t* v);
  bool U64(uint64_t* v);
  bool Bool(bool* v);
  // Variable-length opaque<max> / string<max>: length word, bytes, padding to 4.
  bool Opaque(std::string* v, uint32_t max);
  // Fixed-length opaque[n] with padding.
  bool FixedOpaque(void* out, size_t n);
  bool String(std::string* v, uint32_t max) { return Opaque(v, max); }

  // True while every read so far succeeded.
  bool ok() const { return ok_; }
  // Bytes not consumed yet.
  size_t remaining() const { return ok_ ? in_.size() - pos_ : 0; }
  std::string_view rest() const { return in_.substr(pos_); }

 private:
  bool Take(size_t n, const char** p);
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Bytes kept out of an Encoder's buffer, so a large payload (a READ's data) is written once by
// its producer and read once by the transport, never copied in between.
struct Tail {
  std::unique_ptr<char[]> data;
  size_t size = 0;  // including the XDR padding, which is zeroed
};

class Encoder {
 public:
  void U32(uint32_t v);
  void I32(int32_t v) { U32(static_cast<uint32_t>(v)); }
  void U64(uint64_t v);
  void Bool(bool v) { U32(v ? 1 : 0); }
  void Opaque(std::string_view v);  // length + bytes + padding
  void FixedOpaque(const void* p, size_t n);
  void String(std::string_view v) { Opaque(v); }

  // Reserves a 4-byte slot to fill later (e.g. a length known only at the end).
  size_t ReserveU32();
  void PatchU32(size_t at, uint32_t v);

  // The length word of a variable-length opaque whose `len` bytes are in `data`, which must have
  // room for `len` + 3 (the padding). Nothing may be encoded after it.
  void OpaqueTail(std::unique_ptr<char[]> data, size_t len);

  // The encoded bytes, without the tail.
  const std::string& bytes() const { return out_; }
  size_t size() const { return out_.size(); }
  // Everything encoded as one string (copying the tail in, when there is one).
  std::string Take();
  // The encoded bytes and the tail apart, without copying either.
  void TakeParts(std::string* bytes, Tail* tail);

 private:
  std::string out_;
  Tail tail_;
};

}  // namespace ovl::xdr
