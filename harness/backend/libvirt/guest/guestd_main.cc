// ovl-guestd PORT: serves the control channel on the virtio-serial device PORT (see guestd.h).
// It replaces init.sh as PID 1, so it also reaps orphaned processes.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "backend/libvirt/guest/guestd.h"
#include "base/fd.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: ovl-guestd PORT\n");
    return 2;
  }
  ovl::Fd port(open(argv[1], O_RDWR | O_CLOEXEC));
  if (!port.valid()) {
    std::perror(argv[1]);
    return 1;
  }
  std::fprintf(stderr, "ovl-guestd: serving %s\n", argv[1]);
  std::string buffer;
  char chunk[65536];
  // The guest's lifetime: one iteration per read or idle half second.
  for (;;) {
    ovl::guest::ReapOrphans();
    pollfd p{port.get(), POLLIN, 0};
    if (poll(&p, 1, 500) <= 0) continue;
    ssize_t n = read(port.get(), chunk, sizeof chunk);
    if (n <= 0) {
      // The host end is not connected (a virtio port then reads as EOF): wait for it.
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    buffer.append(chunk, n);
    for (size_t nl; (nl = buffer.find('\n')) != std::string::npos;) {
      const std::string line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      const std::string reply = ovl::guest::HandleRequest(line).dump() + "\n";
      size_t off = 0;
      // Bounded by the reply size; a disconnected host makes write fail and the reply is lost
      // (the host re-asks).
      while (off < reply.size()) {
        ssize_t w = write(port.get(), reply.data() + off, reply.size() - off);
        if (w <= 0) break;
        off += w;
      }
    }
  }
}
