#include "backend/node.h"

#include <cerrno>
#include <string_view>
#include <variant>

namespace ovl::backend {
namespace {

constexpr std::string_view kMountDir = "/mnt/";
constexpr std::string_view kVersionMark = "@v";

}  // namespace

agent::protocol::Connect ForNfsVersion(agent::protocol::Connect connect,
                                       const std::string& nfs_version) {
  auto* s = std::get_if<agent::protocol::SyscallsAccess>(&connect.access);
  if (s == nullptr || nfs_version.empty() || !ParseMountRoot(s->root)) return connect;
  s->root += std::string(kVersionMark) + nfs_version;
  return connect;
}

std::optional<MountRoot> ParseMountRoot(const std::string& root) {
  if (root.rfind(kMountDir, 0) != 0) return std::nullopt;
  std::string name = root.substr(kMountDir.size());
  if (name.empty() || name.find('/') != std::string::npos) return std::nullopt;
  const size_t mark = name.find(kVersionMark);
  if (mark == std::string::npos) return MountRoot{name, name, ""};
  return MountRoot{name, name.substr(0, mark), name.substr(mark + kVersionMark.size())};
}

Result<std::string> AgentNode::AwaitReply(
    const std::function<Result<std::string>(Clock::time_point deadline)>& read,
    std::chrono::milliseconds bound) const {
  Clock::time_point from = Clock::now();
  for (;;) {
    Result<std::string> line = read(from + bound);
    if (line.ok() || line.status().code() != ETIMEDOUT || !outage_end_) return line;
    const Clock::time_point end = outage_end_();
    if (end <= from) return line;
    from = end;
  }
}

}  // namespace ovl::backend
