// ChildProcess: one spawned program, always reaped. Used by the test fixtures that run servers
// (ovlnfsd, ganesha.nfsd) as children.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace ovl::testsupport {

class ChildProcess {
 public:
  ChildProcess() = default;
  // Starts argv[0] (searched in PATH when it has no '/') with stdin on /dev/null, stdout and
  // stderr on `output_fd`, default signal dispositions and an empty signal mask.
  static Result<ChildProcess> Spawn(const std::vector<std::string>& argv, int output_fd);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // Kills (SIGKILL) and reaps a child that is still running.
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // True from Spawn until the child has been reaped.
  bool running() const { return pid_ > 0; }

  // Sends `sig`; ESRCH when there is no running child.
  Status Signal(int sig) const;
  // Reaps the child if it has exited, without blocking: its exit status (see Wait), or nullopt
  // while it runs.
  std::optional<int> Poll();
  // Waits up to `timeout` for the child to exit and reaps it. Returns the exit code, or 128 +
  // the signal number when a signal ended it (as shells report it); ETIMEDOUT if it still runs.
  Result<int> Wait(std::chrono::milliseconds timeout);
  // SIGKILL, then Wait.
  Result<int> Kill();

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}

  pid_t pid_ = -1;
};

}  // namespace ovl::testsupport
