#include "nfs4/slot_table.h"

#include <algorithm>

namespace ovl::nfs4 {

SlotTable::SlotTable(uint32_t slots, size_t max_cached_bytes)
    : slots_(std::max<uint32_t>(slots, 1)), max_cached_(max_cached_bytes) {}

SlotTable::Start SlotTable::Begin(uint32_t slot, uint32_t seqid) {
  Start s;
  if (slot >= slots_.size()) return s;
  Slot& sl = slots_[slot];
  if (sl.busy) {
    s.verdict = Verdict::kInUse;
  } else if (seqid == sl.seqid + 1) {  // wraps from 0xffffffff to 0, as RFC 8881 2.10.6.1 says
    sl.seqid = seqid;
    sl.busy = true;
    sl.used = true;
    sl.reply.reset();
    s.verdict = Verdict::kNew;
  } else if (sl.used && seqid == sl.seqid) {
    if (sl.reply) {
      s.verdict = Verdict::kReplay;
      s.cached = *sl.reply;
    } else {
      s.verdict = Verdict::kUncachedReplay;
    }
  } else {
    s.verdict = Verdict::kMisordered;
  }
  return s;
}

void SlotTable::Finish(uint32_t slot, std::optional<std::string> reply) {
  if (slot >= slots_.size()) return;
  Slot& sl = slots_[slot];
  sl.busy = false;
  if (reply && reply->size() <= max_cached_) {
    sl.reply = std::move(reply);
  } else {
    sl.reply.reset();
  }
}

}  // namespace ovl::nfs4
