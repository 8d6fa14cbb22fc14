#include "nfsclient/nfs_client.h"

// libnfs headers must come in this order: each relies on macros of the previous one.
// clang-format off
#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-mount.h>
#include <nfsc/libnfs-raw-nfs.h>
// clang-format on
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <functional>
#include <utility>

namespace ovl::nfsclient {

namespace {

// Largest errno Linux defines; a larger number in a libnfs message is not an errno.
constexpr int kMaxErrno = 4095;

nfs_fh3 Fh(const std::string& bytes) {
  nfs_fh3 fh{};
  fh.data.data_len = static_cast<u_int>(bytes.size());
  // libnfs only reads the handle while encoding the call.
  fh.data.data_val = const_cast<char*>(bytes.data());
  return fh;
}

char* Name(const std::string& name) {
  return const_cast<char*>(name.c_str());
}

std::string FromFh(const nfs_fh3& fh) {
  return std::string(fh.data.data_val, fh.data.data_len);
}

uint64_t From8(const char* bytes) {
  uint64_t v;
  std::memcpy(&v, bytes, sizeof(v));
  return v;
}

NfsTime FromTime(const nfstime3& t) {
  return NfsTime{t.seconds, t.nseconds};
}

Fattr FromFattr(const fattr3& a) {
  Fattr f;
  f.type = a.type;
  f.mode = a.mode;
  f.nlink = a.nlink;
  f.uid = a.uid;
  f.gid = a.gid;
  f.size = a.size;
  f.used = a.used;
  f.rdev_major = a.rdev.specdata1;
  f.rdev_minor = a.rdev.specdata2;
  f.fsid = a.fsid;
  f.fileid = a.fileid;
  f.atime = FromTime(a.atime);
  f.mtime = FromTime(a.mtime);
  f.ctime = FromTime(a.ctime);
  return f;
}

std::optional<Fattr> FromPostOp(const post_op_attr& a) {
  if (!a.attributes_follow) return std::nullopt;
  return FromFattr(a.post_op_attr_u.attributes);
}

WccData FromWcc(const wcc_data& w) {
  WccData out;
  if (w.before.attributes_follow) {
    const wcc_attr& b = w.before.pre_op_attr_u.attributes;
    out.before = WccAttr{b.size, FromTime(b.mtime), FromTime(b.ctime)};
  }
  out.after = FromPostOp(w.after);
  return out;
}

std::optional<std::string> FromPostOpFh(const post_op_fh3& fh) {
  if (!fh.handle_follows) return std::nullopt;
  return FromFh(fh.post_op_fh3_u.handle);
}

// A copy of the list node at `node`. libnfs 4.0 decodes linked lists (exportnode, groupnode,
// entry3, entryplus3) into nodes that need not be aligned for their 64-bit fields and pointers,
// so reading a field in place is undefined behaviour (UBSan stops the agent there); a memcpy
// into an aligned local is not.
template <typename Node>
Node CopyNode(const Node* node) {
  Node copy;
  std::memcpy(&copy, node, sizeof copy);
  return copy;
}

DirEntry Entry(uint64_t fileid, const char* name, uint64_t cookie) {
  DirEntry entry;
  entry.fileid = fileid;
  if (name != nullptr) entry.name = name;
  entry.cookie = cookie;
  return entry;
}

time_how ToTimeHow(SetTime how) {
  switch (how) {
    case SetTime::kServerTime:
      return SET_TO_SERVER_TIME;
    case SetTime::kClientTime:
      return SET_TO_CLIENT_TIME;
    case SetTime::kDontChange:
      break;
  }
  return DONT_CHANGE;
}

sattr3 ToSattr(const SetAttrs& a) {
  sattr3 s{};
  if (a.mode) {
    s.mode.set_it = 1;
    s.mode.set_mode3_u.mode = *a.mode;
  }
  if (a.uid) {
    s.uid.set_it = 1;
    s.uid.set_uid3_u.uid = *a.uid;
  }
  if (a.gid) {
    s.gid.set_it = 1;
    s.gid.set_gid3_u.gid = *a.gid;
  }
  if (a.size) {
    s.size.set_it = 1;
    s.size.set_size3_u.size = *a.size;
  }
  s.atime.set_it = ToTimeHow(a.atime_how);
  s.atime.set_atime_u.atime = nfstime3{a.atime.seconds, a.atime.nseconds};
  s.mtime.set_it = ToTimeHow(a.mtime_how);
  s.mtime.set_mtime_u.mtime = nfstime3{a.mtime.seconds, a.mtime.nseconds};
  return s;
}

// The errno inside a libnfs message such as "connect() to server failed. Connection
// refused(111)", or `fallback` when there is none.
int ErrnoIn(const std::string& message, int fallback) {
  size_t close = message.rfind(')');
  size_t open = message.rfind('(', close);
  if (close == std::string::npos || open == std::string::npos || close == open + 1) {
    return fallback;
  }
  int value = 0;
  for (size_t i = open + 1; i < close; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(message[i]))) return fallback;
    value = value * 10 + (message[i] - '0');
    if (value > kMaxErrno) return fallback;
  }
  return value > 0 ? value : fallback;
}

