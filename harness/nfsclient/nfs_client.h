// NfsClient: a synchronous raw NFSv3 + MOUNT v3 client over libnfs's RPC layer, for the harness
// agent's "libnfs" access path and for tests of ovlnfsd.
//
// Handles are raw bytes (std::string) in and out: a caller may hold them across server restarts
// and may send any bytes (truncated, oversize, forged) to probe the server. Every procedure
// returns either a transport error (Status: connection refused, timeout, connection lost, or an
// RPC-level rejection such as GARBAGE_ARGS) or the procedure's reply, whose `status` is the
// nfsstat3 (mountstat3 for MNT) the server sent. A reply is never turned into a Status, so tests
// can tell "the server said STALE" from "the server did not answer".
//
// Thread-compatible: use one NfsClient per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

struct rpc_context;

namespace ovl::nfsclient {

// Status codes for RPC replies that say the call was not executed (RFC 5531). Like kErr* in
// base/status.h they extend errno; transport failures use errno itself: ECONNREFUSED (nothing
// listens), ETIMEDOUT (no reply within the timeout), ECONNRESET (connection lost or broken),
// ENOTCONN (not connected: never connected, or torn down by an earlier failure).
inline constexpr int kErrRpcProgUnavail = 20001;   // accept_stat PROG_UNAVAIL
inline constexpr int kErrRpcProgMismatch = 20002;  // accept_stat PROG_MISMATCH
inline constexpr int kErrRpcProcUnavail = 20003;   // accept_stat PROC_UNAVAIL
inline constexpr int kErrRpcGarbageArgs = 20004;   // accept_stat GARBAGE_ARGS
inline constexpr int kErrRpcSystemErr = 20005;     // accept_stat SYSTEM_ERR
inline constexpr int kErrRpcDenied = 20010;        // MSG_DENIED (RPC version or auth rejected)
inline constexpr int kErrRpcBadReply = 20011;      // the reply could not be decoded

// nfsstat3 values (RFC 1813 2.6) used by callers; any other value may also appear in `status`.
enum Nfsstat3 : uint32_t {
  kNfs3Ok = 0,
  kNfs3ErrPerm = 1,
  kNfs3ErrNoent = 2,
  kNfs3ErrIo = 5,
  kNfs3ErrNxio = 6,
  kNfs3ErrAcces = 13,
  kNfs3ErrExist = 17,
  kNfs3ErrXdev = 18,
  kNfs3ErrNodev = 19,
  kNfs3ErrNotdir = 20,
  kNfs3ErrIsdir = 21,
  kNfs3ErrInval = 22,
  kNfs3ErrFbig = 27,
  kNfs3ErrNospc = 28,
  kNfs3ErrRofs = 30,
  kNfs3ErrMlink = 31,
  kNfs3ErrNametoolong = 63,
  kNfs3ErrNotempty = 66,
  kNfs3ErrDquot = 69,
  kNfs3ErrStale = 70,
  kNfs3ErrRemote = 71,
  kNfs3ErrBadhandle = 10001,
  kNfs3ErrNotSync = 10002,
  kNfs3ErrBadCookie = 10003,
  kNfs3ErrNotsupp = 10004,
  kNfs3ErrToosmall = 10005,
  kNfs3ErrServerfault = 10006,
  kNfs3ErrBadtype = 10007,
  kNfs3ErrJukebox = 10008,
};

// "NFS3ERR_STALE" style name of an nfsstat3, or the number for unknown values.
std::string Nfsstat3Name(uint32_t status);

enum FileType : uint32_t {
  kTypeReg = 1,
  kTypeDir = 2,
  kTypeBlk = 3,
  kTypeChr = 4,
  kTypeLnk = 5,
  kTypeSock = 6,
  kTypeFifo = 7,
};

enum StableHow : uint32_t { kUnstable = 0, kDataSync = 1, kFileSync = 2 };

enum CreateMode : uint32_t { kUnchecked = 0, kGuarded = 1, kExclusive = 2 };

// ACCESS3 bits.
inline constexpr uint32_t kAccessRead = 0x01;
inline constexpr uint32_t kAccessLookup = 0x02;
inline constexpr uint32_t kAccessModify = 0x04;
inline constexpr uint32_t kAccessExtend = 0x08;
inline constexpr uint32_t kAccessDelete = 0x10;
inline constexpr uint32_t kAccessExecute = 0x20;

struct NfsTime {
  uint32_t seconds = 0;
  uint32_t nseconds = 0;
  bool operator==(const NfsTime&) const = default;
};

// fattr3.
struct Fattr {
  uint32_t type = 0;  // FileType
  uint32_t mode = 0;  // permission bits only, as on the wire
  uint32_t nlink = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  uint64_t used = 0;
  uint32_t rdev_major = 0;
  uint32_t rdev_minor = 0;
  uint64_t fsid = 0;
  uint64_t fileid = 0;
  NfsTime atime;
  NfsTime mtime;
  NfsTime ctime;
};

// wcc_attr: the pre-operation attributes of weak cache consistency data.
struct WccAttr {
  uint64_t size = 0;
  NfsTime mtime;
  NfsTime ctime;
};

struct WccData {
  std::optional<WccAttr> before;
  std::optional<Fattr> after;
};

// sattr3: each field set only when present.
enum class SetTime { kDontChange, kServerTime, kClientTime };
struct SetAttrs {
  std::optional<uint32_t> mode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  std::optional<uint64_t> size;
  SetTime atime_how = SetTime::kDontChange;
  NfsTime atime;  // used with kClientTime
  SetTime mtime_how = SetTime::kDontChange;
  NfsTime mtime;  // used with kClientTime
};

// Replies. `status` is the nfsstat3; the other fields are those the server sent for it (the
// resok fields only when status == kNfs3Ok).

struct GetattrRes {
  uint32_t status = 0;
  std::optional<Fattr> attrs;
};

// SETATTR, REMOVE, RMDIR.
struct WccRes {
  uint32_t status = 0;
  WccData wcc;
};

struct LookupRes {
  uint32_t status = 0;
  std::string handle;
  std::optional<Fattr> attrs;
  std::optional<Fattr> dir_attrs;
};

struct AccessRes {
  uint32_t status = 0;
  std::optional<Fattr> attrs;
  uint32_t access = 0;
};

struct ReadlinkRes {
  uint32_t status = 0;
  std::optional<Fattr> attrs;
  std::string target;
};

struct ReadRes {
  uint32_t status = 0;
  std::optional<Fattr> attrs;
  uint32_t count = 0;
  bool eof = false;
  std::string data;
};

struct WriteRes {
  uint32_t status = 0;
  WccData wcc;
  uint32_t count = 0;
  uint32_t committed = 0;  // StableHow
  uint64_t verifier = 0;   // writeverf3, the 8 bytes in wire order
};

// CREATE, MKDIR, SYMLINK, MKNOD.
struct CreateRes {
  uint32_t status = 0;
  std::optional<std::string> handle;  // post_op_fh3: the server may omit it
  std::optional<Fattr> attrs;
  WccData dir_wcc;
};

struct RenameRes {
  uint32_t status = 0;
  WccData from_dir_wcc;
  WccData to_dir_wcc;
};

struct LinkRes {
  uint32_t status = 0;
  std::optional<Fattr> attrs;
  WccData dir_wcc;
};

struct DirEntry {
  uint64_t fileid = 0;
  std::string name;
  uint64_t cookie = 0;
  std::optional<Fattr> attrs;         // READDIRPLUS only
  std::optional<std::string> handle;  // READDIRPLUS only
};

// READDIR and READDIRPLUS.
struct ReaddirRes {
  uint32_t status = 0;
  std::optional<Fattr> dir_attrs;
  uint64_t cookieverf = 0;  // cookieverf3, the 8 bytes in wire order
  std::vector<DirEntry> entries;
  bool eof = false;
};

struct FsstatRes {
  uint32_t status = 0;
  std::optional<Fattr> attrs;
  uint64_t tbytes = 0;
  uint64_t fbytes = 0;
  uint64_t abytes = 0;
  uint64_t tfiles = 0;
  uint64_t ffiles = 0;
  uint64_t afiles = 0;
  uint32_t invarsec = 0;
};

struct FsinfoRes {
  uint32_t status = 0;
  std::optional<Fattr> attrs;
  uint32_t rtmax = 0;
  uint32_t rtpref = 0;
  uint32_t rtmult = 0;
  uint32_t wtmax = 0;
  uint32_t wtpref = 0;
  uint32_t wtmult = 0;
  uint32_t dtpref = 0;
  uint64_t maxfilesize = 0;
  NfsTime time_delta;
  uint32_t properties = 0;
};

struct PathconfRes {
  uint32_t status = 0;
  std::optional<Fattr> attrs;
  uint32_t linkmax = 0;
  uint32_t name_max = 0;
  bool no_trunc = false;
  bool chown_restricted = false;
  bool case_insensitive = false;
  bool case_preserving = false;
};

struct CommitRes {
  uint32_t status = 0;
  WccData wcc;
  uint64_t verifier = 0;  // writeverf3, the 8 bytes in wire order
};

// MOUNT v3 replies.
struct MntRes {
  uint32_t status = 0;  // mountstat3 (0 = MNT3_OK)
  std::string handle;   // the export's root handle
  std::vector<uint32_t> auth_flavors;
};

struct ExportEntry {
  std::string dir;
  std::vector<std::string> groups;
};

class NfsClient {
 public:
  NfsClient();
  ~NfsClient();
  NfsClient(const NfsClient&) = delete;
  NfsClient& operator=(const NfsClient&) = delete;

