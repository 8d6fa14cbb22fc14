// ONC RPC record marking over a byte stream (RFC 5531 sec 11): each record is sent as fragments,
// each preceded by a 4-byte header holding the fragment length and a last-fragment bit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ovl::rpc {

// Largest record accepted: a 1 MiB NFS WRITE payload plus headroom for the call header and
// arguments around it.
inline constexpr size_t kMaxRecordSize = (1u << 20) + (64u << 10);

// Bit set in a fragment header when the fragment ends its record; the low 31 bits are its length.
inline constexpr uint32_t kLastFragment = 0x80000000u;

// Reassembles records from a stream fed in arbitrary pieces (split headers, many fragments,
// several records per read). Not thread-safe: one per connection.
class RecordAssembler {
 public:
  explicit RecordAssembler(size_t max_record = kMaxRecordSize) : max_record_(max_record) {}

  // Consumes a prefix of `data`, stopping right after the first record it completes, so the
  // caller can apply backpressure per record. Returns the number of bytes consumed (> 0 when
  // `data` is not empty). Call only while !has_record(). Fails, and stays failed, once a record
  // would exceed the maximum size: framing is then lost and the connection must be closed.
  Result<size_t> Feed(std::string_view data);

  // True when a complete record waits for TakeRecord().
  bool has_record() const { return complete_; }
  // Hands over the completed record and starts the next one.
  std::string TakeRecord();

 private:
  size_t max_record_;
  bool failed_ = false;
  bool complete_ = false;
  // Fragment header bytes seen so far (a header may arrive split across reads).
  char header_[4] = {};
  size_t header_len_ = 0;
  // Body bytes still expected for the current fragment, and whether it is the last one.
  size_t fragment_left_ = 0;
  bool last_ = false;
  std::string record_;
};

}  // namespace ovl::rpc