// Maps a libnfs callback error string to an RPC-level code (the server answered: the
// connection is fine), or 0 when it is a transport failure. libnfs 4.0 reports the reply's
// accept_stat only through these fixed strings (lib/pdu.c, rpc_process_reply).
int RpcCodeOf(const std::string& error) {
  static const std::pair<const char*, int> kCodes[] = {
      {"Program not available", kErrRpcProgUnavail},
      {"Program version mismatch", kErrRpcProgMismatch},
      {"Procedure not available", kErrRpcProcUnavail},
      {"Garbage arguments", kErrRpcGarbageArgs},
      {"System Error", kErrRpcSystemErr},
      {"not accepted by the server", kErrRpcDenied},
      {"Message rejected by server", kErrRpcBadReply},
      {"Unknown rpc response", kErrRpcBadReply},
  };
  for (const auto& [text, code] : kCodes) {
    if (error.find(text) != std::string::npos) return code;
  }
  return 0;
}

std::string ErrorOf(rpc_context* rpc) {
  const char* e = rpc_get_error(rpc);
  return e != nullptr ? e : "unknown libnfs error";
}

}  // namespace

std::string Nfsstat3Name(uint32_t status) {
  switch (status) {
    case kNfs3Ok:
      return "NFS3_OK";
    case kNfs3ErrPerm:
      return "NFS3ERR_PERM";
    case kNfs3ErrNoent:
      return "NFS3ERR_NOENT";
    case kNfs3ErrIo:
      return "NFS3ERR_IO";
    case kNfs3ErrNxio:
      return "NFS3ERR_NXIO";
    case kNfs3ErrAcces:
      return "NFS3ERR_ACCES";
    case kNfs3ErrExist:
      return "NFS3ERR_EXIST";
    case kNfs3ErrXdev:
      return "NFS3ERR_XDEV";
    case kNfs3ErrNodev:
      return "NFS3ERR_NODEV";
    case kNfs3ErrNotdir:
      return "NFS3ERR_NOTDIR";
    case kNfs3ErrIsdir:
      return "NFS3ERR_ISDIR";
    case kNfs3ErrInval:
      return "NFS3ERR_INVAL";
    case kNfs3ErrFbig:
      return "NFS3ERR_FBIG";
    case kNfs3ErrNospc:
      return "NFS3ERR_NOSPC";
    case kNfs3ErrRofs:
      return "NFS3ERR_ROFS";
    case kNfs3ErrMlink:
      return "NFS3ERR_MLINK";
    case kNfs3ErrNametoolong:
      return "NFS3ERR_NAMETOOLONG";
    case kNfs3ErrNotempty:
      return "NFS3ERR_NOTEMPTY";
    case kNfs3ErrDquot:
      return "NFS3ERR_DQUOT";
    case kNfs3ErrStale:
      return "NFS3ERR_STALE";
    case kNfs3ErrRemote:
      return "NFS3ERR_REMOTE";
    case kNfs3ErrBadhandle:
      return "NFS3ERR_BADHANDLE";
    case kNfs3ErrNotSync:
      return "NFS3ERR_NOT_SYNC";
    case kNfs3ErrBadCookie:
      return "NFS3ERR_BAD_COOKIE";
    case kNfs3ErrNotsupp:
      return "NFS3ERR_NOTSUPP";
    case kNfs3ErrToosmall:
      return "NFS3ERR_TOOSMALL";
    case kNfs3ErrServerfault:
      return "NFS3ERR_SERVERFAULT";
    case kNfs3ErrBadtype:
      return "NFS3ERR_BADTYPE";
    case kNfs3ErrJukebox:
      return "NFS3ERR_JUKEBOX";
  }
  return "nfsstat3(" + std::to_string(status) + ")";
}

// One outstanding call: how to send it, what to do with the decoded reply, and what the libnfs
// callback reported.
struct NfsClient::Call {
  using SendFn = std::function<int(rpc_context*, rpc_cb, void*)>;
  using ReplyFn = std::function<void(void*)>;

  explicit Call(std::string what_in, SendFn send_in = {}, ReplyFn on_reply_in = {})
      : what(std::move(what_in)), send(std::move(send_in)), on_reply(std::move(on_reply_in)) {}

  std::string what;
  SendFn send;
  ReplyFn on_reply;         // empty for procedures without results
  bool connecting = false;  // a TCP connect, not an RPC
  bool done = false;
  int rpc_status = RPC_STATUS_SUCCESS;
  std::string error;

  // The libnfs callback. The decoded reply lives only until it returns, so results are
  // converted here.
  static void OnReply(rpc_context* /*rpc*/, int status, void* data, void* private_data) {
    auto* call = static_cast<Call*>(private_data);
    call->done = true;
    call->rpc_status = status;
    if (status == RPC_STATUS_SUCCESS) {
      if (!call->on_reply) return;
      if (data == nullptr) {
        call->rpc_status = RPC_STATUS_ERROR;
        call->error = "Message rejected by server: no reply body";
        return;
      }
      call->on_reply(data);
    } else if (status == RPC_STATUS_ERROR && data != nullptr) {
      call->error = static_cast<const char*>(data);
    } else if (status == RPC_STATUS_CANCEL) {
      call->error = "call cancelled";
    }
  }
};

void NfsClient::RpcDeleter::operator()(rpc_context* rpc) const {
  rpc_destroy_context(rpc);
}

