#include "proc/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

// Boost 1.81's process/v2 config forgets these two with BOOST_PROCESS_USE_STD_FS.
#include <boost/optional.hpp>
#include <type_traits>
//
#include <boost/asio/io_context.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/stdio.hpp>

namespace ovl::proc {

namespace bp = boost::process::v2;

struct Process::Impl {
  boost::asio::io_context ctx;
  std::optional<bp::process> proc;
  std::optional<ExitStatus> status;
};

std::string ToString(const ExitStatus& s) {
  if (const auto* e = std::get_if<Exited>(&s)) return "exited with code " + std::to_string(e->code);
  const int sig = std::get<Signalled>(s).signal;
  return std::string("killed by signal ") + std::to_string(sig) + " (" + strsignal(sig) + ")";
}

namespace {

// argv[0] as given when it has a '/', else the first executable of that name in PATH.
Result<std::filesystem::path> FindExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) return std::filesystem::path(name);
  const char* path = getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t colon = dirs.find(':', start);
    if (colon == std::string::npos) colon = dirs.size();
    std::string candidate = dirs.substr(start, colon - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return std::filesystem::path(candidate);
    start = colon + 1;
  }
  return Status::Error(ENOENT, name + ": not found in PATH");
}

Status Pipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC) != 0) return Status::FromErrno("pipe2");
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Process>> Process::Start(const Options& options) {
  if (options.argv.empty()) return Status::Error(EINVAL, "empty argv");
  std::unique_ptr<Process> p(new Process());
  p->impl_ = std::make_unique<Impl>();
  p->name_ = options.argv[0];
  int log = ::open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) return Status::FromErrno("open log " + options.log_path);
  p->log_file_ = Fd(log);

  int err_pipe[2], in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1};
  OVL_RETURN_IF_ERROR(Pipe(err_pipe));
  Fd err_read(err_pipe[0]), err_write(err_pipe[1]);
  Fd in_read, out_write;
  if (options.pipe_stdio) {
    OVL_RETURN_IF_ERROR(Pipe(in_pipe));
    OVL_RETURN_IF_ERROR(Pipe(out_pipe));
    in_read = Fd(in_pipe[0]);
    p->stdin_ = Fd(in_pipe[1]);
    p->stdout_ = Fd(out_pipe[0]);
    out_write = Fd(out_pipe[1]);
  }

  OVL_ASSIGN_OR_RETURN(std::filesystem::path exe, FindExecutable(options.argv[0]));
  std::vector<std::string> args(options.argv.begin() + 1, options.argv.end());
  boost::system::error_code ec;
  bp::process_stdio stdio{options.pipe_stdio ? bp::detail::process_input_binding(in_read.get())
                                             : bp::detail::process_input_binding(nullptr),
                          options.pipe_stdio ? bp::detail::process_output_binding(out_write.get())
                                             : bp::detail::process_output_binding(err_write.get()),
                          bp::detail::process_error_binding(err_write.get())};
  try {
    p->impl_->proc.emplace(p->impl_->ctx, exe, args, std::move(stdio));
  } catch (const boost::system::system_error& e) {  // Boost.Process reports launch failures so
    return Status::Error(e.code().value() ? e.code().value() : EIO,
                         "start " + options.argv[0] + ": " + e.what());
  }
  p->pid_ = p->impl_->proc->id();
  // The child holds its own copies now; the parent's write ends must close so EOF arrives.
  err_write.Reset();
  out_write.Reset();
  in_read.Reset();
  int fd = err_read.get();
  p->log_reader_ = std::thread([proc = p.get(), owned = std::move(err_read), fd]() mutable {
    proc->ReadLog(fd);
    owned.Reset();
  });
  return p;
}

void Process::ReadLog(int fd) {
  std::string partial;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    (void)!::write(log_file_.get(), buf, static_cast<size_t>(n));
    partial.append(buf, static_cast<size_t>(n));
    size_t nl;
    std::lock_guard<std::mutex> g(mu_);
    while ((nl = partial.find('\n')) != std::string::npos) {
      lines_.push_back(partial.substr(0, nl));
      partial.erase(0, nl + 1);
    }
    cv_.notify_all();
  }
  std::lock_guard<std::mutex> g(mu_);
  if (!partial.empty()) lines_.push_back(partial);
  log_eof_ = true;
  cv_.notify_all();
}

