// The ONC RPC server over TCP. An acceptor thread takes connections; one reader thread per
// connection reassembles records; a shared worker pool parses and runs calls, so many calls per
// connection can be in flight and complete out of order. Every resource a peer can consume is
// bounded (connections, in-flight calls, record size, time spent blocked writing to it), so one
// bad or slow peer cannot take the server down or stall the others.
#pragma once

#include <cstdint>
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
  // Connections beyond this are accepted and closed at once.
  int max_connections = 1024;
  // Calls received but not yet answered, per connection; at the limit the reader stops reading,
  // which pushes back on the client through TCP flow control.
  int max_inflight_per_connection = 64;
  // A reply not written within about this long drops its connection: a client that never reads
  // must not hold a worker forever.
  int send_timeout_ms = 10000;
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
