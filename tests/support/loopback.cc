#include "support/loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <thread>

#include "backend/loopback.h"
#include "base/fd.h"

namespace ovl::testsupport {

Result<SilentListener> ListenSilentlyOnLoopback() {
  SilentListener listener;
  listener.socket = Fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener.socket.valid()) return Status::FromErrno("socket");
  sockaddr_in addr = backend::LoopbackAddress(0);
  socklen_t len = sizeof(addr);
  if (bind(listener.socket.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    return Status::FromErrno("bind 127.0.0.1:0");
  }
  if (listen(listener.socket.get(), 4) != 0) return Status::FromErrno("listen");
  if (getsockname(listener.socket.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return Status::FromErrno("getsockname");
  }
  listener.port = ntohs(addr.sin_port);
  return listener;
}

Status WaitForLoopbackPort(uint16_t port, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!LoopbackPortAccepts(port)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Error(ETIMEDOUT, "nothing accepts on 127.0.0.1:" + std::to_string(port));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::Ok();
}

}  // namespace ovl::testsupport