NfsClient::NfsClient() : uid_(getuid()), gid_(getgid()) {}

NfsClient::~NfsClient() = default;

void NfsClient::ApplyCredentials(rpc_context* rpc) const {
  std::vector<uint32_t> groups = groups_;
  // libnfs copies the groups into the credential it encodes.
  rpc_set_auth(rpc, libnfs_authunix_create("ovl-nfsclient", uid_, gid_,
                                           static_cast<uint32_t>(groups.size()), groups.data()));
}

void NfsClient::SetCredentials(uint32_t uid, uint32_t gid, std::vector<uint32_t> groups) {
  uid_ = uid;
  gid_ = gid;
  groups_ = std::move(groups);
  if (nfs_) ApplyCredentials(nfs_.get());
  if (mount_) ApplyCredentials(mount_.get());
}

Status NfsClient::Run(RpcPtr& conn, Call& call) {
  if (!conn) return Status::Error(ENOTCONN, call.what + ": not connected");
  if (call.send(conn.get(), &Call::OnReply, &call) != 0) {
    // Nothing was queued (the arguments could not be encoded): the connection is intact.
    return Status::Error(EINVAL, call.what + ": cannot send: " + ErrorOf(conn.get()));
  }
  return Await(conn, call);
}

Status NfsClient::Await(RpcPtr& conn, Call& call) {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  bool broken = false;
  std::string broken_why;
  while (!call.done) {
    auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      // Destroying the context cancels the call (the callback runs now, not later).
      conn.reset();
      return Status::Error(
          ETIMEDOUT, call.what + ": no reply within " + std::to_string(timeout_.count()) + " ms");
    }
    pollfd pfd{rpc_get_fd(conn.get()), static_cast<short>(rpc_which_events(conn.get())), 0};
    int n = poll(&pfd, 1, static_cast<int>(left.count()));
    if (n < 0) {
      if (errno == EINTR) continue;
      Status st = Status::FromErrno(call.what + ": poll");
      conn.reset();
      return st;
    }
    if (n == 0) continue;
    if (call.connecting && (pfd.revents & (POLLERR | POLLHUP)) != 0) {
      // libnfs reports a failed connect as a generic POLLHUP; the socket knows the real cause
      // (ECONNREFUSED: nothing listens there). libnfs still has to see the failure: its
      // connect callback frees what rpc_connect_port_async allocated, and destroying the
      // context does not.
      int so_error = 0;
      socklen_t len = sizeof(so_error);
      if (getsockopt(pfd.fd, SOL_SOCKET, SO_ERROR, &so_error, &len) == 0 && so_error != 0) {
        (void)rpc_service(conn.get(), pfd.revents);
        conn.reset();
        return Status::Error(so_error, call.what + ": connect failed");
      }
    }
    if (rpc_service(conn.get(), pfd.revents) < 0) {
      broken = true;
      broken_why = ErrorOf(conn.get());
      break;
    }
  }
  if (broken) {
    conn.reset();
    std::string why = call.error.empty() ? broken_why : call.error;
    return Status::Error(ErrnoIn(why, ECONNRESET), call.what + ": connection lost: " + why);
  }
  if (call.rpc_status == RPC_STATUS_SUCCESS) return Status::Ok();
  if (int code = RpcCodeOf(call.error); code != 0) {
    return Status::Error(code, call.what + ": " + call.error);
  }
  // Anything else means the socket is gone. Tear it down so that later calls fail fast and the
  // caller decides when to Reconnect().
  conn.reset();
  return Status::Error(ErrnoIn(call.error, ECONNRESET), call.what + ": " + call.error);
}

Result<NfsClient::RpcPtr> NfsClient::Dial(uint16_t port, int program, int version) {
  RpcPtr rpc(rpc_init_context());
  if (!rpc) return Status::Error(ENOMEM, "rpc_init_context failed");
  ApplyCredentials(rpc.get());
  std::string where = host_ + ":" + std::to_string(port);
  Call connect("connect " + where);
  connect.connecting = true;
  if (rpc_connect_port_async(rpc.get(), host_.c_str(), port, program, version, &Call::OnReply,
                             &connect) != 0) {
    std::string why = ErrorOf(rpc.get());
    return Status::Error(ErrnoIn(why, EINVAL), connect.what + ": " + why);
  }
  OVL_RETURN_IF_ERROR(Await(rpc, connect));
  // Proves that `program` answers on this port (a MOUNT port that is really an NFS port
  // answers PROG_UNAVAIL here, not at the first MNT).
  Call ping("NULL " + std::to_string(program) + " on " + where,
            [&](rpc_context* c, rpc_cb cb, void* p) {
              return rpc_null_async(c, program, version, cb, p);
            });
  OVL_RETURN_IF_ERROR(Run(rpc, ping));
  return rpc;
}

Status NfsClient::Connect(const std::string& host, uint16_t nfs_port, uint16_t mount_port) {
  host_ = host;
  nfs_port_ = nfs_port;
  mount_port_ = mount_port;
  return Reconnect();
}

