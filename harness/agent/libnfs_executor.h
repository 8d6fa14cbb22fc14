// LibnfsExecutor: the agent's "libnfs" access path. Each op becomes raw NFSv3 calls through
// NfsClient, holding handles as raw bytes as a long-lived client would.
//
// - Path targets are resolved at the time of the op by LOOKUPs from the MOUNT root handle, one
//   component at a time; var targets send the held bytes (mutated as Target::mutate says); raw
//   targets send the literal bytes.
// - A reply with an error nfsstat3 is kError named as in ops.h ("STALE", "NOENT", ...). A reply
//   that says the call was not executed (RPC GARBAGE_ARGS, as ovlnfsd answers a handle over 64
//   bytes, and friends) is kError "RPC_<STAT>".
// - A transport failure (refused, reset, timeout) is kUnknown with the error text, and from then
//   on every op fails fast as kUnknown: the agent must build a new executor (reconnect).
// - kReaddir is one READDIRPLUS page without "." and "..", holding at most PageEntries(op)
//   entries, from op.cookie (cookie verifier 0) or from the position saved under op.resume
//   (cookie and the verifier the server gave with it); `save` stores where the page ended.
// - Probes are ACCESS, FSSTAT and one READDIR page from cookie 0, with the same error names.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "agent/executor.h"
#include "base/status.h"
#include "nfsclient/nfs_client.h"

namespace ovl::agent {

struct LibnfsConfig {
  std::string host = "127.0.0.1";
  uint16_t nfs_port = 0;
  uint16_t mount_port = 0;  // MOUNT v3; 0 = the NFS port
  std::string export_path = "/export";
  uint32_t uid = 0;  // AUTH_SYS credentials of every call
  uint32_t gid = 0;
  std::chrono::milliseconds timeout{10000};  // per RPC
};

class LibnfsExecutor : public Executor {
 public:
  // Dials NFS and MOUNT and mounts config.export_path. Fails when the server does not answer
  // or refuses the mount (the error names the MOUNT status).
  static Result<std::unique_ptr<LibnfsExecutor>> Connect(const LibnfsConfig& config);

  // The export's root handle from MNT: the target of an empty path.
  const std::string& root_handle() const { return root_; }

  ops::Result RunProbe(Probe probe, const ops::Target& target, const VarTable& vars) override;

 protected:
  Outcome Run(const ops::Op& op, const VarTable& vars) override;

 private:
  LibnfsExecutor() = default;

  // Both return false and fill *out when the call did not succeed: a transport failure
  // (latching broken_), an RPC-level rejection, or an error nfsstat3 in the reply.
  bool CallFailed(const Status& transport, ops::Result* out);
  template <typename Reply>
  bool Failed(const Result<Reply>& reply, ops::Result* out);

  // The handle `target` names now; nullopt with *out filled when it cannot be had.
  std::optional<std::string> Resolve(const ops::Target& target, const VarTable& vars,
                                     ops::Result* out);

  ops::Result Lookup(const std::string& dir, const std::string& name);
  ops::Result GetAttr(const std::string& fh);
  ops::Result SetAttr(const std::string& fh, const ops::Op& op);
  ops::Result Read(const std::string& fh, const ops::Op& op);
  ops::Result Write(const std::string& fh, const ops::Op& op);
  ops::Result Commit(const std::string& fh);
  ops::Result Create(const std::string& dir, const ops::Op& op);
  ops::Result Mkdir(const std::string& dir, const ops::Op& op);
  ops::Result Symlink(const std::string& dir, const ops::Op& op);
  ops::Result Remove(const std::string& dir, const ops::Op& op, bool is_dir);
  ops::Result Rename(const std::string& from_dir, const ops::Op& op, const VarTable& vars);
  ops::Result Link(const std::string& fh, const ops::Op& op, const VarTable& vars);
  Outcome Readdir(const std::string& dir, const ops::Op& op, const VarTable& vars);
  ops::Result Readlink(const std::string& fh);
  // kOk carrying the handle and attributes of a CREATE/MKDIR/SYMLINK reply; the handle comes
  // from a LOOKUP when the server left it out (post_op_fh3 is optional).
  ops::Result Created(const std::string& dir, const std::string& name,
                      const nfsclient::CreateRes& reply);

  nfsclient::NfsClient client_;
  std::string root_;
  std::string broken_;  // the transport failure that ended this connection; empty while usable
};

}  // namespace ovl::agent
