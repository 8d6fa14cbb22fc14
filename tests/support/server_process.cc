#include "support/server_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <optional>
#include <sstream>
#include <utility>

namespace ovl::testsupport {

namespace {

constexpr char kListening[] = "ovlnfsd: listening on ";
constexpr char kCachesDropped[] = "ovlnfsd: caches dropped";
constexpr char kCounters[] = "ovlnfsd: counters ";

// How long the reader keeps waiting for more output once the child is gone; only a process
// that inherited the pipe (none is expected) can keep it open longer.
constexpr int kReaderPollMs = 50;
// How long a server that closed its output may take to exit before it is killed.
constexpr std::chrono::seconds kExitGrace(2);

Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) != 0) return Status::FromErrno("mkdir " + path);
  return Status::Ok();
}

// A whole decimal string as a number; nullopt for anything else.
std::optional<uint64_t> ParseUint(const std::string& text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

Result<std::unique_ptr<ServerProcess>> ServerProcess::Create(ServerOptions options) {
  if (options.binary.empty()) return Status::Error(EINVAL, "ServerOptions.binary is empty");
  if (options.lower_count == 0) return Status::Error(EINVAL, "an overlay needs a lower dir");
  OVL_ASSIGN_OR_RETURN(ScratchDir scratch, ScratchDir::Create("ovlnfsd-test"));
  std::unique_ptr<ServerProcess> server(new ServerProcess(std::move(options), std::move(scratch)));
  for (size_t i = 0; i < server->options_.lower_count; ++i) {
    server->lowers_.push_back(server->root() + "/lower" + std::to_string(i));
    OVL_RETURN_IF_ERROR(MakeDir(server->lowers_.back()));
  }
  server->upper_ = server->root() + "/upper";
  server->work_ = server->root() + "/work";
  OVL_RETURN_IF_ERROR(MakeDir(server->upper_));
  OVL_RETURN_IF_ERROR(MakeDir(server->work_));
  server->log_path_ = server->options_.log_path.empty() ? server->root() + "/server.log"
                                                        : server->options_.log_path;
  server->log_fd_ =
      Fd(open(server->log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!server->log_fd_.valid()) return Status::FromErrno("open " + server->log_path_);
  return server;
}

ServerProcess::ServerProcess(ServerOptions options, ScratchDir scratch)
    : options_(std::move(options)), scratch_(std::move(scratch)) {}

ServerProcess::~ServerProcess() {
  if (child_.running()) child_.Kill().status().IgnoreError();
  child_reaped_ = true;
  JoinReader();
}

std::vector<std::string> ServerProcess::Argv(uint16_t port) const {
  std::string lower;
  for (const std::string& dir : lowers_) lower += (lower.empty() ? "" : ":") + dir;
  std::vector<std::string> argv = {
      options_.binary, "--lower",  lower,
      "--upper",       upper_,     "--work",
      work_,           "--listen", "127.0.0.1:" + std::to_string(port)};
  if (!options_.export_path.empty())
    argv.insert(argv.end(), {"--export-path", options_.export_path});
  if (!options_.squash.empty()) argv.insert(argv.end(), {"--squash", options_.squash});
  if (!options_.handles.empty()) argv.insert(argv.end(), {"--handles", options_.handles});
  if (options_.no_index) argv.push_back("--no-index");
  if (options_.threads > 0)
    argv.insert(argv.end(), {"--threads", std::to_string(options_.threads)});
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  return argv;
}

Status ServerProcess::Start(uint16_t port) {
  if (IsRunning())
    return Status::Error(EBUSY, "ovlnfsd already runs (pid " + std::to_string(child_.pid()) + ")");
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Status::FromErrno("pipe2");
  Fd read_end(fds[0]);
  Fd write_end(fds[1]);
  OVL_ASSIGN_OR_RETURN(child_, ChildProcess::Spawn(Argv(port), write_end.get()));
  // Only the child may hold the write end, so that its exit is EOF for the reader.
  write_end.Reset();
  size_t from;
  {
    std::lock_guard<std::mutex> lock(mu_);
    output_closed_ = false;
    from = lines_.size();
  }
  child_reaped_ = false;
  reader_ = std::thread(&ServerProcess::ReadOutput, this, std::move(read_end));

  Result<std::string> line = WaitForLine(kListening, from, options_.start_timeout);
  uint16_t listening = 0;
  if (line.ok()) {
    // "ovlnfsd: listening on 127.0.0.1:PORT": the port follows the last ':'.
    size_t colon = line->rfind(':');
    std::optional<uint64_t> value;
    if (colon != std::string::npos) value = ParseUint(line->substr(colon + 1));
    if (value && *value > 0 && *value <= 65535) listening = static_cast<uint16_t>(*value);
  }
  if (listening == 0) {
    std::string why =
        line.ok() ? "unparsable listening line '" + *line + "'" : line.status().message();
    // A child that closed its output is exiting; give it a moment to become reapable so that
    // its exit status can be reported.
    const bool exiting = !line.ok() && line.status().code() == ECHILD;
    Result<int> exited = child_.Wait(exiting ? kExitGrace : std::chrono::milliseconds(0));
    if (child_.running()) child_.Kill().status().IgnoreError();
    child_reaped_ = true;
    JoinReader();
    if (exited.ok()) why += "; exit status " + std::to_string(*exited);
    return Status::Error(line.ok() ? EPROTO : line.status().code(),
                         "ovlnfsd did not start: " + why + "\n" + Tail(20));
  }
  port_ = listening;
  last_port_ = listening;
  return Status::Ok();
}

Status ServerProcess::Restart(PortChoice port) {
  if (IsRunning()) {
    OVL_ASSIGN_OR_RETURN(int status, Terminate());
    if (status != 0) {
      return Status::Error(
          EIO, "ovlnfsd exited with status " + std::to_string(status) + " on SIGTERM\n" + Tail(20));
    }
  }
  return Start(port == PortChoice::kSame ? last_port_ : 0);
}

Result<int> ServerProcess::Terminate() {
  if (!IsRunning()) return Status::Error(ECHILD, "ovlnfsd is not running");
  OVL_RETURN_IF_ERROR(child_.Signal(SIGTERM));
  Result<int> status = child_.Wait(options_.stop_timeout);
  if (!status.ok()) {
    child_.Kill().status().IgnoreError();
    status = Status::Error(ETIMEDOUT, "ovlnfsd ignored SIGTERM for " +
                                          std::to_string(options_.stop_timeout.count()) +
                                          " ms; killed it");
  }
  child_reaped_ = true;
  JoinReader();
  port_ = 0;
  return status;
}

Status ServerProcess::Kill() {
  if (!IsRunning()) return Status::Error(ECHILD, "ovlnfsd is not running");
  Status st = child_.Kill().status();
  child_reaped_ = true;
  JoinReader();
  port_ = 0;
  return st;
}

Status ServerProcess::DropCaches() {
  if (!IsRunning()) return Status::Error(ECHILD, "ovlnfsd is not running");
  size_t from = LineCount();
  OVL_RETURN_IF_ERROR(child_.Signal(SIGUSR1));
  return WaitForLine(kCachesDropped, from, options_.reply_timeout).status();
}

Result<std::map<std::string, uint64_t>> ServerProcess::Counters() {
  if (!IsRunning()) return Status::Error(ECHILD, "ovlnfsd is not running");
  size_t from = LineCount();
  OVL_RETURN_IF_ERROR(child_.Signal(SIGUSR2));
  OVL_ASSIGN_OR_RETURN(std::string line, WaitForLine(kCounters, from, options_.reply_timeout));
  std::map<std::string, uint64_t> counters;
  std::istringstream words(line.substr(sizeof(kCounters) - 1));
  std::string word;
  while (words >> word) {
    size_t eq = word.find('=');
    std::optional<uint64_t> value;
    if (eq != std::string::npos && eq > 0) value = ParseUint(word.substr(eq + 1));
    if (!value) return Status::Error(EPROTO, "bad counter '" + word + "' in: " + line);
    counters[word.substr(0, eq)] = *value;
  }
  return counters;
}

bool ServerProcess::IsRunning() {
  if (!child_.running()) return false;
  if (child_.Poll().has_value()) {
    // It died on its own (a crash the test did not cause); the reader sees EOF by itself.
    child_reaped_ = true;
    JoinReader();
    port_ = 0;
    return false;
  }
  return true;
}

std::vector<std::string> ServerProcess::Lines() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lines_;
}

std::string ServerProcess::Tail(size_t n) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (size_t i = lines_.size() > n ? lines_.size() - n : 0; i < lines_.size(); ++i) {
    out += lines_[i] + "\n";
  }
  return out;
}

