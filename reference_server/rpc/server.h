// The ONC RPC server over TCP. One I/O thread accepts connections, reassembles records and
// keeps the timers; a shared worker pool parses and runs calls, so many calls per connection can
// be in flight and complete out of order. Sockets are non-blocking: a worker sends its reply if
// the socket takes it and otherwise leaves it queued for the I/O thread, so no thread ever waits
// on a peer. Every resource a peer can consume is bounded (connections in all and per address,
// idle time, calls in flight, queued bytes, record size, time without sending progress), so one
// bad, slow or numerous set of peers cannot take the server down or stall the others.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "rpc/program.h"

namespace ovl::rpc {

struct ServerOptions {
  // IPv4 address to listen on, and port (0 picks an ephemeral one; see RpcServer::port()).
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  // Threads running Program::Call.
  int workers = 4;
  // Open connections, in all and from one peer address. A new connection over either limit
  // takes the place of the connection idle longest (of that address for the per-address limit),
  // disallowed peers' first; when none is idle (or the newcomer is disallowed and no other
  // disallowed one is open) the newcomer is closed at once.
  int max_connections = 1024;
  int max_connections_per_address = 128;
  // A connection with no call in progress and no reply pending for this long is closed.
  int idle_timeout_ms = 360000;
  // Calls received but not yet answered, per connection; at the limit the connection is not
  // read, which pushes back on the client through TCP flow control.
  int max_inflight_per_connection = 64;
  // Bytes of calls waiting to run plus replies waiting to be sent, per connection. Over it the
  // connection is not read, and its calls wait without holding a worker until replies drain.
  size_t max_queued_bytes_per_connection = 4u << 20;
  // A connection whose pending replies make no progress (none completely sent) for this long is
  // dropped: a client that never reads must not pin memory forever.
  int send_timeout_ms = 10000;
  // Whether a peer (IPv4, host byte order) may use the programs at all; unset: every peer. A
  // disallowed peer's first call is answered (the programs refuse it with their own errors),
  // then its connection is closed; it never displaces an allowed peer's connection.
  std::function<bool(uint32_t ipv4)> peer_allowed;
};

class RpcServer {
 public:
  // Listens and starts serving `programs` (not owned; they must outlive the server, and their
  // program numbers must be distinct).
  static Result<std::unique_ptr<RpcServer>> Start(const ServerOptions& options,
                                                  std::vector<Program*> programs);
  // Stops the server (see Stop()).
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // The TCP port actually listened on.
  uint16_t port() const;
  // Closes the listener and every connection and joins all threads; calls already running finish
  // first, queued ones are dropped. Idempotent and safe to call from several threads, but not
  // from inside Program::Call (it waits for the workers).
  void Stop();

 private:
  struct Impl;
  explicit RpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ovl::rpc
