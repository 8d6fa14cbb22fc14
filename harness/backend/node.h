// What the runner can do to the nodes of a topology, whatever runs them (child processes here,
// VMs in the libvirt backend). Nodes know no scenario semantics: they start, stop, take faults,
// and tell an agent how to reach them.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "agent/protocol.h"
#include "backend/kernel_log.h"
#include "base/status.h"
#include "ops/fixture.h"
#include "ops/offline.h"
#include "topology/names.h"

namespace ovl::backend {

// What a script run where a server runs gave (ServerNode::RunScript).
struct ScriptRun {
  int rc = 0;
  std::string output;  // stdout and stderr, interleaved
};

class ServerNode {
 public:
  virtual ~ServerNode() = default;
  // Why this server cannot run on this host (UNSUPPORTED), or "" when it can.
  virtual std::string Unsupported() = 0;
  // Makes fresh layers holding `fixture` under `dir` and starts serving them.
  virtual Status Setup(const ops::Fixture& fixture, const std::string& dir) = 0;
  // Faults; each returns once the server serves again. Crash loses what a real crash of this
  // server kind loses; Reboot is a clean stop and start; Evict drops the server's caches.
  virtual Status Crash() = 0;
  virtual Status Reboot() = 0;
  virtual Status Evict() = 0;
  // A clean reboot into the server's other kernel (ServerSpec::kernel_upgrade), and back on the
  // next call; the next Setup boots the server's own kernel again. kErrNotSupp by default.
  virtual Status Upgrade() {
    return Status::Error(kErrNotSupp, "this server cannot boot another kernel");
  }

  // An offline edit: stops the server (killed when edit.crash, else cleanly), applies `edit` to
  // its layers on disk (backend/offline_disk.h), and starts it again on them; returns once it
  // serves again. By default kErrNotSupp (the case is UNSUPPORTED, with this reason).
  virtual Status Offline(const ops::OfflineEdit& edit) {
    return Status::Error(kErrNotSupp, "offline " + std::string(ops::OfflineKindName(edit.kind)) +
                                          ": this server's layers cannot be edited while it is "
                                          "stopped");
  }
  // Stops serving; removes the layers unless `keep`.
  virtual Status Teardown(bool keep) = 0;
  // Whether the lower layers still hold exactly the fixture (they must never change). By default
  // kErrNotSupp: the layers cannot be read from here (inside a VM).
  virtual Status VerifyLowerLayers(const ops::Fixture& fixture) {
    (void)fixture;
    return Status::Error(kErrNotSupp, "lower layers are not readable from the harness");
  }
  // The agent's connect request reaching this server now (ports change across restarts).
  virtual agent::protocol::Connect ConnectRequest() const = 0;
  // The end of the server's log, for failure reports.
  virtual std::string LogTail() const = 0;
  // Runs `script` with sh, as root, where the server runs (inside its VM, its role's boot steps
  // done, nothing served yet): reductions by hand (`harness guest`). An error when it did not
  // end within `timeout`. By default kErrNotSupp: a local server runs on this host, where a
  // script can run without the harness.
  virtual Result<ScriptRun> RunScript(const std::string& script,
                                      std::chrono::milliseconds timeout) {
    (void)script;
    (void)timeout;
    return Status::Error(kErrNotSupp, "this server runs on the harness host");
  }
  // The log of the kernel this server runs on, marked now: what the kernel prints from here on
  // (backend/kernel_log.h). By default kErrNotSupp: no kernel log the harness can read.
  virtual Result<std::unique_ptr<KernelLog>> OpenKernelLog() {
    return Status::Error(kErrNotSupp, "no kernel log to read");
  }
};

// Strikes `kind` on `node`: crash, reboot, evict or upgrade. EINVAL for client-evict, which
// strikes a client (AgentNode::EvictClientCaches).
inline Status StrikeServer(ServerNode& node, topology::FaultKind kind) {
  switch (kind) {
    case topology::FaultKind::kCrash:
      return node.Crash();
    case topology::FaultKind::kReboot:
      return node.Reboot();
    case topology::FaultKind::kEvict:
      return node.Evict();
    case topology::FaultKind::kUpgrade:
      return node.Upgrade();
    case topology::FaultKind::kClientEvict:
      break;
  }
  return Status::Error(EINVAL, "client-evict strikes a client, not a server");
}

// `connect` for a kernel mount of NFS version `nfs_version` (plan::Case::nfs_version): a syscalls
// root "/mnt/<server>" (a VM server's) becomes "/mnt/<server>@v<version>", which a client VM
// mounts with that version (StartVmAgent); anything else, or an empty version, is unchanged.
agent::protocol::Connect ForNfsVersion(agent::protocol::Connect connect,
                                       const std::string& nfs_version);

// The server and NFS version of a client VM's mount root made by ForNfsVersion ("" when the
// root names none), or nullopt when `root` is not a mount root ("/mnt/<server>[@v<version>]").
struct MountRoot {
  std::string dir;  // its name under /mnt: "<server>[@v<version>]"
  std::string server;
  std::string nfs_version;
};
std::optional<MountRoot> ParseMountRoot(const std::string& root);

// One harness-agent, spoken to in the protocol of agent/protocol.h.
class AgentNode {
 public:
  using Clock = std::chrono::steady_clock;
  // When the latest server outage (a crash or reboot under way or done) ended as its caller sees
  // it: now while one is under way.
  using OutageEnd = std::function<Clock::time_point()>;

  virtual ~AgentNode() = default;
  virtual const std::string& name() const = 0;
  // Sends one request and waits for its reply, at most agent::protocol::ReplyTimeout(request,
  // this backend's bound for one operation), counted from the send or, under WaitThroughOutages,
  // from the end of an outage the request lived through. An error when the agent did not answer
  // in time or its reply did not decode; an agent's refusal is a Failure reply.
  virtual Result<agent::protocol::Reply> Request(const agent::protocol::Request& request) = 0;
  // Drops the client side's caches (client-evict).
  virtual Status EvictClientCaches() = 0;
  virtual std::string LogTail() const = 0;

  // From now on, a reply still missing when its bound has passed is waited for until the bound
  // has also passed since `outage_end()`, as often as that moves later. A hard mount blocks an
  // operation while the server is down and the client retries the connection with a growing
  // back-off, so after a slow reboot the reply can come long after the send. nullptr turns it
  // off; `outage_end` must outlive its use (the caller turns it off before it goes away).
  void WaitThroughOutages(OutageEnd outage_end) { outage_end_ = std::move(outage_end); }

 protected:
  // The reply wait of Request: read(deadline) with deadline = the start + `bound`, repeated with
  // the deadline moved as WaitThroughOutages says while read gives ETIMEDOUT. Returns read's
  // last result.
  Result<std::string> AwaitReply(
      const std::function<Result<std::string>(Clock::time_point deadline)>& read,
      std::chrono::milliseconds bound) const;

 private:
  OutageEnd outage_end_;
};

}  // namespace ovl::backend
