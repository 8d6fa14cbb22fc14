// Planted bugs: deliberate single mistakes that turn ovlnfsd into a negative control, so that a
// check of the harness is seen to fail on a server that is wrong in exactly one way
// (docs/planted-bugs.md lists each with what it breaks and which scenarios catch it). The names
// live here, in the shared base, because both halves need them: ovlnfsd's `--plant NAME` and the
// topology's `plant: NAME` (which must reject a name ovlnfsd would not know).
#pragma once

#include <bitset>
#include <optional>
#include <string_view>
#include <vector>

namespace ovl {

enum class Plant : unsigned {
  // The handle's SipHash tag (docs/handle-format.md) is not verified, so a corrupted handle whose
  // header still parses is decoded: e.g. a lower-origin handle with its layer byte flipped to
  // 0xFF is taken as an upper object, and reads the lower inode's stale data.
  kHandleTagUnchecked,
  // A lookup of a lower file ignores the file's index entry and serves the lower inode, so a
  // lower name of a copied-up file (a lower hard link, one added offline, or a lower file whose
  // upper copy was removed offline) shows the stale lower data while its handle shows the copy.
  kLookupIgnoresIndex,
  // A rename of a merge dir that has no index entry (one an overlay without index copied up,
  // fstests overlay/054) does not index it first, so its handle, and those of the lower dirs
  // below it, decode by a lower path that no longer leads to it: STALE.
  kRenameSkipsMergeDirIndex,
  // Removing the last name of a lower (or copied-up) file leaves no tombstone in the index, so
  // its handle still decodes, by its lower origin, to the file that is gone: a removed file keeps
  // answering (the kernel guards this with its index whiteout).
  kUnlinkLeavesNoTombstone,
  kCount,  // not a plant: the number of plants
};

// The plant's name as written on the command line and in topologies ("handle-tag-unchecked").
std::string_view PlantName(Plant p);
// The plant named `name`, or nullopt.
std::optional<Plant> PlantFromName(std::string_view name);
// Every plant's name, in enum order (for usage texts and error messages).
const std::vector<std::string_view>& PlantNames();

// A set of plants; empty for a correct server.
class Plants {
 public:
  void Add(Plant p) { bits_.set(static_cast<unsigned>(p)); }
  [[nodiscard]] bool Has(Plant p) const { return bits_.test(static_cast<unsigned>(p)); }
  [[nodiscard]] bool empty() const { return bits_.none(); }

 private:
  std::bitset<static_cast<unsigned>(Plant::kCount)> bits_;
};

}  // namespace ovl