Status NfsClient::Reconnect() {
  Disconnect();
  if (host_.empty()) return Status::Error(ENOTCONN, "Reconnect before Connect");
  OVL_ASSIGN_OR_RETURN(RpcPtr mount, Dial(mount_port_, MOUNT_PROGRAM, MOUNT_V3));
  OVL_ASSIGN_OR_RETURN(RpcPtr nfs, Dial(nfs_port_, NFS_PROGRAM, NFS_V3));
  mount_ = std::move(mount);
  nfs_ = std::move(nfs);
  return Status::Ok();
}

void NfsClient::Disconnect() {
  nfs_.reset();
  mount_.reset();
}

// Runs one call whose reply is a `Reply`, converted into an `Out` by `convert(reply, out)`.
template <typename Reply, typename Out, typename Send, typename Convert>
Result<Out> NfsClient::Invoke(RpcPtr& conn, std::string what, Send send, Convert convert) {
  Out out;
  Call call(std::move(what), std::move(send),
            [&](void* data) { convert(*static_cast<Reply*>(data), out); });
  OVL_RETURN_IF_ERROR(Run(conn, call));
  return out;
}

Status NfsClient::MountNull() {
  Call call("MOUNT NULL",
            [](rpc_context* c, rpc_cb cb, void* p) { return rpc_mount3_null_async(c, cb, p); });
  return Run(mount_, call);
}

Result<MntRes> NfsClient::Mnt(const std::string& path) {
  return Invoke<mountres3, MntRes>(
      mount_, "MNT " + path,
      [&](rpc_context* c, rpc_cb cb, void* p) {
        return rpc_mount3_mnt_async(c, cb, Name(path), p);
      },
      [](const mountres3& r, MntRes& out) {
        out.status = r.fhs_status;
        if (r.fhs_status != MNT3_OK) return;
        const mountres3_ok& ok = r.mountres3_u.mountinfo;
        out.handle.assign(ok.fhandle.fhandle3_val, ok.fhandle.fhandle3_len);
        for (u_int i = 0; i < ok.auth_flavors.auth_flavors_len; ++i) {
          out.auth_flavors.push_back(static_cast<uint32_t>(ok.auth_flavors.auth_flavors_val[i]));
        }
      });
}

Status NfsClient::Umnt(const std::string& path) {
  Call call("UMNT " + path, [&](rpc_context* c, rpc_cb cb, void* p) {
    return rpc_mount3_umnt_async(c, cb, Name(path), p);
  });
  return Run(mount_, call);
}

Result<std::vector<ExportEntry>> NfsClient::Export() {
  return Invoke<exports, std::vector<ExportEntry>>(
      mount_, "EXPORT",
      [](rpc_context* c, rpc_cb cb, void* p) { return rpc_mount3_export_async(c, cb, p); },
      [](const exports& list, std::vector<ExportEntry>& out) {
        for (const exportnode* at = list; at != nullptr;) {
          const exportnode e = CopyNode(at);
          ExportEntry entry;
          if (e.ex_dir != nullptr) entry.dir = e.ex_dir;
          for (const groupnode* g_at = e.ex_groups; g_at != nullptr;) {
            const groupnode g = CopyNode(g_at);
            entry.groups.emplace_back(g.gr_name != nullptr ? g.gr_name : "");
            g_at = g.gr_next;
          }
          out.push_back(std::move(entry));
          at = e.ex_next;
        }
      });
}

Status NfsClient::Ping(uint32_t program, uint32_t version) {
  Call call("NULL of program " + std::to_string(program) + " v" + std::to_string(version),
            [&](rpc_context* c, rpc_cb cb, void* p) {
              return rpc_null_async(c, static_cast<int>(program), static_cast<int>(version), cb, p);
            });
  return Run(nfs_, call);
}

Status NfsClient::Null() {
  Call call("NULL",
            [](rpc_context* c, rpc_cb cb, void* p) { return rpc_nfs3_null_async(c, cb, p); });
  return Run(nfs_, call);
}

Result<GetattrRes> NfsClient::Getattr(const std::string& fh) {
  GETATTR3args args{};
  args.object = Fh(fh);
  return Invoke<GETATTR3res, GetattrRes>(
      nfs_, "GETATTR",
      [&](rpc_context* c, rpc_cb cb, void* p) { return rpc_nfs3_getattr_async(c, cb, &args, p); },
      [](const GETATTR3res& r, GetattrRes& out) {
        out.status = r.status;
        if (r.status == NFS3_OK) out.attrs = FromFattr(r.GETATTR3res_u.resok.obj_attributes);
      });
}

Result<WccRes> NfsClient::Setattr(const std::string& fh, const SetAttrs& attrs,
                                  std::optional<NfsTime> guard_ctime) {
  SETATTR3args args{};
  args.object = Fh(fh);
  args.new_attributes = ToSattr(attrs);
  if (guard_ctime) {
    args.guard.check = 1;
    args.guard.sattrguard3_u.obj_ctime = nfstime3{guard_ctime->seconds, guard_ctime->nseconds};
  }
  return Invoke<SETATTR3res, WccRes>(
      nfs_, "SETATTR",
      [&](rpc_context* c, rpc_cb cb, void* p) { return rpc_nfs3_setattr_async(c, cb, &args, p); },
      [](const SETATTR3res& r, WccRes& out) {
        out.status = r.status;
        // resok and resfail have the same layout (obj_wcc only).
        out.wcc = FromWcc(r.status == NFS3_OK ? r.SETATTR3res_u.resok.obj_wcc
                                              : r.SETATTR3res_u.resfail.obj_wcc);
      });
}

