// The durable record of NFSv4 client owners (W/ovlnfsd/nfs4-clients): which clients held state
// before a restart, so that during the next grace period exactly they may reclaim (RFC 8881
// section 8.4.2.1). Written through the FsEnv seam like the union's own durable state, so the
// power-loss double (fs/power_loss_env.h) covers it.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/status.h"
#include "fs/fs_env.h"

namespace ovl::nfs4 {

class ClientRecord {
 public:
  // Opens the record in `work_dir`/ovlnfsd (made by UnionFs::Open) and reads it; a missing
  // record is empty. At most `max_owners` owners are read (a record is never written longer).
  static Result<ClientRecord> Open(FsEnv* env, const std::string& work_dir, size_t max_owners);

  // The owners as of the last start.
  const std::set<std::string>& owners() const { return owners_; }

  // Replaces the record with `owners`, durably: written to a scratch file, fsynced, renamed
  // over the record, and the directory fsynced, so a crash leaves the old or the new list.
  // Not thread-safe: the caller serializes (Nfs4State calls it under its lock).
  Status Write(const std::vector<std::string>& owners);

 private:
  ClientRecord(FsEnv* env, Fd dir) : env_(env), dir_(std::move(dir)) {}
  FsEnv* env_;
  Fd dir_;
  std::set<std::string> owners_;
};

}  // namespace ovl::nfs4