size_t ServerProcess::LineCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lines_.size();
}

void ServerProcess::ReadOutput(Fd pipe) {
  std::string partial;
  char buf[4096];
  while (true) {
    pollfd pfd{pipe.get(), POLLIN, 0};
    int n = poll(&pfd, 1, kReaderPollMs);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      if (child_reaped_) break;
      continue;
    }
    ssize_t got = n < 0 ? -1 : read(pipe.get(), buf, sizeof(buf));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    // The log is a debugging aid: a failed write must not stop the line capture.
    if (write(log_fd_.get(), buf, static_cast<size_t>(got)) < 0) errno = 0;
    partial.append(buf, static_cast<size_t>(got));
    std::vector<std::string> complete;
    for (size_t nl; (nl = partial.find('\n')) != std::string::npos; partial.erase(0, nl + 1)) {
      complete.push_back(partial.substr(0, nl));
    }
    if (!complete.empty()) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.insert(lines_.end(), complete.begin(), complete.end());
      cv_.notify_all();
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!partial.empty()) lines_.push_back(partial);
  output_closed_ = true;
  cv_.notify_all();
}

void ServerProcess::JoinReader() {
  if (reader_.joinable()) reader_.join();
}

Result<std::string> ServerProcess::WaitForLine(const std::string& prefix, size_t from,
                                               std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  size_t next = from;
  auto found = [&] {
    for (; next < lines_.size(); ++next) {
      if (StartsWith(lines_[next], prefix)) return true;
    }
    return false;
  };
  cv_.wait_for(lock, timeout, [&] { return found() || output_closed_; });
  if (found()) return lines_[next];
  if (output_closed_) {
    return Status::Error(ECHILD, "ovlnfsd closed its output (exited) before '" + prefix + "'");
  }
  return Status::Error(
      ETIMEDOUT, "no '" + prefix + "' line within " + std::to_string(timeout.count()) + " ms");
}

}  // namespace ovl::testsupport