Result<LookupRes> NfsClient::Lookup(const std::string& dir, const std::string& name) {
  LOOKUP3args args{};
  args.what.dir = Fh(dir);
  args.what.name = Name(name);
  return Invoke<LOOKUP3res, LookupRes>(
      nfs_, "LOOKUP " + name,
      [&](rpc_context* c, rpc_cb cb, void* p) { return rpc_nfs3_lookup_async(c, cb, &args, p); },
      [](const LOOKUP3res& r, LookupRes& out) {
        out.status = r.status;
        if (r.status == NFS3_OK) {
          const LOOKUP3resok& ok = r.LOOKUP3res_u.resok;
          out.handle = FromFh(ok.object);
          out.attrs = FromPostOp(ok.obj_attributes);
          out.dir_attrs = FromPostOp(ok.dir_attributes);
        } else {
          out.dir_attrs = FromPostOp(r.LOOKUP3res_u.resfail.dir_attributes);
        }
      });
}

Result<AccessRes> NfsClient::Access(const std::string& fh, uint32_t access) {
  ACCESS3args args{};
  args.object = Fh(fh);
  args.access = access;
  return Invoke<ACCESS3res, AccessRes>(
      nfs_, "ACCESS",
      [&](rpc_context* c, rpc_cb cb, void* p) { return rpc_nfs3_access_async(c, cb, &args, p); },
      [](const ACCESS3res& r, AccessRes& out) {
        out.status = r.status;
        if (r.status == NFS3_OK) {
          out.attrs = FromPostOp(r.ACCESS3res_u.resok.obj_attributes);
          out.access = r.ACCESS3res_u.resok.access;
        } else {
          out.attrs = FromPostOp(r.ACCESS3res_u.resfail.obj_attributes);
        }
      });
}

Result<ReadlinkRes> NfsClient::Readlink(const std::string& fh) {
  READLINK3args args{};
  args.symlink = Fh(fh);
  return Invoke<READLINK3res, ReadlinkRes>(
      nfs_, "READLINK",
      [&](rpc_context* c, rpc_cb cb, void* p) { return rpc_nfs3_readlink_async(c, cb, &args, p); },
      [](const READLINK3res& r, ReadlinkRes& out) {
        out.status = r.status;
        if (r.status == NFS3_OK) {
          out.attrs = FromPostOp(r.READLINK3res_u.resok.symlink_attributes);
          if (r.READLINK3res_u.resok.data != nullptr) out.target = r.READLINK3res_u.resok.data;
        } else {
          out.attrs = FromPostOp(r.READLINK3res_u.resfail.symlink_attributes);
        }
      });
}

Result<ReadRes> NfsClient::Read(const std::string& fh, uint64_t offset, uint32_t count) {
  READ3args args{};
  args.file = Fh(fh);
  args.offset = offset;
  args.count = count;
  return Invoke<READ3res, ReadRes>(
      nfs_, "READ",
      [&](rpc_context* c, rpc_cb cb, void* p) { return rpc_nfs3_read_async(c, cb, &args, p); },
      [](const READ3res& r, ReadRes& out) {
        out.status = r.status;
        if (r.status == NFS3_OK) {
          const READ3resok& ok = r.READ3res_u.resok;
          out.attrs = FromPostOp(ok.file_attributes);
          out.count = ok.count;
          out.eof = ok.eof != 0;
          out.data.assign(ok.data.data_val, ok.data.data_len);
        } else {
          out.attrs = FromPostOp(r.READ3res_u.resfail.file_attributes);
        }
      });
}

Result<WriteRes> NfsClient::Write(const std::string& fh, uint64_t offset, const std::string& data,
                                  StableHow stable) {
  WRITE3args args{};
  args.file = Fh(fh);
  args.offset = offset;
  args.count = static_cast<count3>(data.size());
  args.stable = static_cast<stable_how>(stable);
  args.data.data_len = static_cast<u_int>(data.size());
  args.data.data_val = const_cast<char*>(data.data());
  return Invoke<WRITE3res, WriteRes>(
      nfs_, "WRITE",
      [&](rpc_context* c, rpc_cb cb, void* p) { return rpc_nfs3_write_async(c, cb, &args, p); },
      [](const WRITE3res& r, WriteRes& out) {
        out.status = r.status;
        if (r.status == NFS3_OK) {
          const WRITE3resok& ok = r.WRITE3res_u.resok;
          out.wcc = FromWcc(ok.file_wcc);
          out.count = ok.count;
          out.committed = ok.committed;
          out.verifier = From8(ok.verf);
        } else {
          out.wcc = FromWcc(r.WRITE3res_u.resfail.file_wcc);
        }
      });
}

