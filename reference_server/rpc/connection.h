// One TCP connection of the RPC server (rpc/server.h): its bounded queues of calls and replies,
// and the non-blocking writer that drains its replies. Internal to the server: the I/O thread
// reads, the workers run calls and queue replies, and whoever finds the socket writable sends,
// so no thread ever blocks on a peer's socket.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "base/fd.h"
#include "rpc/record.h"
#include "xdr/xdr.h"

namespace ovl::rpc {

using Clock = std::chrono::steady_clock;

// One reply ready to go: `head` holds the record mark and reply header, `results` the program's
// encoded results. Kept apart so a 1 MiB READ result is never copied.
struct OutgoingReply {
  std::string head;
  std::string results;
  xdr::Tail tail;  // a READ's data, sent from where it was read into
  size_t size() const { return head.size() + results.size() + tail.size; }
};

// What a call running for a connection counts against its queue cap until its reply is queued:
// the largest reply the programs make (a 1 MiB READ and its headers), taken to be as large as
// the largest call. A larger reply only overshoots the cap.
inline constexpr size_t kReplyReserve = kMaxRecordSize;

// The per-connection limits (from ServerOptions).
struct ConnectionLimits {
  int max_calls = 64;           // calls taken and not yet answered
  size_t max_queued_bytes = 0;  // call records waiting to run + replies waiting to be sent
};

struct Connection {
  Connection(uint64_t id, Fd fd, uint32_t peer_ipv4, uint16_t peer_port, bool allowed,
             Clock::time_point now);

  const uint64_t id;
  // Closed when the last reference goes: the server's table and every queued or running call
  // hold one, so a worker never writes to a number reused by a newer connection.
  const Fd fd;
  const uint32_t peer_ipv4;  // host byte order
  const uint16_t peer_port;
  const bool allowed;  // ServerOptions::peer_allowed said yes

  // Owned by the I/O thread.
  RecordAssembler assembler;
  std::string unfed;    // bytes read but not yet fed: a limit was hit mid-buffer
  uint32_t events = 0;  // the epoll interest registered now

  std::mutex mu;
  // The fields below are guarded by `mu`.
  bool dropped = false;    // given up: nothing more is read, run or written
  bool read_done = false;  // EOF, or a disallowed peer's first call: close once all is answered
  bool paused = false;     // the I/O thread stopped reading on a limit: wake it when below
  int calls = 0;           // taken and not yet answered (queued, parked or running)
  int running = 0;         // of those, in a worker now
  size_t call_bytes = 0;   // records of calls not yet started
  size_t reply_bytes = 0;  // replies not yet completely sent
  std::deque<std::string> parked;  // calls waiting until MayStartLocked
  std::deque<OutgoingReply> outbox;
  size_t front_sent = 0;            // bytes of outbox.front() already sent
  bool writing = false;             // a thread is sending from `outbox`; the others only append
  bool answered = false;            // a reply went out: the peer speaks RPC to us
  Clock::time_point last_active;    // last call taken or reply sent: idle since then
  Clock::time_point last_progress;  // last reply completed, or when the outbox filled

  // True while the connection may take another call.
  bool CanTakeLocked(const ConnectionLimits& limits) const;
  // True when a worker may start one more call now. While replies are backed up, the queued
  // replies plus kReplyReserve per running call must stay within the cap; a peer that keeps up
  // (nothing queued) is not limited, so its replies add at most one reserve per worker.
  bool MayStartLocked(const ConnectionLimits& limits) const;
  // No call in progress and no reply pending.
  bool IdleLocked() const { return calls == 0 && outbox.empty(); }
  // True when everything asked has been answered after the peer stopped sending.
  bool FinishedLocked() const { return read_done && IdleLocked() && !writing; }
  // Gives up on the connection; the shutdown makes epoll report it and fails any send.
  void DropLocked();
  // Appends a reply to the outbox, counting its bytes.
  void QueueLocked(OutgoingReply reply, Clock::time_point now);
  // Sends from the outbox without blocking until it is empty or the socket is full, unless
  // another thread is sending already. Releases `lock` (on `mu`) while in sendmsg. Drops the
  // connection on a socket error. Returns the parked calls that may run again now that replies
  // have drained, for the caller to queue (a worker checks MayStartLocked again).
  std::vector<std::string> FlushLocked(std::unique_lock<std::mutex>& lock);
  // True when the I/O thread must look at the connection: it waits for POLLOUT, may be read
  // again, is finished or dropped.
  bool NeedsIoLocked(const ConnectionLimits& limits) const;

 private:
  // Accounts for `n` bytes sent from the front of the outbox; returns the replies completed.
  size_t ConsumeLocked(size_t n);
};

}  // namespace ovl::rpc
