#include "backend/node.h"

#include <cerrno>

namespace ovl::backend {

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
