// ServerProcess: an integration-test fixture that runs the real ovlnfsd binary on a temporary
// overlay tree (N lower dirs, an upper dir, a work dir), on 127.0.0.1.
//
// The test fills the lower dirs, calls Start(), talks NFS to port(), and injects faults:
// Terminate() (SIGTERM, a clean stop), Kill() (SIGKILL, a crash), Restart() (start again on the
// same dirs), DropCaches() (SIGUSR1) and Counters() (SIGUSR2). The server's stderr is copied to
// a log file and kept as lines for assertions. Every child is reaped; the destructor kills a
// running server and removes the tree.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/fd.h"
#include "base/status.h"
#include "support/child_process.h"
#include "support/scratch_dir.h"

namespace ovl::testsupport {

struct ServerOptions {
  std::string binary;                   // path of ovlnfsd (tests get it as OVLNFSD_PATH)
  size_t lower_count = 1;               // lower dirs, lower0 (top) .. lowerN-1 (bottom)
  std::string export_path;              // --export-path, when not empty
  std::string squash;                   // --squash root|all|none, when not empty
  std::string handles;                  // --handles persistent|volatile, when not empty
  bool no_index = false;                // --no-index
  int threads = 0;                      // --threads N, when > 0
  std::vector<std::string> extra_args;  // appended as given
  std::string log_path;  // stderr copy; empty: "server.log" in the temp dir (removed with it)
  std::chrono::milliseconds start_timeout{10000};  // until the listening line
  std::chrono::milliseconds stop_timeout{10000};   // from SIGTERM to exit
  std::chrono::milliseconds reply_timeout{10000};  // from SIGUSR1/SIGUSR2 to the reply line
};

class ServerProcess {
 public:
  enum class PortChoice { kNew, kSame };

  // Creates the temp tree ("<tmp>/ovlnfsd-test.XXXXXX" with lower0.., upper, work); starts
  // nothing, so the test can populate the lower dirs first.
  static Result<std::unique_ptr<ServerProcess>> Create(ServerOptions options);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  const std::string& root() const { return scratch_.path(); }
  const std::vector<std::string>& lower_dirs() const { return lowers_; }
  const std::string& upper_dir() const { return upper_; }
  const std::string& work_dir() const { return work_; }
  const std::string& log_path() const { return log_path_; }

  // Starts ovlnfsd listening on 127.0.0.1:`port` (0: the server picks one) and waits for its
  // "ovlnfsd: listening on ADDR:PORT" line. EBUSY while a server runs; on failure (exit, no
  // line in time) the child is killed and the error carries the tail of its stderr.
  Status Start(uint16_t port = 0);
  // Stops a running server as Terminate() does (an unclean exit is an error), then Start()s
  // again on the same dirs: on the previous port with kSame (a server coming back at the same
  // address), on a fresh one with kNew.
  Status Restart(PortChoice port = PortChoice::kNew);
  // SIGTERM and wait: the exit status (0 for a clean stop; 128+N when signal N ended it).
  // ETIMEDOUT (after a SIGKILL) when it does not exit within stop_timeout.
  Result<int> Terminate();
  // SIGKILL and wait: a crash.
  Status Kill();
  // SIGUSR1, then waits for "ovlnfsd: caches dropped".
  Status DropCaches();
  // SIGUSR2, then parses the "ovlnfsd: counters k=v ..." line it prints.
  Result<std::map<std::string, uint64_t>> Counters();

  // True while the server process has not exited (reaps it if it has).
  bool IsRunning();
  // The process id of the running server (-1 when none), e.g. to read /proc/<pid>/status.
  pid_t pid() const { return child_.pid(); }
  // The port of the running server (0 when none), and of the last one started.
  uint16_t port() const { return port_; }
  uint16_t last_port() const { return last_port_; }
  // Every stderr line of every start so far, and the last `n` of them joined for messages.
  std::vector<std::string> Lines() const;
  std::string Tail(size_t n) const;

 private:
  ServerProcess(ServerOptions options, ScratchDir scratch);

  std::vector<std::string> Argv(uint16_t port) const;
  // Copies the child's output into the log file and lines_ until EOF (or until the child has
  // been reaped and the pipe is drained).
  void ReadOutput(Fd pipe);
  void JoinReader();
  size_t LineCount() const;
  // The first line at index >= `from` that starts with `prefix`.
  Result<std::string> WaitForLine(const std::string& prefix, size_t from,
                                  std::chrono::milliseconds timeout);

  ServerOptions options_;
  ScratchDir scratch_;
  std::vector<std::string> lowers_;
  std::string upper_;
  std::string work_;
  std::string log_path_;
  Fd log_fd_;

  ChildProcess child_;
  uint16_t port_ = 0;
  uint16_t last_port_ = 0;

  std::thread reader_;
  std::atomic<bool> child_reaped_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;  // guarded by mu_
  bool output_closed_ = true;       // guarded by mu_
};

}  // namespace ovl::testsupport
