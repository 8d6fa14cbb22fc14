#include "backend/libvirt/guest/guestd.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "backend/fixture_disk.h"
#include "backend/offline_disk.h"
#include "base/fd.h"
#include "ops/fixture.h"
#include "ops/fixture_json.h"
#include "ops/offline.h"

namespace ovl::guest {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string ReadSmallFile(const char* path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

void Append(std::string* out, const char* data, size_t n) {
  out->append(data, n);
  if (out->size() > 2 * kMaxOutput) out->erase(0, out->size() - kMaxOutput);
}

json Fail(const json& id, const std::string& error) {
  return {{"id", id}, {"ok", false}, {"error", error}};
}

json RunExec(const json& id, const json& req) {
  std::vector<std::string> argv;
  for (const auto& a : req.at("argv")) argv.push_back(a.get<std::string>());
  if (argv.empty()) return Fail(id, "exec: empty argv");
  const milliseconds timeout(req.value("timeout_ms", 60000));
  ExecOutcome out = Exec(argv, timeout);
  if (out.timed_out) {
    return {{"id", id},
            {"ok", false},
            {"output", out.output},
            {"error", "timed out after " + std::to_string(timeout.count()) + " ms"}};
  }
  return {{"id", id}, {"ok", true}, {"rc", out.rc}, {"output", out.output}};
}

json RunMaterialize(const json& id, const json& req) {
  auto fixture = ops::FixtureFromJson(req.at("fixture"), 1);
  if (!fixture.ok()) return Fail(id, "fixture: " + fixture.status().ToString());
  std::vector<std::string> lowers = req.at("lowers").get<std::vector<std::string>>();
  Status st = backend::Materialize(*fixture, lowers);
  if (!st.ok()) return Fail(id, "materialize: " + st.ToString());
  ::sync();  // the layers must survive a power cut that follows
  return {{"id", id}, {"ok", true}};
}

json RunVerifyLowers(const json& id, const json& req) {
  auto fixture = ops::FixtureFromJson(req.at("fixture"), 1);
  if (!fixture.ok()) return Fail(id, "fixture: " + fixture.status().ToString());
  Status st =
      backend::VerifyLowerLayers(*fixture, req.at("lowers").get<std::vector<std::string>>());
  if (!st.ok()) return {{"id", id}, {"ok", false}, {"errno", st.code()}, {"error", st.message()}};
  return {{"id", id}, {"ok", true}};
}

json RunOfflineEdit(const json& id, const json& req) {
  auto edit = ops::OfflineEditFromJson(req.at("edit"));
  if (!edit.ok()) return Fail(id, edit.status().ToString());
  Status st = backend::ApplyOfflineEdit(
      *edit, {req.at("lowers").get<std::vector<std::string>>(), req.at("upper").get<std::string>(),
              req.value("work", ""), "ovl-guestd"});
  if (!st.ok()) return {{"id", id}, {"ok", false}, {"errno", st.code()}, {"error", st.message()}};
  ::sync();  // the edit must survive a power cut that follows
  return {{"id", id}, {"ok", true}};
}

json RunHandleCheck(const json& id, const json& req) {
  const std::string path = req.at("path").get<std::string>();
  struct {
    file_handle fh;
    unsigned char buf[MAX_HANDLE_SZ];
  } h{};
  h.fh.handle_bytes = MAX_HANDLE_SZ;
  int mount_id = 0;
  if (name_to_handle_at(AT_FDCWD, path.c_str(), &h.fh, &mount_id, 0) != 0) {
    const int err = errno;
    return {{"id", id},
            {"ok", false},
            {"errno", err},
            {"error", "name_to_handle_at " + path + ": " + std::strerror(err)}};
  }
  return {{"id", id}, {"ok", true}, {"bytes", h.fh.handle_bytes}};
}

}  // namespace

ExecOutcome Exec(const std::vector<std::string>& argv, milliseconds timeout) {
  ExecOutcome out;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    out.output = std::string("pipe2: ") + std::strerror(errno);
    return out;
  }
  Fd read_end(fds[0]), write_end(fds[1]);
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    out.output = std::string("fork: ") + std::strerror(errno);
    return out;
  }
  if (pid == 0) {
    setpgid(0, 0);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(write_end.get(), 1);
    dup2(write_end.get(), 2);
    execvp(cargv[0], cargv.data());
    dprintf(2, "exec %s: %s\n", cargv[0], std::strerror(errno));
    _exit(127);
  }
  setpgid(pid, pid);
  write_end.Reset();
  fcntl(read_end.get(), F_SETFL, O_NONBLOCK);
  const auto deadline = Clock::now() + timeout;
  char buf[8192];
  int status = 0;
  // Until the child exits (not until EOF: daemons it started may keep the pipe open) or the
  // deadline passes.
  // Other exited children are reaped too: as PID 1, guestd inherits the daemons role scripts
  // start, and a command may wait for one of them to exit (kill -0 sees a zombie as alive).
  for (;;) {
    bool done = false;
    for (int i = 0; i < 4096; ++i) {
      int st = 0;
      const pid_t r = waitpid(-1, &st, WNOHANG);
      if (r <= 0) break;
      if (r == pid) {
        status = st;
        done = true;
      }
    }
    pollfd p{read_end.get(), POLLIN, 0};
    poll(&p, 1, done ? 0 : 50);
    ssize_t n;
    while ((n = read(read_end.get(), buf, sizeof buf)) > 0) Append(&out.output, buf, n);
    if (done) break;
    if (Clock::now() >= deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      out.timed_out = true;
      break;
    }
  }
  if (out.output.size() > kMaxOutput) out.output.erase(0, out.output.size() - kMaxOutput);
  out.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return out;
}

json HandleRequest(const std::string& line) {
  json req = json::parse(line, nullptr, false);
  if (req.is_discarded() || !req.is_object()) return Fail(nullptr, "not a JSON object");
  const json id = req.value("id", json());
  try {
    const std::string cmd = req.value("cmd", "");
    if (cmd == "ping") {
      double uptime = std::atof(ReadSmallFile("/proc/uptime").c_str());
      return {{"id", id},
              {"ok", true},
              {"boot_id", ReadSmallFile("/proc/sys/kernel/random/boot_id")},
              {"uptime", uptime}};
    }
    if (cmd == "exec") return RunExec(id, req);
    if (cmd == "materialize") return RunMaterialize(id, req);
    if (cmd == "handle-check") return RunHandleCheck(id, req);
    if (cmd == "verify-lowers") return RunVerifyLowers(id, req);
    if (cmd == "offline-edit") return RunOfflineEdit(id, req);
    return Fail(id, "unknown cmd '" + cmd + "'");
  } catch (const json::exception& e) {
    return Fail(id, std::string("bad request: ") + e.what());
  }
}

void ReapOrphans() {
  // Bounded: each iteration reaps one exited child; there are finitely many.
  for (int i = 0; i < 4096; ++i) {
    if (waitpid(-1, nullptr, WNOHANG) <= 0) return;
  }
}

}  // namespace ovl::guest