Result<CreateRes> NfsClient::Create(const std::string& dir, const std::string& name,
                                    CreateMode mode, const SetAttrs& attrs, uint64_t verifier) {
  CREATE3args args{};
  args.where.dir = Fh(dir);
  args.where.name = Name(name);
  args.how.mode = static_cast<createmode3>(mode);
  if (mode == kExclusive) {
    std::memcpy(args.how.createhow3_u.verf, &verifier, sizeof(verifier));
  } else {
    args.how.createhow3_u.obj_attributes = ToSattr(attrs);
  }
  return Invoke<CREATE3res, CreateRes>(
      nfs_, "CREATE " + name,
      [&](rpc_context* c, rpc_cb cb, void* p) { return rpc_nfs3_create_async(c, cb, &args, p); },
      [](const CREATE3res& r, CreateRes& out) {
        out.status = r.status;
        if (r.status == NFS3_OK) {
          const CREATE3resok& ok = r.CREATE3res_u.resok;
          out.handle = FromPostOpFh(ok.obj);
          out.attrs = FromPostOp(ok.obj_attributes);
          out.dir_wcc = FromWcc(ok.dir_wcc);
        } else {
          out.dir_wcc = FromWcc(r.CREATE3res_u.resfail.dir_wcc);
        }
      });
}

Result<CreateRes> NfsClient::Mkdir(const std::string& dir, const std::string& name,
                                   const SetAttrs& attrs) {
  MKDIR3args args{};
  args.where.dir = Fh(dir);
  args.where.name = Name(name);
  args.attributes = ToSattr(attrs);
  return Invoke<MKDIR3res, CreateRes>(
      nfs_, "MKDIR " + name,
      [&](rpc_context* c, rpc_cb cb, void* p) { return rpc_nfs3_mkdir_async(c, cb, &args, p); },
      [](const MKDIR3res& r, CreateRes& out) {
        out.status = r.status;
        if (r.status == NFS3_OK) {
          const MKDIR3resok& ok = r.MKDIR3res_u.resok;
          out.handle = FromPostOpFh(ok.obj);
          out.attrs = FromPostOp(ok.obj_attributes);
          out.dir_wcc = FromWcc(ok.dir_wcc);
        } else {
          out.dir_wcc = FromWcc(r.MKDIR3res_u.resfail.dir_wcc);
        }
      });
}

Result<CreateRes> NfsClient::Symlink(const std::string& dir, const std::string& name,
                                     const std::string& target, const SetAttrs& attrs) {
  SYMLINK3args args{};
  args.where.dir = Fh(dir);
  args.where.name = Name(name);
  args.symlink.symlink_attributes = ToSattr(attrs);
  args.symlink.symlink_data = Name(target);
  return Invoke<SYMLINK3res, CreateRes>(
      nfs_, "SYMLINK " + name,
      [&](rpc_context* c, rpc_cb cb, void* p) { return rpc_nfs3_symlink_async(c, cb, &args, p); },
      [](const SYMLINK3res& r, CreateRes& out) {
        out.status = r.status;
        if (r.status == NFS3_OK) {
          const SYMLINK3resok& ok = r.SYMLINK3res_u.resok;
          out.handle = FromPostOpFh(ok.obj);
          out.attrs = FromPostOp(ok.obj_attributes);
          out.dir_wcc = FromWcc(ok.dir_wcc);
        } else {
          out.dir_wcc = FromWcc(r.SYMLINK3res_u.resfail.dir_wcc);
        }
      });
}

Result<CreateRes> NfsClient::Mknod(const std::string& dir, const std::string& name, uint32_t type,
                                   const SetAttrs& attrs, uint32_t major, uint32_t minor) {
  MKNOD3args args{};
  args.where.dir = Fh(dir);
  args.where.name = Name(name);
  args.what.type = static_cast<ftype3>(type);
  switch (type) {
    case kTypeChr:
      args.what.mknoddata3_u.chr_device = devicedata3{ToSattr(attrs), specdata3{major, minor}};
      break;
    case kTypeBlk:
      args.what.mknoddata3_u.blk_device = devicedata3{ToSattr(attrs), specdata3{major, minor}};
      break;
    case kTypeSock:
      args.what.mknoddata3_u.sock_attributes = ToSattr(attrs);
      break;
    case kTypeFifo:
      args.what.mknoddata3_u.pipe_attributes = ToSattr(attrs);
      break;
    default:
      break;  // the union arm is void for every other type
  }
  return Invoke<MKNOD3res, CreateRes>(
      nfs_, "MKNOD " + name,
      [&](rpc_context* c, rpc_cb cb, void* p) { return rpc_nfs3_mknod_async(c, cb, &args, p); },
      [](const MKNOD3res& r, CreateRes& out) {
        out.status = r.status;
        if (r.status == NFS3_OK) {
          const MKNOD3resok& ok = r.MKNOD3res_u.resok;
          out.handle = FromPostOpFh(ok.obj);
          out.attrs = FromPostOp(ok.obj_attributes);
          out.dir_wcc = FromWcc(ok.dir_wcc);
        } else {
          out.dir_wcc = FromWcc(r.MKNOD3res_u.resfail.dir_wcc);
        }
      });
}

Result<WccRes> NfsClient::Remove(const std::string& dir, const std::string& name) {
  REMOVE3args args{};
  args.object.dir = Fh(dir);
  args.object.name = Name(name);
  return Invoke<REMOVE3res, WccRes>(
      nfs_, "REMOVE " + name,
      [&](rpc_context* c, rpc_cb cb, void* p) { return rpc_nfs3_remove_async(c, cb, &args, p); },
      [](const REMOVE3res& r, WccRes& out) {
        out.status = r.status;
        out.wcc = FromWcc(r.status == NFS3_OK ? r.REMOVE3res_u.resok.dir_wcc
                                              : r.REMOVE3res_u.resfail.dir_wcc);
      });
}

