// The NFS version 4 program, minor versions 1 and 2 (RFC 8881, RFC 7862): NULL and COMPOUND
// over the same UnionFs, handles, export policy and permission checks as NFSv3 (the v3 handle of
// an object and its v4 handle are byte-identical). Sessions with exactly-once slots, open state
// with share reservations, a pseudo-root down to the export path, and a grace period after
// every start in which clients known from before (a durable record in the work dir) reclaim
// their opens. Locks, delegations and layouts are not offered (NFS4ERR_NOTSUPP); minor version 2
// adds no operation (each answers NFS4ERR_NOTSUPP).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "nfs/export_policy.h"
#include "nfs4/client_record.h"
#include "nfs4/fattr4.h"
#include "nfs4/nfs4_xdr.h"
#include "nfs4/pseudo_fs.h"
#include "nfs4/state.h"
#include "rpc/program.h"
#include "union/union_fs.h"

namespace ovl::nfs4 {

struct Nfs4Options {
  Limits limits;
  // Where the client record lives (W/ovlnfsd/nfs4-clients); empty: no record (every start is
  // a first start), for tests that need none.
  std::string work_dir;
  FsEnv* env = nullptr;  // nullptr = DefaultFsEnv()
  // Distinct at every start; 0 picks a random one.
  uint32_t boot_tag = 0;
  // Monotonic milliseconds; unset = CLOCK_MONOTONIC.
  std::function<int64_t()> clock;
};

class Nfs4Program : public rpc::Program {
 public:
  // `fs` and `policy` must outlive the program. `write_verifier` is what WRITE and COMMIT
  // return (the same as the v3 program's). Fails when the client record cannot be read.
  static Result<std::unique_ptr<Nfs4Program>> Create(UnionFs* fs, const nfs::ExportPolicy* policy,
                                                     const Verifier& write_verifier,
                                                     Nfs4Options options);

  uint32_t number() const override { return 100003; }
  uint32_t min_version() const override { return kNfs4Version; }
  uint32_t max_version() const override { return kNfs4Version; }
  // NULL and COMPOUND. A COMPOUND whose header cannot be decoded is answered NFS4ERR_BADXDR
  // with no results; arguments of an operation that cannot be decoded stop the compound with
  // NFS4ERR_BADXDR. Peers outside the allow list get NFS4ERR_ACCESS.
  rpc::AcceptStat Call(const rpc::CallContext& ctx, xdr::Decoder& args,
                       xdr::Encoder& results) override;

  Nfs4State& state() { return *state_; }

 private:
  // The current (or saved) filehandle of a compound.
  struct Fh {
    enum class Kind : uint8_t { kNone, kPseudo, kUnion } kind = Kind::kNone;
    uint32_t depth = 0;  // kPseudo
    Node node;           // kUnion
  };
  struct Compound {
    const rpc::CallContext* ctx = nullptr;
    Cred cred;
    uint32_t minor = 1;
    Fh cur, saved;
    std::optional<Stateid> current_stateid;
    bool in_session = false;
    uint64_t clientid = 0;
    ChannelAttrs fore;
    bool last_op = false;    // the operation running is the compound's last
    bool used_tail = false;  // a READ left its data in the encoder's tail
  };
  using Handler = Nfsstat4 (Nfs4Program::*)(Compound&, xdr::Decoder&, xdr::Encoder&);

  Nfs4Program(UnionFs* fs, const nfs::ExportPolicy* policy, const Verifier& write_verifier,
              std::unique_ptr<PseudoFs> pseudo, std::unique_ptr<ClientRecord> record,
              const Nfs4Options& options);

  rpc::AcceptStat RunCompound(const rpc::CallContext& ctx, xdr::Decoder& in, xdr::Encoder& out);
  // Runs the operations after the first (already run), stopping at the first failure; returns
  // the status of the last one run and counts results in `*count`.
  Nfsstat4 RunOps(Compound& c, uint32_t numops, xdr::Decoder& in, xdr::Encoder& out,
                  uint32_t* count);
  // Encodes one operation's result: its number, status, and whatever the handler wrote.
  Nfsstat4 RunOp(Compound& c, uint32_t op, xdr::Decoder& in, xdr::Encoder& out);
  // The handler of `op` in `minor`, or nullptr for OP_ILLEGAL. `*notsupp` for operations this
  // server does not offer.
  Handler HandlerOf(uint32_t op, uint32_t minor, bool* notsupp) const;
  // The first operation of a compound when it is not SEQUENCE.
  Nfsstat4 RunSessionless(Compound& c, uint32_t op, uint32_t numops, xdr::Decoder& in,
                          xdr::Encoder& out);

