#include "image/command.h"

#include <unistd.h>

#include <cstdlib>

#include "proc/process.h"

namespace ovl::image {
namespace {

std::string Describe(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + a;
  return out.size() > 300 ? out.substr(0, 300) + "..." : out;
}

Status Finish(proc::Process& proc, const std::vector<std::string>& argv, milliseconds timeout) {
  auto exit = proc.Wait(timeout);
  if (!exit.ok()) {
    (void)proc.Kill();
    return Status::Error(ETIMEDOUT, Describe(argv) + ": still running after " +
                                        std::to_string(timeout.count() / 1000) +
                                        " s; output tail:\n" + proc.Tail(20));
  }
  const auto* e = std::get_if<proc::Exited>(&*exit);
  if (e == nullptr || e->code != 0) {
    return Status::Error(
        EIO, Describe(argv) + ": " + proc::ToString(*exit) + "; output tail:\n" + proc.Tail(20));
  }
  return Status::Ok();
}

}  // namespace

Status RunCommand(const std::vector<std::string>& argv, const std::string& log_path,
                  milliseconds timeout) {
  auto proc = proc::Process::Start({argv, log_path, false});
  if (!proc.ok())
    return Status::Error(proc.status().code(), Describe(argv) + ": " + proc.status().message());
  return Finish(**proc, argv, timeout);
}

Result<std::string> CaptureCommand(const std::vector<std::string>& argv,
                                   const std::string& log_path, milliseconds timeout) {
  auto proc = proc::Process::Start({argv, log_path, true});
  if (!proc.ok())
    return Status::Error(proc.status().code(), Describe(argv) + ": " + proc.status().message());
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // One line per iteration; bounded by the deadline.
  for (;;) {
    auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    auto line = (*proc)->ReadLine(left);
    if (!line.ok()) break;  // EPIPE at end of output; a timeout is reported by Finish
    out += *line + "\n";
  }
  auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
  OVL_RETURN_IF_ERROR(Finish(**proc, argv, std::max(left, milliseconds(1000))));
  return out;
}

bool HaveTool(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t colon = dirs.find(':', start);
    if (colon == std::string::npos) colon = dirs.size();
    if (::access((dirs.substr(start, colon - start) + "/" + name).c_str(), X_OK) == 0) return true;
    start = colon + 1;
  }
  return false;
}

}  // namespace ovl::image
