#include "support/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>
#include <thread>
#include <utility>

extern char** environ;

namespace ovl::testsupport {

namespace {

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

Result<ChildProcess> ChildProcess::Spawn(const std::vector<std::string>& argv, int output_fd) {
  if (argv.empty()) return Status::Error(EINVAL, "Spawn: empty argv");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, output_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, output_fd, 2);

  // The test runner may block or ignore signals (threads, SIGPIPE); the server must see
  // SIGTERM/SIGUSR1/SIGUSR2 as a freshly started daemon would.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  sigset_t all;
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Status::Error(rc, "posix_spawnp " + argv[0]);
  return ChildProcess(pid);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept : pid_(std::exchange(other.pid_, -1)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (running()) Kill().status().IgnoreError();
    pid_ = std::exchange(other.pid_, -1);
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  // A fixture must never leave a server behind, whatever the test did.
  if (running()) Kill().status().IgnoreError();
}

Status ChildProcess::Signal(int sig) const {
  if (!running()) return Status::Error(ESRCH, "no running child");
  if (kill(pid_, sig) != 0) return Status::FromErrno("kill " + std::to_string(pid_));
  return Status::Ok();
}

std::optional<int> ChildProcess::Poll() {
  if (!running()) return std::nullopt;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    return DecodeWaitStatus(status);
  }
  if (r < 0 && errno == ECHILD) {
    // Reaped elsewhere (cannot normally happen): report it as gone.
    pid_ = -1;
    return -1;
  }
  return std::nullopt;
}

Result<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  if (!running()) return Status::Error(ECHILD, "no running child");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (std::optional<int> status = Poll()) return *status;
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Error(ETIMEDOUT, "pid " + std::to_string(pid_) + " still running after " +
                                          std::to_string(timeout.count()) + " ms");
    }
    // waitpid has no timeout; a short sleep keeps this simple and costs at most 5 ms.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Result<int> ChildProcess::Kill() {
  OVL_RETURN_IF_ERROR(Signal(SIGKILL));
  // SIGKILL cannot be caught; only an uninterruptible sleep in the kernel delays the exit.
  return Wait(std::chrono::seconds(60));
}

}  // namespace ovl::testsupport
