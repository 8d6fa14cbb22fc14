#include "backend/libvirt/stream_pump.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace ovl::backend::libvirt {
namespace {

constexpr int kPollMs = 200;

bool WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<ConsoleCopy>> ConsoleCopy::Start(std::unique_ptr<Stream> stream,
                                                        const std::string& path) {
  Fd file(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!file.valid()) return Status::FromErrno("open " + path);
  std::unique_ptr<ConsoleCopy> c(new ConsoleCopy(std::move(stream), std::move(file)));
  const int fd = c->file_.get();
  OVL_RETURN_IF_ERROR(
      c->stream_->Watch([fd](const char* data, size_t n) { (void)!::write(fd, data, n); }, [] {}));
  return c;
}

ConsoleCopy::ConsoleCopy(std::unique_ptr<Stream> stream, Fd file)
    : stream_(std::move(stream)), file_(std::move(file)) {}

ConsoleCopy::~ConsoleCopy() {
  stream_->Unwatch();
}

Result<std::unique_ptr<ChannelProxy>> ChannelProxy::Start(std::unique_ptr<Stream> stream,
                                                          const std::string& socket_path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) {
    return Status::Error(ENAMETOOLONG, "socket path " + socket_path);
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  ::unlink(socket_path.c_str());
  Fd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener.valid()) return Status::FromErrno("socket");
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener.get(), 4) != 0) {
    return Status::FromErrno("listen on " + socket_path);
  }
  std::unique_ptr<ChannelProxy> p(
      new ChannelProxy(std::move(stream), std::move(listener), socket_path));
  ChannelProxy* q = p.get();
  OVL_RETURN_IF_ERROR(q->stream_->Watch([q](const char* data, size_t n) { q->FromStream(data, n); },
                                        [q] { q->StreamEnded(); }));
  p->to_ = std::thread([q] { q->ToStream(); });
  return p;
}

ChannelProxy::ChannelProxy(std::unique_ptr<Stream> stream, Fd listener, std::string path)
    : stream_(std::move(stream)), listener_(std::move(listener)), path_(std::move(path)) {}

ChannelProxy::~ChannelProxy() {
  stopping_ = true;
  to_.join();  // polls stopping_
  stream_->Unwatch();
  ::unlink(path_.c_str());
}

void ChannelProxy::FromStream(const char* data, size_t n) {
  std::lock_guard<std::mutex> g(mu_);
  if (conn_.valid() && !WriteAll(conn_.get(), data, n)) ::shutdown(conn_.get(), SHUT_RDWR);
}

void ChannelProxy::StreamEnded() {
  ended_ = true;
  std::lock_guard<std::mutex> g(mu_);
  // The local end sees the channel close, as it would a local VM's socket.
  if (conn_.valid()) ::shutdown(conn_.get(), SHUT_RDWR);
}

void ChannelProxy::ToStream() {
  char buf[65536];
  int conn = -1;
  // Bounded by stopping_ (the destructor) and the stream's end: every wait is a short poll.
  while (!stopping_) {
    if (conn < 0) {
      if (ended_) break;
      pollfd p{listener_.get(), POLLIN, 0};
      if (::poll(&p, 1, kPollMs) <= 0) continue;
      Fd accepted(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!accepted.valid()) continue;
      conn = accepted.get();
      std::lock_guard<std::mutex> g(mu_);
      conn_ = std::move(accepted);
      continue;
    }
    pollfd p{conn, POLLIN, 0};
    if (::poll(&p, 1, kPollMs) <= 0) continue;
    const ssize_t n = ::read(conn, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || !stream_->Send(buf, static_cast<size_t>(n)).ok()) {
      std::lock_guard<std::mutex> g(mu_);
      conn_.Reset();
      conn = -1;
    }
  }
  std::lock_guard<std::mutex> g(mu_);
  conn_.Reset();
}

}  // namespace ovl::backend::libvirt