Result<WccRes> NfsClient::Rmdir(const std::string& dir, const std::string& name) {
  RMDIR3args args{};
  args.object.dir = Fh(dir);
  args.object.name = Name(name);
  return Invoke<RMDIR3res, WccRes>(
      nfs_, "RMDIR " + name,
      [&](rpc_context* c, rpc_cb cb, void* p) { return rpc_nfs3_rmdir_async(c, cb, &args, p); },
      [](const RMDIR3res& r, WccRes& out) {
        out.status = r.status;
        out.wcc = FromWcc(r.status == NFS3_OK ? r.RMDIR3res_u.resok.dir_wcc
                                              : r.RMDIR3res_u.resfail.dir_wcc);
      });
}

Result<RenameRes> NfsClient::Rename(const std::string& from_dir, const std::string& from_name,
                                    const std::string& to_dir, const std::string& to_name) {
  RENAME3args args{};
  args.from.dir = Fh(from_dir);
  args.from.name = Name(from_name);
  args.to.dir = Fh(to_dir);
  args.to.name = Name(to_name);
  return Invoke<RENAME3res, RenameRes>(
      nfs_, "RENAME " + from_name + " " + to_name,
      [&](rpc_context* c, rpc_cb cb, void* p) { return rpc_nfs3_rename_async(c, cb, &args, p); },
      [](const RENAME3res& r, RenameRes& out) {
        out.status = r.status;
        // resok and resfail carry the same fields.
        if (r.status == NFS3_OK) {
          out.from_dir_wcc = FromWcc(r.RENAME3res_u.resok.fromdir_wcc);
          out.to_dir_wcc = FromWcc(r.RENAME3res_u.resok.todir_wcc);
        } else {
          out.from_dir_wcc = FromWcc(r.RENAME3res_u.resfail.fromdir_wcc);
          out.to_dir_wcc = FromWcc(r.RENAME3res_u.resfail.todir_wcc);
        }
      });
}

Result<LinkRes> NfsClient::Link(const std::string& fh, const std::string& dir,
                                const std::string& name) {
  LINK3args args{};
  args.file = Fh(fh);
  args.link.dir = Fh(dir);
  args.link.name = Name(name);
  return Invoke<LINK3res, LinkRes>(
      nfs_, "LINK " + name,
      [&](rpc_context* c, rpc_cb cb, void* p) { return rpc_nfs3_link_async(c, cb, &args, p); },
      [](const LINK3res& r, LinkRes& out) {
        out.status = r.status;
        // resok and resfail carry the same fields.
        if (r.status == NFS3_OK) {
          out.attrs = FromPostOp(r.LINK3res_u.resok.file_attributes);
          out.dir_wcc = FromWcc(r.LINK3res_u.resok.linkdir_wcc);
        } else {
          out.attrs = FromPostOp(r.LINK3res_u.resfail.file_attributes);
          out.dir_wcc = FromWcc(r.LINK3res_u.resfail.linkdir_wcc);
        }
      });
}

Result<ReaddirRes> NfsClient::Readdir(const std::string& dir, uint64_t cookie, uint64_t cookieverf,
                                      uint32_t count) {
  READDIR3args args{};
  args.dir = Fh(dir);
  args.cookie = cookie;
  std::memcpy(args.cookieverf, &cookieverf, sizeof(cookieverf));
  args.count = count;
  return Invoke<READDIR3res, ReaddirRes>(
      nfs_, "READDIR",
      [&](rpc_context* c, rpc_cb cb, void* p) { return rpc_nfs3_readdir_async(c, cb, &args, p); },
      [](const READDIR3res& r, ReaddirRes& out) {
        out.status = r.status;
        if (r.status != NFS3_OK) {
          out.dir_attrs = FromPostOp(r.READDIR3res_u.resfail.dir_attributes);
          return;
        }
        const READDIR3resok& ok = r.READDIR3res_u.resok;
        out.dir_attrs = FromPostOp(ok.dir_attributes);
        out.cookieverf = From8(ok.cookieverf);
        out.eof = ok.reply.eof != 0;
        for (const entry3* at = ok.reply.entries; at != nullptr;) {
          const entry3 e = CopyNode(at);
          out.entries.push_back(Entry(e.fileid, e.name, e.cookie));
          at = e.nextentry;
        }
      });
}

