#include "support/rpcbind.h"

#include <fcntl.h>

#include <chrono>
#include <string>

#include "base/fd.h"
#include "proc/process.h"
#include "support/child_process.h"
#include "support/loopback.h"

namespace ovl::testsupport {

Status EnsureRpcbind() {
  if (LoopbackPortAccepts(kRpcbindPort)) return Status::Ok();
  std::string rpcbind = proc::FindProgram("rpcbind");
  if (rpcbind.empty()) return Status::Error(ENOENT, "rpcbind is not installed");
  Fd devnull(open("/dev/null", O_WRONLY | O_CLOEXEC));
  if (!devnull.valid()) return Status::FromErrno("open /dev/null");
  // -w: warm start (reuse registrations saved by an earlier rpcbind). It daemonizes, so the
  // spawned process exits as soon as the daemon runs.
  OVL_ASSIGN_OR_RETURN(ChildProcess child, ChildProcess::Spawn({rpcbind, "-w"}, devnull.get()));
  OVL_ASSIGN_OR_RETURN(int status, child.Wait(std::chrono::seconds(10)));
  if (status != 0) {
    return Status::Error(EIO, rpcbind + " -w exited with status " + std::to_string(status));
  }
  return WaitForLoopbackPort(kRpcbindPort, std::chrono::seconds(5));
}

}  // namespace ovl::testsupport
