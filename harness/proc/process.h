// Process: one child program started through Boost.Process v2 and always reaped. Its stderr (and
// stdout, unless piped to the parent) is appended to a log file and kept as lines, so callers
// can wait for a readiness line ("ovlnfsd: listening on ...") and show a log tail on failure.
// With `pipe_stdio`, stdin/stdout are pipes for a line protocol (harness-agent).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "base/fd.h"
#include "base/status.h"

namespace ovl::proc {

using std::chrono::milliseconds;

struct Exited {
  int code = 0;
};
struct Signalled {
  int signal = 0;
};
// How a child ended.
using ExitStatus = std::variant<Exited, Signalled>;
std::string ToString(const ExitStatus& s);

class Process {
 public:
  struct Options {
    std::vector<std::string> argv;  // argv[0]: a path, or a name searched in PATH
    std::string log_path;           // stderr (and stdout unless piped) is appended here
    bool pipe_stdio = false;        // stdin/stdout become pipes (WriteLine/ReadLine)
  };

  // Starts the child. Its stdin is /dev/null unless piped.
  static Result<std::unique_ptr<Process>> Start(const Options& options);
  // Kills (SIGKILL) and reaps a child still running.
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }
  // Sends `sig`; ESRCH once the child was reaped.
  Status Signal(int sig);
  // Waits until a log line at index >= `from_line` satisfies `match` and returns it; ETIMEDOUT
  // after `timeout`, ECHILD when the child exits first (the message holds the log tail).
  Result<std::string> WaitForLine(const std::function<bool(const std::string&)>& match,
                                  milliseconds timeout, size_t from_line = 0);
  // Number of log lines seen so far (a `from_line` for the next WaitForLine).
  size_t line_count() const;
  // The last `n` log lines, joined with newlines.
  std::string Tail(size_t n) const;
  // Waits up to `timeout` for the child to exit and reaps it; ETIMEDOUT if it still runs.
  Result<ExitStatus> Wait(milliseconds timeout);
  // SIGKILL, then Wait.
  Result<ExitStatus> Kill();
  bool running();

  // Line protocol over the stdio pipes (pipe_stdio only). ReadLine gives EPIPE at end of file
  // and ETIMEDOUT after `timeout`.
  Status WriteLine(const std::string& line);
  Result<std::string> ReadLine(milliseconds timeout);

 private:
  struct Impl;
  Process() = default;
  void ReadLog(int fd);

  std::unique_ptr<Impl> impl_;
  pid_t pid_ = -1;
  std::string name_;
  Fd log_file_;
  Fd stdin_, stdout_;
  std::string stdout_buffer_;
  std::thread log_reader_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  bool log_eof_ = false;
};

// The path of the executable `name` in $PATH or the sbin dirs (which a non-login root shell may
// lack); "" if there is none.
std::string FindProgram(const std::string& name);

}  // namespace ovl::proc