Result<ReaddirRes> NfsClient::Readdirplus(const std::string& dir, uint64_t cookie,
                                          uint64_t cookieverf, uint32_t dircount,
                                          uint32_t maxcount) {
  READDIRPLUS3args args{};
  args.dir = Fh(dir);
  args.cookie = cookie;
  std::memcpy(args.cookieverf, &cookieverf, sizeof(cookieverf));
  args.dircount = dircount;
  args.maxcount = maxcount;
  return Invoke<READDIRPLUS3res, ReaddirRes>(
      nfs_, "READDIRPLUS",
      [&](rpc_context* c, rpc_cb cb, void* p) {
        return rpc_nfs3_readdirplus_async(c, cb, &args, p);
      },
      [](const READDIRPLUS3res& r, ReaddirRes& out) {
        out.status = r.status;
        if (r.status != NFS3_OK) {
          out.dir_attrs = FromPostOp(r.READDIRPLUS3res_u.resfail.dir_attributes);
          return;
        }
        const READDIRPLUS3resok& ok = r.READDIRPLUS3res_u.resok;
        out.dir_attrs = FromPostOp(ok.dir_attributes);
        out.cookieverf = From8(ok.cookieverf);
        out.eof = ok.reply.eof != 0;
        for (const entryplus3* at = ok.reply.entries; at != nullptr;) {
          const entryplus3 e = CopyNode(at);
          DirEntry entry = Entry(e.fileid, e.name, e.cookie);
          entry.attrs = FromPostOp(e.name_attributes);
          entry.handle = FromPostOpFh(e.name_handle);
          out.entries.push_back(std::move(entry));
          at = e.nextentry;
        }
      });
}

Result<FsstatRes> NfsClient::Fsstat(const std::string& fh) {
  FSSTAT3args args{};
  args.fsroot = Fh(fh);
  return Invoke<FSSTAT3res, FsstatRes>(
      nfs_, "FSSTAT",
      [&](rpc_context* c, rpc_cb cb, void* p) { return rpc_nfs3_fsstat_async(c, cb, &args, p); },
      [](const FSSTAT3res& r, FsstatRes& out) {
        out.status = r.status;
        if (r.status != NFS3_OK) {
          out.attrs = FromPostOp(r.FSSTAT3res_u.resfail.obj_attributes);
          return;
        }
        const FSSTAT3resok& ok = r.FSSTAT3res_u.resok;
        out.attrs = FromPostOp(ok.obj_attributes);
        out.tbytes = ok.tbytes;
        out.fbytes = ok.fbytes;
        out.abytes = ok.abytes;
        out.tfiles = ok.tfiles;
        out.ffiles = ok.ffiles;
        out.afiles = ok.afiles;
        out.invarsec = ok.invarsec;
      });
}

Result<FsinfoRes> NfsClient::Fsinfo(const std::string& fh) {
  FSINFO3args args{};
  args.fsroot = Fh(fh);
  return Invoke<FSINFO3res, FsinfoRes>(
      nfs_, "FSINFO",
      [&](rpc_context* c, rpc_cb cb, void* p) { return rpc_nfs3_fsinfo_async(c, cb, &args, p); },
      [](const FSINFO3res& r, FsinfoRes& out) {
        out.status = r.status;
        if (r.status != NFS3_OK) {
          out.attrs = FromPostOp(r.FSINFO3res_u.resfail.obj_attributes);
          return;
        }
        const FSINFO3resok& ok = r.FSINFO3res_u.resok;
        out.attrs = FromPostOp(ok.obj_attributes);
        out.rtmax = ok.rtmax;
        out.rtpref = ok.rtpref;
        out.rtmult = ok.rtmult;
        out.wtmax = ok.wtmax;
        out.wtpref = ok.wtpref;
        out.wtmult = ok.wtmult;
        out.dtpref = ok.dtpref;
        out.maxfilesize = ok.maxfilesize;
        out.time_delta = FromTime(ok.time_delta);
        out.properties = ok.properties;
      });
}

Result<PathconfRes> NfsClient::Pathconf(const std::string& fh) {
  PATHCONF3args args{};
  args.object = Fh(fh);
  return Invoke<PATHCONF3res, PathconfRes>(
      nfs_, "PATHCONF",
      [&](rpc_context* c, rpc_cb cb, void* p) { return rpc_nfs3_pathconf_async(c, cb, &args, p); },
      [](const PATHCONF3res& r, PathconfRes& out) {
        out.status = r.status;
        if (r.status != NFS3_OK) {
          out.attrs = FromPostOp(r.PATHCONF3res_u.resfail.obj_attributes);
          return;
        }
        const PATHCONF3resok& ok = r.PATHCONF3res_u.resok;
        out.attrs = FromPostOp(ok.obj_attributes);
        out.linkmax = ok.linkmax;
        out.name_max = ok.name_max;
        out.no_trunc = ok.no_trunc != 0;
        out.chown_restricted = ok.chown_restricted != 0;
        out.case_insensitive = ok.case_insensitive != 0;
        out.case_preserving = ok.case_preserving != 0;
      });
}

Result<CommitRes> NfsClient::Commit(const std::string& fh, uint64_t offset, uint32_t count) {
  COMMIT3args args{};
  args.file = Fh(fh);
  args.offset = offset;
  args.count = count;
  return Invoke<COMMIT3res, CommitRes>(
      nfs_, "COMMIT",
      [&](rpc_context* c, rpc_cb cb, void* p) { return rpc_nfs3_commit_async(c, cb, &args, p); },
      [](const COMMIT3res& r, CommitRes& out) {
        out.status = r.status;
        if (r.status == NFS3_OK) {
          out.wcc = FromWcc(r.COMMIT3res_u.resok.file_wcc);
          out.verifier = From8(r.COMMIT3res_u.resok.verf);
        } else {
          out.wcc = FromWcc(r.COMMIT3res_u.resfail.file_wcc);
        }
      });
}

}  // namespace ovl::nfsclient
