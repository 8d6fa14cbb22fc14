// The MOUNT version 3 program (RFC 1813 appendix I) for the single export: hands out the root
// handle and keeps the informational list of mounts DUMP reports.
#pragma once

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "nfs/export_policy.h"
#include "rpc/program.h"
#include "union/union_fs.h"

namespace ovl::nfs {

inline constexpr uint32_t kMountProgram = 100005;
inline constexpr uint32_t kMountVersion = 3;

enum class MountProc : uint32_t {
  kNull = 0,
  kMnt = 1,
  kDump = 2,
  kUmnt = 3,
  kUmntAll = 4,
  kExport = 5,
};

enum class Mountstat3 : uint32_t {
  kOk = 0,
  kPerm = 1,
  kNoEnt = 2,
  kIo = 5,
  kAcces = 13,
  kNotDir = 20,
  kInval = 22,
  kNameTooLong = 63,
  kNotSupp = 10004,
  kServerFault = 10006,
};

inline constexpr uint32_t kMntPathLen = 1024;

class Mount3Program : public rpc::Program {
 public:
  // `fs` and `policy` must outlive the program.
  Mount3Program(UnionFs* fs, const ExportPolicy* policy) : fs_(fs), policy_(policy) {}

  uint32_t number() const override { return kMountProgram; }
  uint32_t min_version() const override { return kMountVersion; }
  uint32_t max_version() const override { return kMountVersion; }
  // MNT of the export path from an allowed peer answers the root handle and the flavors
  // [AUTH_SYS, AUTH_NONE]; another path is MNT3ERR_NOENT, a peer outside the allow list
  // MNT3ERR_ACCES. DUMP lists (client address, path) of mounts not yet unmounted; EXPORT lists
  // the export path with the allow list (as CIDR strings) for groups.
  rpc::AcceptStat Call(const rpc::CallContext& ctx, xdr::Decoder& args,
                       xdr::Encoder& results) override;

 private:
  rpc::AcceptStat Mnt(const rpc::CallContext& ctx, xdr::Decoder& in, xdr::Encoder& out);
  rpc::AcceptStat Dump(xdr::Encoder& out);
  rpc::AcceptStat Umnt(const rpc::CallContext& ctx, xdr::Decoder& in);
  rpc::AcceptStat Export(xdr::Encoder& out);

  UnionFs* const fs_;
  const ExportPolicy* const policy_;
  std::mutex mu_;
  std::set<std::pair<std::string, std::string>> mounts_;  // (client address, path); guarded by mu_
};

}  // namespace ovl::nfs