Process::~Process() {
  if (running()) (void)Kill();
  if (impl_ && impl_->proc) impl_->proc->detach();  // reaped already; nothing left to terminate
  if (log_reader_.joinable()) log_reader_.join();
}

bool Process::running() {
  if (!impl_ || impl_->status) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  if (r == pid_) {
    impl_->status = WIFSIGNALED(status) ? ExitStatus(Signalled{WTERMSIG(status)})
                                        : ExitStatus(Exited{WEXITSTATUS(status)});
  } else {
    impl_->status = Exited{-1};  // reaped elsewhere: nothing to wait for any more
  }
  return false;
}

Status Process::Signal(int sig) {
  if (!running()) return Status::Error(ESRCH, name_ + " is not running");
  if (::kill(pid_, sig) != 0) return Status::FromErrno("kill " + name_);
  return Status::Ok();
}

Result<ExitStatus> Process::Wait(milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Error(
          ETIMEDOUT, name_ + " still running after " + std::to_string(timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  // The log reader sees EOF once every writer (the child and its children) is gone.
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, milliseconds(500), [&] { return log_eof_; });
  return *impl_->status;
}

Result<ExitStatus> Process::Kill() {
  if (running()) ::kill(pid_, SIGKILL);
  return Wait(milliseconds(10000));
}

size_t Process::line_count() const {
  std::lock_guard<std::mutex> g(mu_);
  return lines_.size();
}

std::string Process::Tail(size_t n) const {
  std::lock_guard<std::mutex> g(mu_);
  std::string out;
  for (size_t i = lines_.size() > n ? lines_.size() - n : 0; i < lines_.size(); ++i) {
    out += lines_[i] + "\n";
  }
  return out;
}

Result<std::string> Process::WaitForLine(const std::function<bool(const std::string&)>& match,
                                         milliseconds timeout, size_t from_line) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> l(mu_);
  size_t next = from_line;
  for (;;) {
    for (; next < lines_.size(); ++next) {
      if (match(lines_[next])) return lines_[next];
    }
    if (log_eof_) {
      l.unlock();
      return Status::Error(ECHILD, name_ + " ended before it was ready; log tail:\n" + Tail(20));
    }
    if (cv_.wait_until(l, deadline) == std::cv_status::timeout && next == lines_.size()) {
      l.unlock();
      return Status::Error(ETIMEDOUT, name_ + " not ready after " +
                                          std::to_string(timeout.count()) + " ms; log tail:\n" +
                                          Tail(20));
    }
  }
}

Status Process::WriteLine(const std::string& line) {
  if (!stdin_.valid()) return Status::Error(EBADF, "stdin is not piped");
  std::string data = line + "\n";
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(stdin_.get(), data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno("write to " + name_);
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Result<std::string> Process::ReadLine(milliseconds timeout) {
  if (!stdout_.valid()) return Status::Error(EBADF, "stdout is not piped");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    size_t nl = stdout_buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = stdout_buffer_.substr(0, nl);
      stdout_buffer_.erase(0, nl + 1);
      return line;
    }
    auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Status::Error(ETIMEDOUT, name_ + ": no reply");
    pollfd pfd{stdout_.get(), POLLIN, 0};
    int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Status::FromErrno("poll");
    if (r == 0) continue;
    char buf[65536];
    ssize_t n = ::read(stdout_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno("read from " + name_);
    if (n == 0) return Status::Error(EPIPE, name_ + " closed its output; log tail:\n" + Tail(20));
    stdout_buffer_.append(buf, static_cast<size_t>(n));
  }
}

std::string FindProgram(const std::string& name) {
  const char* env = getenv("PATH");
  std::string dirs = std::string(env != nullptr ? env : "") + ":/usr/sbin:/sbin:/usr/bin:/bin";
  std::istringstream parts(dirs);
  std::string dir;
  while (std::getline(parts, dir, ':')) {
    if (dir.empty()) continue;
    std::string path = dir + "/" + name;
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

}  // namespace ovl::proc
