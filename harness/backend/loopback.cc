#include "backend/loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "base/fd.h"

namespace ovl::backend {

sockaddr_in LoopbackAddress(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

Result<std::vector<uint16_t>> PickFreeLoopbackPorts(size_t count) {
  // All sockets stay open until every port is known, so the ports are distinct.
  std::vector<Fd> sockets;
  std::vector<uint16_t> ports;
  for (size_t i = 0; i < count; ++i) {
    Fd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s.valid()) return Status::FromErrno("socket");
    sockaddr_in addr = LoopbackAddress(0);
    if (bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return Status::FromErrno("bind 127.0.0.1:0");
    }
    socklen_t len = sizeof(addr);
    if (getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return Status::FromErrno("getsockname");
    }
    ports.push_back(ntohs(addr.sin_port));
    sockets.push_back(std::move(s));
  }
  return ports;
}

bool LoopbackPortAccepts(uint16_t port) {
  Fd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return false;
  sockaddr_in addr = LoopbackAddress(port);
  return connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
}

bool UnixSocketAccepts(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) return false;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  Fd s(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return false;
  return connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
}

}  // namespace ovl::backend
