#include "rpc/connection.h"

#include <limits.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace ovl::rpc {
namespace {

// The iovecs of the outbox from its first unsent byte, at most IOV_MAX of them.
std::vector<iovec> Gather(std::deque<OutgoingReply>& outbox, size_t front_sent) {
  std::vector<iovec> iov;
  for (OutgoingReply& r : outbox) {
    for (std::string_view part : {std::string_view(r.head), std::string_view(r.results),
                                  std::string_view(r.tail.data.get(), r.tail.size)}) {
      if (front_sent >= part.size()) {
        front_sent -= part.size();
        continue;
      }
      iov.push_back({const_cast<char*>(part.data()) + front_sent, part.size() - front_sent});
      front_sent = 0;
      if (iov.size() == IOV_MAX) return iov;
    }
  }
  return iov;
}

}  // namespace

Connection::Connection(uint64_t i, Fd f, uint32_t ip, uint16_t port, bool a, Clock::time_point now)
    : id(i),
      fd(std::move(f)),
      peer_ipv4(ip),
      peer_port(port),
      allowed(a),
      last_active(now),
      last_progress(now) {}

bool Connection::CanTakeLocked(const ConnectionLimits& limits) const {
  return !dropped && !read_done && calls < limits.max_calls &&
         call_bytes + reply_bytes < limits.max_queued_bytes;
}

bool Connection::MayStartLocked(const ConnectionLimits& limits) const {
  return reply_bytes == 0 || reply_bytes + (static_cast<size_t>(running) + 1) * kReplyReserve <=
                                 limits.max_queued_bytes;
}

void Connection::DropLocked() {
  if (!dropped) {
    dropped = true;
    ::shutdown(fd.get(), SHUT_RDWR);
  }
  // A writer still reads the outbox; it empties it when it sees `dropped`.
  if (!writing) outbox.clear();
  parked.clear();
  calls = running = 0;
  call_bytes = reply_bytes = 0;
}

void Connection::QueueLocked(OutgoingReply reply, Clock::time_point now) {
  if (outbox.empty()) last_progress = now;
  reply_bytes += reply.size();
  outbox.push_back(std::move(reply));
}

size_t Connection::ConsumeLocked(size_t n) {
  size_t completed = 0;
  front_sent += n;
  while (!outbox.empty() && front_sent >= outbox.front().size()) {
    front_sent -= outbox.front().size();
    reply_bytes -= outbox.front().size();
    outbox.pop_front();
    ++completed;
  }
  if (completed > 0) {
    last_active = last_progress = Clock::now();
    answered = true;
  }
  return completed;
}

std::vector<std::string> Connection::FlushLocked(std::unique_lock<std::mutex>& lock) {
  if (writing || dropped) return {};
  writing = true;
  size_t completed = 0;
  while (!outbox.empty() && !dropped) {
    // Other threads only append while we are unlocked, which keeps these pointers valid.
    std::vector<iovec> iov = Gather(outbox, front_sent);
    msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = iov.size();
    lock.unlock();
    ssize_t n = ::sendmsg(fd.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    int error = errno;
    lock.lock();
    if (dropped) break;  // its counters are reset: nothing to account for
    if (n < 0 && error == EINTR) continue;
    if (n < 0 && (error == EAGAIN || error == EWOULDBLOCK)) break;  // the I/O thread waits
    if (n < 0) {
      DropLocked();
      break;
    }
    completed += ConsumeLocked(static_cast<size_t>(n));
  }
  writing = false;
  if (dropped) {
    outbox.clear();
    return {};
  }
  // Parked calls try again once replies drain: all of them when nothing is left to send,
  // otherwise one per reply sent, so a slow peer's calls trickle instead of churning.
  const size_t n = outbox.empty() ? parked.size() : std::min(completed, parked.size());
  std::vector<std::string> resume;
  for (size_t i = 0; i < n; ++i) {
    resume.push_back(std::move(parked.front()));
    parked.pop_front();
  }
  return resume;
}

bool Connection::NeedsIoLocked(const ConnectionLimits& limits) const {
  return dropped || (!outbox.empty() && !writing) || (paused && CanTakeLocked(limits)) ||
         FinishedLocked();
}

}  // namespace ovl::rpc
