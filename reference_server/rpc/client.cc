#include "rpc/client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>

namespace ovl::rpc {
namespace {

Status SetTimeouts(int fd, int timeout_ms) {
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) {
    return Status::FromErrno("setsockopt timeouts");
  }
  return Status::Ok();
}

Result<sockaddr_in> Ipv4Address(const std::string& ipv4, uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, ipv4.c_str(), &addr.sin_addr) != 1) {
    return Status::Error(EINVAL, "not an IPv4 address: " + ipv4);
  }
  return addr;
}

}  // namespace

Result<std::unique_ptr<RpcClient>> RpcClient::Connect(const std::string& ipv4, uint16_t port,
                                                      const ClientOptions& options) {
  OVL_ASSIGN_OR_RETURN(sockaddr_in addr, Ipv4Address(ipv4, port));
  Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Status::FromErrno("socket");
  if (!options.source_ipv4.empty()) {
    OVL_ASSIGN_OR_RETURN(sockaddr_in local, Ipv4Address(options.source_ipv4, 0));
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
      return Status::FromErrno("bind " + options.source_ipv4);
    }
  }
  OVL_RETURN_IF_ERROR(SetTimeouts(fd.get(), options.timeout_ms));
  int one = 1;
  setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Status::FromErrno("connect " + ipv4 + ":" + std::to_string(port));
  }
  return std::unique_ptr<RpcClient>(new RpcClient(std::move(fd)));
}

Status RpcClient::WriteAll(std::string_view a, std::string_view b) {
  iovec iov[2] = {{const_cast<char*>(a.data()), a.size()}, {const_cast<char*>(b.data()), b.size()}};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  while (iov[0].iov_len + iov[1].iov_len > 0) {
    ssize_t n = sendmsg(fd_.get(), &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("RPC client send");
    }
    for (iovec& v : iov) {
      size_t step = std::min(v.iov_len, static_cast<size_t>(n));
      v.iov_base = static_cast<char*>(v.iov_base) + step;
      v.iov_len -= step;
      n -= static_cast<ssize_t>(step);
    }
  }
  return Status::Ok();
}

Status RpcClient::Send(const CallHeader& header, std::string_view args) {
  xdr::Encoder e;
  size_t mark = e.ReserveU32();
  EncodeCallHeader(header, &e);
  e.PatchU32(mark, kLastFragment | static_cast<uint32_t>(e.size() - 4 + args.size()));
  return WriteAll(e.bytes(), args);
}

Result<Reply> RpcClient::Receive() {
  char chunk[64 * 1024];
  while (!assembler_.has_record()) {
    if (buffer_.empty()) {
      ssize_t n = recv(fd_.get(), chunk, sizeof(chunk), 0);
      if (n == 0) return Status::Error(ECONNRESET, "RPC server closed the connection");
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno("RPC client receive");
      }
      buffer_.assign(chunk, static_cast<size_t>(n));
    }
    OVL_ASSIGN_OR_RETURN(size_t used, assembler_.Feed(buffer_));
    buffer_.erase(0, used);
  }
  return ParseReply(assembler_.TakeRecord());
}

Result<Reply> RpcClient::Call(const CallHeader& header, std::string_view args) {
  OVL_RETURN_IF_ERROR(Send(header, args));
  OVL_ASSIGN_OR_RETURN(Reply reply, Receive());
  if (reply.xid != header.xid) return Status::Error(EBADMSG, "reply for another xid");
  return reply;
}

}  // namespace ovl::rpc
