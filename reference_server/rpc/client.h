// A minimal blocking ONC RPC client over TCP: enough to talk to rpcbind and to drive the server
// in tests. One connection; calls may be pipelined with Send/Receive.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/fd.h"
#include "base/status.h"
#include "rpc/message.h"
#include "rpc/record.h"

namespace ovl::rpc {

struct ClientOptions {
  // Send and receive timeout: a silent server fails the call instead of hanging it.
  int timeout_ms = 5000;
  // Local IPv4 address to connect from (bound before connect); empty: the kernel picks. Lets
  // tests appear as distinct hosts through 127.0.0.0/8.
  std::string source_ipv4;
};

class RpcClient {
 public:
  // Connects to `ipv4`:`port` (from options.source_ipv4 when set).
  static Result<std::unique_ptr<RpcClient>> Connect(const std::string& ipv4, uint16_t port,
                                                    const ClientOptions& options = {});

  // Sends one call as a single record.
  Status Send(const CallHeader& header, std::string_view args);
  // Reads the next reply record (replies may arrive out of order; match them by xid).
  Result<Reply> Receive();
  // Sends a call and waits for its reply, failing if the next reply carries another xid.
  Result<Reply> Call(const CallHeader& header, std::string_view args);

 private:
  explicit RpcClient(Fd fd) : fd_(std::move(fd)) {}
  Status WriteAll(std::string_view a, std::string_view b);

  Fd fd_;
  RecordAssembler assembler_;
  std::string buffer_;  // received bytes not yet fed to the assembler
};

}  // namespace ovl::rpc
