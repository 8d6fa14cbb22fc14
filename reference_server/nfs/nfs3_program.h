// The NFS version 3 program (RFC 1813): decodes each call's arguments, checks the caller against
// the export policy and POSIX permissions, runs the operation on the UnionFs and encodes the
// reply, including the weak cache consistency data the RFC asks for.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nfs/export_policy.h"
#include "nfs/nfs3_xdr.h"
#include "rpc/program.h"
#include "union/union_fs.h"

namespace ovl::nfs {

// Server limits reported by FSINFO and applied to READ, WRITE and READDIR.
inline constexpr uint32_t kMaxIoSize = 1024 * 1024;
inline constexpr uint32_t kIoMultiple = 4096;
inline constexpr uint32_t kDirPref = 64 * 1024;
// PATHCONF linkmax: the limit of ext4, the usual upper filesystem (the union does not expose
// the layers' own limit).
inline constexpr uint32_t kLinkMax = 65000;

class Nfs3Program : public rpc::Program {
 public:
  // `fs` and `policy` must outlive the program. `write_verifier` is what WRITE and COMMIT
  // return; it must differ on every server start so clients detect lost unstable writes.
  Nfs3Program(UnionFs* fs, const ExportPolicy* policy, std::array<uint8_t, 8> write_verifier);

  uint32_t number() const override { return kNfsProgram; }
  uint32_t min_version() const override { return kNfsVersion; }
  uint32_t max_version() const override { return kNfsVersion; }
  // Runs one NFSv3 call. Peers outside the allow list get NFS3ERR_ACCES on every procedure but
  // NULL; modifying procedures on a read-only export get NFS3ERR_ROFS.
  rpc::AcceptStat Call(const rpc::CallContext& ctx, xdr::Decoder& args,
                       xdr::Encoder& results) override;

 private:
  using Handler = rpc::AcceptStat (Nfs3Program::*)(const Cred&, xdr::Decoder&, xdr::Encoder&);
  struct ProcEntry {
    Handler handler;
    // Words of "nothing follows" in the procedure's failure body when no attributes are known:
    // how the policy refusals in Call encode their reply without decoding arguments.
    uint8_t failure_words;
    bool modifies;
  };
  static const std::array<ProcEntry, kNfs3ProcCount> kProcs;
  // What the procedure handlers return: a reply to send, or undecodable arguments.
  static constexpr rpc::AcceptStat kSuccess = rpc::AcceptStat::kSuccess;
  static constexpr rpc::AcceptStat kGarbage = rpc::AcceptStat::kGarbageArgs;

  // nfs3_program.cc: attribute, file data and file system procedures.
  rpc::AcceptStat Null(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out);
  rpc::AcceptStat GetAttr(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out);
  rpc::AcceptStat SetAttr(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out);
  rpc::AcceptStat Access(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out);
  rpc::AcceptStat ReadLink(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out);
  rpc::AcceptStat Read(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out);
  rpc::AcceptStat Write(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out);
  rpc::AcceptStat Commit(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out);
  rpc::AcceptStat FsStat(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out);
  rpc::AcceptStat FsInfo(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out);
  rpc::AcceptStat PathConf(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out);

  // nfs3_namespace.cc: procedures that look up, create or remove names.
  rpc::AcceptStat Lookup(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out);
  rpc::AcceptStat Create(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out);
  rpc::AcceptStat MkDir(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out);
  rpc::AcceptStat Symlink(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out);
  rpc::AcceptStat MkNod(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out);
  rpc::AcceptStat Remove(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out);
  rpc::AcceptStat RmDir(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out);
  rpc::AcceptStat Rename(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out);
  rpc::AcceptStat Link(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out);

  // nfs3_readdir.cc.
  rpc::AcceptStat ReadDir(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out);
  rpc::AcceptStat ReadDirPlus(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out);

  // Attributes of `node`, or nothing when they cannot be read (post-op data is best effort).
  std::optional<Attr> AttrOf(const Node& node);
  // Decodes `handle` and reads its attributes.
  Result<std::pair<Node, Attr>> Resolve(const Handle& handle);
  // How a procedure's failure reply carries the attributes of the object it was called on.
  enum class FailureAttrs { kPostOp, kWcc };
  // Resolve for a procedure handler. When `handle` does not resolve, encodes the whole failure
  // reply (the status, then an empty post_op_attr or wcc_data as `attrs` says) and returns
  // nothing: the handler then returns kSuccess. Encodes nothing when it resolves.
  std::optional<std::pair<Node, Attr>> ResolveOrEncodeFailure(const Handle& handle,
                                                              FailureAttrs attrs,
                                                              xdr::Encoder& out);
  // As ResolveOrEncodeFailure with kPostOp, and when `handle` resolves also encodes the start
  // of the success reply: NFS3_OK and the object's post_op_attr.
  std::optional<std::pair<Node, Attr>> ResolveAndEncodeAttr(const Handle& handle,
                                                            xdr::Encoder& out);
  // Decodes `handle` as a directory the caller may change (W and X), returning its node and the
  // pre-operation attributes. `pre` is filled whenever the attributes could be read.
  Result<Node> ResolveWritableDir(const Handle& handle, const Cred& cred, std::optional<Attr>* pre);
  // Shared body of CREATE, MKDIR, SYMLINK and MKNOD: checks `where`, runs `make` in the
  // directory, applies `attrs` to what it made (nfs/namespace_checks.h: ApplyInitialAttrs; a
  // failure there is the reply's status) and encodes the diropres3 reply.
  rpc::AcceptStat CreateCommon(const Cred& cred, const DirOpArgs3& where,
                               const SetAttrRequest& attrs,
                               const std::function<Result<Node>(const Node& dir)>& make,
                               xdr::Encoder& out);
  // Shared body of REMOVE and RMDIR.
  rpc::AcceptStat RemoveCommon(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out,
                               bool directory);
  // The "." (cookie 1) and ".." (cookie 2) entries a listing resuming after `cookie` starts
  // with: the union lists only real entries, and clients expect these two like from any
  // POSIX directory.
  Result<std::vector<DirEntryPlus>> DotEntries(const Node& dir, const Attr& dir_attr,
                                               uint64_t cookie, bool plus);
  // Shared body of READDIR and READDIRPLUS.
  rpc::AcceptStat ReadDirCommon(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out, bool plus);

  UnionFs* const fs_;
  const ExportPolicy* const policy_;
  const std::array<uint8_t, 8> write_verifier_;
};

// Validates a name a procedure is about to use. `creating` is for names that must designate a
// new or removable entry, where "", "." and ".." are EINVAL; for a lookup "" is ENOENT and
// "."/".." are allowed. '/' or NUL give EACCES, more than 255 bytes ENAMETOOLONG.
Status CheckName(const std::string& name, bool creating);

}  // namespace ovl::nfs