  // Dials NFS v3 on host:nfs_port and MOUNT v3 on host:mount_port (no portmapper; the two may
  // be equal). Each connection is checked with a NULL call. Drops any earlier connection.
  Status Connect(const std::string& host, uint16_t nfs_port, uint16_t mount_port);
  // Drops both connections and dials the ports of the last Connect() again, e.g. after a server
  // restart. Held handles stay valid on the client side: they are just bytes.
  Status Reconnect();
  // Drops both connections; later calls fail with ENOTCONN until Connect()/Reconnect().
  void Disconnect();
  // True while the NFS connection is up (as far as the client knows).
  bool connected() const { return nfs_ != nullptr; }

  // Per-call limit on the wait for a reply (default 10 s). A call that times out tears its
  // connection down, so a late reply can never be taken for the answer to a later call.
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  // AUTH_SYS credentials for later calls on both connections (default: this process's uid/gid,
  // no supplementary groups). Survives Reconnect().
  void SetCredentials(uint32_t uid, uint32_t gid, std::vector<uint32_t> groups = {});

  // MOUNT v3 (program 100005).
  Status MountNull();
  Result<MntRes> Mnt(const std::string& path);
  Status Umnt(const std::string& path);
  Result<std::vector<ExportEntry>> Export();

  // NULL (procedure 0) of any `program`/`version` on the NFS connection: probes the server's
  // RPC layer (kErrRpcProgUnavail, kErrRpcProgMismatch).
  Status Ping(uint32_t program, uint32_t version);