  // nfs4_session_ops.cc.
  Nfsstat4 ExchangeId(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 CreateSession(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 DestroySession(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 DestroyClientId(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 BindConnToSession(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 ReclaimComplete(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  // SEQUENCE anywhere but first: NFS4ERR_SEQUENCE_POS.
  Nfsstat4 SequenceInside(Compound& c, xdr::Decoder& in, xdr::Encoder& out);

  // nfs4_fh_ops.cc: filehandles, lookups and attributes.
  Nfsstat4 PutFh(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 PutRootFh(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 GetFh(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 SaveFh(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 RestoreFh(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 Lookup(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 LookupP(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 GetAttr(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 Verify(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 NVerify(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 Access(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 ReadLink(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 ReadDir(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 SecInfo(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 SecInfoNoName(Compound& c, xdr::Decoder& in, xdr::Encoder& out);

  // nfs4_file_ops.cc: open state and file data.
  Nfsstat4 Open(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 OpenDowngrade(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 Close(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 Read(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 Write(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 Commit(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 SetAttr(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 TestStateid(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 FreeStateid(Compound& c, xdr::Decoder& in, xdr::Encoder& out);

  // What OPEN names: a file in the current directory, made if `create` says so.
  struct OpenRequest {
    std::string name;
    bool create = false;
    uint32_t createmode = 0;  // createmode4
    const SetAttrs* attrs = nullptr;
    Verifier verf{};
  };
  // Finds or makes the file of an OPEN with CLAIM_NULL. `created` when this call made it;
  // `attrset` the attributes applied; `before`/`after` the directory's change attribute.
  Nfsstat4 OpenTarget(Compound& c, const OpenRequest& r, Node* file, bool* created,
                      Bitmap4* attrset, uint64_t* before, uint64_t* after);
  // The regular file of a READ or WRITE (`access`: kShareRead or kShareWrite), with its stateid
  // checked and, for a special stateid, the caller's permission.
  Nfsstat4 IoTarget(Compound& c, const Stateid& sid, uint32_t access, Node* node, Attr* attr);
  // SETATTR's work once its arguments are decoded.
  Nfsstat4 SetAttrOf(Compound& c, const Stateid& sid, SetAttrs& attrs);

  // nfs4_namespace_ops.cc: names made and removed.
  Nfsstat4 CreateObj(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 Remove(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 Rename(Compound& c, xdr::Decoder& in, xdr::Encoder& out);
  Nfsstat4 Link(Compound& c, xdr::Decoder& in, xdr::Encoder& out);

  // Helpers (nfs4_fh_ops.cc).
  // The union object of the current filehandle: kNoFileHandle without one, `pseudo_status`
  // for a pseudo directory.
  Nfsstat4 CurrentNode(const Compound& c, Nfsstat4 pseudo_status, Node* out) const;
  // Attributes of a filehandle (a pseudo directory's are made up).
  Result<Attr> AttrOfFh(const Fh& fh);
  // The fattr4 of `fh` with the `requested` attributes; `known`: its attributes when the caller
  // has just read them (READDIR's entries).
  Nfsstat4 EncodeAttrs(const Fh& fh, const Bitmap4& requested, xdr::Encoder& out,
                       const Attr* known = nullptr);
  // LOOKUP of `name` in the current filehandle, which it replaces.
  Nfsstat4 LookupName(Compound& c, const std::string& name);
  // Decodes a handle as PUTFH does.
  Nfsstat4 DecodeFh(const Handle& h, Fh* out);
  // The current filehandle as a directory `cred` may change (W and X): kNotDir, kAccess,
  // kRofs (read-only export or a pseudo directory). `pre` gets its attributes.
  Nfsstat4 WritableDir(const Compound& c, const Fh& fh, Node* dir, Attr* pre);
  // WritableDir, and the directory must be one the caller may change (W and X).
  Nfsstat4 ChangingDir(const Compound& c, const Fh& fh, Node* dir, Attr* pre);
  // The change attribute of `dir` now (`pre`'s when it cannot be read).
  uint64_t ChangeAfter(const Node& dir, const Attr& pre);
  // A compound's current stateid when `s` is the special "current" one.
  static Stateid Resolve(const Compound& c, const Stateid& s);

  UnionFs* const fs_;
  const nfs::ExportPolicy* const policy_;
  const Verifier write_verifier_;
  const std::unique_ptr<PseudoFs> pseudo_;
  const std::unique_ptr<ClientRecord> record_;
  std::unique_ptr<Nfs4State> state_;
  // The server's owner and scope in EXCHANGE_ID: the export UUID, which survives restarts, so a
  // client knows it may reclaim here.
  std::string server_owner_;
};

}  // namespace ovl::nfs4
