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
  // Copy-up does not set trusted.overlay.origin on the copy, so the upper name no longer tells
  // which lower object it is: a lookup by name gives the copy a new (upper) identity, another
  // handle and fileid than the held one, which still decodes through the index.
  kCopyUpRecordsNoOrigin,
  // Copy-up copies the data only up to the last whole 4 KiB block: the tail of a file whose size
  // is not a multiple of it (all of a smaller file) is lost, and the copy is that much shorter.
  kCopyUpDropsTail,
  // A copied-up file reports its upper inode's own link count, which counts the index entry
  // (and any holding link), instead of the union's count kept in trusted.overlay.nlink: a file
  // with one name shows nlink 2 once it is copied up.
  kCopyUpNlinkFromUpper,
  // A rename of a directory that merges lower dirs sets no trusted.overlay.redirect, so at its
  // new name it merges the lower dirs of that name (none): its lower entries vanish, and the
  // handles of lower dirs below it, which decode through their union path, go STALE.
  kRenameSkipsRedirect,
  // Removing a name that exists only in a lower layer leaves no whiteout over it: only the
  // index hides it, which it does for the last name of a file (the tombstone) but not for one of
  // several hard links or for a directory, whose name comes back after REMOVE or RMDIR.
  kRemoveLeavesNoWhiteout,
  // REMOVE does not drop the removed object from the decode cache, so its handle keeps
  // resolving, to the removed file's data, until an eviction or restart (a removed lower file's
  // inode is still there in its layer).
  kRemoveKeepsCachedHandle,
  // CREATE EXCLUSIVE does not store the client's verifier with the file, so a retransmitted
  // create (after a restart, or a lost reply) gets EXIST instead of the file it made.
  kExclusiveVerifierNotPersisted,
  // CREATE, MKDIR, SYMLINK and MKNOD do not fsync the parent directory after the new entry is
  // renamed into it (a directory made over a whiteout excepted: its exchange is synced on its
  // own): the reply claims a durable change that a power cut undoes. Only a power loss shows it
  // (reference_server/union/crash_test.cc).
  kCreateSkipsDirFsync,
  // READDIR cookies are the entry's position in the merged listing (with a constant cookie
  // verifier), so a change to the directory before the position a client resumes at shifts
  // the entries under it: a resumed listing repeats or skips entries.
  kReaddirCookieIsPosition,
  // The write verifier is derived from the export's UUID, so it is the same after every
  // restart: a client cannot tell that the server lost the UNSTABLE writes it has not committed.
  kWriteVerifierConstant,
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