  // NFS v3 (program 100003), RFC 1813 procedures 0..21.
  Status Null();
  Result<GetattrRes> Getattr(const std::string& fh);
  // `guard_ctime` set: the server applies the change only if the object's ctime equals it.
  Result<WccRes> Setattr(const std::string& fh, const SetAttrs& attrs,
                         std::optional<NfsTime> guard_ctime = std::nullopt);
  Result<LookupRes> Lookup(const std::string& dir, const std::string& name);
  Result<AccessRes> Access(const std::string& fh, uint32_t access);
  Result<ReadlinkRes> Readlink(const std::string& fh);
  Result<ReadRes> Read(const std::string& fh, uint64_t offset, uint32_t count);
  Result<WriteRes> Write(const std::string& fh, uint64_t offset, const std::string& data,
                         StableHow stable);
  // `attrs` is sent for kUnchecked/kGuarded, `verifier` (8 bytes, wire order) for kExclusive.
  Result<CreateRes> Create(const std::string& dir, const std::string& name, CreateMode mode,
                           const SetAttrs& attrs = {}, uint64_t verifier = 0);
  Result<CreateRes> Mkdir(const std::string& dir, const std::string& name,
                          const SetAttrs& attrs = {});
  Result<CreateRes> Symlink(const std::string& dir, const std::string& name,
                            const std::string& target, const SetAttrs& attrs = {});
  // `type` is sent as given (any value, to probe NFS3ERR_BADTYPE); device numbers go with
  // kTypeChr/kTypeBlk, `attrs` with those and kTypeSock/kTypeFifo.
  Result<CreateRes> Mknod(const std::string& dir, const std::string& name, uint32_t type,
                          const SetAttrs& attrs = {}, uint32_t major = 0, uint32_t minor = 0);
  Result<WccRes> Remove(const std::string& dir, const std::string& name);
  Result<WccRes> Rmdir(const std::string& dir, const std::string& name);
  Result<RenameRes> Rename(const std::string& from_dir, const std::string& from_name,
                           const std::string& to_dir, const std::string& to_name);
  Result<LinkRes> Link(const std::string& fh, const std::string& dir, const std::string& name);
  // One page from `cookie` (0 = start); `cookieverf` is the one the previous page returned.
  Result<ReaddirRes> Readdir(const std::string& dir, uint64_t cookie, uint64_t cookieverf,
                             uint32_t count);
  Result<ReaddirRes> Readdirplus(const std::string& dir, uint64_t cookie, uint64_t cookieverf,
                                 uint32_t dircount, uint32_t maxcount);
  Result<FsstatRes> Fsstat(const std::string& fh);
  Result<FsinfoRes> Fsinfo(const std::string& fh);
  Result<PathconfRes> Pathconf(const std::string& fh);
  Result<CommitRes> Commit(const std::string& fh, uint64_t offset, uint32_t count);

 private:
  struct RpcDeleter {
    void operator()(rpc_context* rpc) const;
  };
  using RpcPtr = std::unique_ptr<rpc_context, RpcDeleter>;
  struct Call;

  Result<RpcPtr> Dial(uint16_t port, int program, int version);
  void ApplyCredentials(rpc_context* rpc) const;
  // Sends one call through `call.send` on `conn` and waits for its reply; `call.on_reply` sees
  // the decoded reply. Transport failures and timeouts tear `conn` down.
  Status Run(RpcPtr& conn, Call& call);
  // The waiting half of Run(), for a call already queued on `conn`.
  Status Await(RpcPtr& conn, Call& call);
  // Run() for a procedure whose decoded reply is a `Reply`, turned into an `Out` by
  // `convert(reply, out)`.
  template <typename Reply, typename Out, typename Send, typename Convert>
  Result<Out> Invoke(RpcPtr& conn, std::string what, Send send, Convert convert);

  std::string host_;
  uint16_t nfs_port_ = 0;
  uint16_t mount_port_ = 0;
  std::chrono::milliseconds timeout_{10000};
  uint32_t uid_;
  uint32_t gid_;
  std::vector<uint32_t> groups_;
  RpcPtr nfs_;
  RpcPtr mount_;
};

}  // namespace ovl::nfsclient
