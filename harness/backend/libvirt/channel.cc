#include "backend/libvirt/channel.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <thread>

namespace ovl::backend::libvirt {

Status LineChannel::Connect(const std::string& path, Clock::time_point deadline) {
  Close();
  path_ = path;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return Status::Error(ENAMETOOLONG, "socket path " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  // Bounded by the deadline: one attempt per 50 ms.
  for (;;) {
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return Status::FromErrno("socket");
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      fd_ = std::move(fd);
      return Status::Ok();
    }
    const int err = errno;
    if (Clock::now() >= deadline) {
      return Status::Error(err, "connect " + path + ": " + std::strerror(err));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void LineChannel::Close() {
  fd_.Reset();
  buffer_.clear();
}

Status LineChannel::WriteLine(const std::string& line) {
  if (!fd_.valid()) return Status::Error(ENOTCONN, "channel " + path_ + " is not connected");
  const std::string data = line + "\n";
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd_.get(), data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::FromErrno("write to " + path_);
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Result<std::string> LineChannel::ReadLine(Clock::time_point deadline) {
  if (!fd_.valid()) return Status::Error(ENOTCONN, "channel " + path_ + " is not connected");
  // Bounded by the deadline: each iteration polls until it.
  for (;;) {
    const size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Status::Error(ETIMEDOUT, "no reply on " + path_);
    pollfd p{fd_.get(), POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (r < 0 && errno != EINTR) return Status::FromErrno("poll " + path_);
    if (r <= 0) continue;
    char buf[65536];
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::Error(EPIPE, path_ + " closed");
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace ovl::backend::libvirt
