// The fore channel slot table of one session with its reply cache (RFC 8881 section 2.10.6.1):
// exactly-once semantics for the requests of a session. Not thread-safe: its owner (Nfs4State)
// serializes calls.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ovl::nfs4 {

class SlotTable {
 public:
  // `slots` slots (at least 1); replies up to `max_cached_bytes` are kept for replay.
  SlotTable(uint32_t slots, size_t max_cached_bytes);

  enum class Verdict {
    kNew,             // seqid is the slot's last + 1: run the request
    kReplay,          // seqid is the slot's last and its reply was cached: send `cached`
    kUncachedReplay,  // a retry of a request whose reply was too big to keep
    kInUse,           // the slot's previous request is still running
    kMisordered,      // any other seqid
    kBadSlot,         // slot id beyond the table
  };
  struct Start {
    Verdict verdict = Verdict::kBadSlot;
    std::string cached;  // for kReplay: the complete reply, byte for byte
  };
  // Classifies a request on `slot` with `seqid`; on kNew the slot is busy until Finish.
  Start Begin(uint32_t slot, uint32_t seqid);
  // Ends the request Begin accepted on `slot`: keeps `reply` for replay when it is given and
  // fits, else remembers that the reply was not cached.
  void Finish(uint32_t slot, std::optional<std::string> reply);

  uint32_t size() const { return static_cast<uint32_t>(slots_.size()); }
  size_t max_cached_bytes() const { return max_cached_; }

 private:
  struct Slot {
    uint32_t seqid = 0;  // of the last request accepted; a new slot expects 1
    bool busy = false;
    bool used = false;
    std::optional<std::string> reply;
  };
  std::vector<Slot> slots_;
  size_t max_cached_;
};

}  // namespace ovl::nfs4
