#include "rpc/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "base/fd.h"
#include "rpc/message.h"
#include "rpc/record.h"

namespace ovl::rpc {
namespace {

using Clock = std::chrono::steady_clock;

// One reply ready to go: `head` holds the record mark and reply header, `results` the program's
// encoded results. Kept apart so a 1 MiB READ result is never copied.
struct OutgoingReply {
  std::string head;
  std::string results;
  xdr::Tail tail;  // a READ's data, sent from where it was read into
};

struct Connection {
  Connection(Fd f, uint32_t ip, uint16_t port) : fd(std::move(f)), peer_ipv4(ip), peer_port(port) {}

  // Closed when the last reference goes: the reader and every queued or running call hold one.
  const Fd fd;
  const uint32_t peer_ipv4;
  const uint16_t peer_port;

  std::mutex mu;
  // Signalled whenever `inflight` drops or the connection is dropped.
  std::condition_variable progress;
  // Calls handed to the pool whose reply is not yet written. Not maintained once dropped.
  int inflight = 0;
  // Set once we give up on the connection: nothing more is read, run or written.
  bool dropped = false;
  // Replies waiting for the writer. At most one worker writes at a time (`writing`); the others
  // queue here and return to the pool, so a slow peer ties up at most one worker.
  std::deque<OutgoingReply> outbox;
  bool writing = false;

  // Gives up on the connection; the shutdown wakes its reader and any blocked writer.
  void DropLocked() {
    if (!dropped) {
      dropped = true;
      ::shutdown(fd.get(), SHUT_RDWR);
    }
    inflight -= static_cast<int>(outbox.size());
    outbox.clear();
    progress.notify_all();
  }
};

struct Task {
  std::shared_ptr<Connection> conn;
  std::string record;
};

// Writes `batch` to `fd`. Fails on a socket error, or when one reply takes longer than `timeout`
// to go out (each send blocks at most SO_SNDTIMEO, so a stalled peer is noticed in bounded time).
bool WriteReplies(int fd, std::deque<OutgoingReply>& batch, Clock::duration timeout) {
  std::vector<iovec> iov;
  std::vector<size_t> reply_ends;  // cumulative byte offset where each reply ends
  size_t total = 0;
  for (OutgoingReply& r : batch) {
    for (std::string* part : {&r.head, &r.results}) {
      if (part->empty()) continue;
      iov.push_back({part->data(), part->size()});
      total += part->size();
    }
    if (r.tail.size > 0) {
      iov.push_back({r.tail.data.get(), r.tail.size});
      total += r.tail.size;
    }
    reply_ends.push_back(total);
  }
  size_t sent = 0, first = 0, next_end = 0;
  Clock::time_point deadline = Clock::now() + timeout;
  while (sent < total) {
    msghdr msg{};
    msg.msg_iov = &iov[first];
    msg.msg_iovlen = std::min<size_t>(iov.size() - first, IOV_MAX);
    ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;  // includes EAGAIN: SO_SNDTIMEO expired without progress
    }
    sent += static_cast<size_t>(n);
    for (size_t left = static_cast<size_t>(n); left > 0;) {
      size_t step = std::min(left, iov[first].iov_len);
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + step;
      iov[first].iov_len -= step;
      left -= step;
      if (iov[first].iov_len == 0) ++first;
    }
    bool finished_one = false;
    while (next_end < reply_ends.size() && reply_ends[next_end] <= sent) {
      ++next_end;
      finished_one = true;
    }
    if (finished_one) {
      deadline = Clock::now() + timeout;
    } else if (Clock::now() > deadline) {
      return false;
    }
  }
  return true;
}

Status SetInt(int fd, int level, int name, int value, const char* what) {
  if (::setsockopt(fd, level, name, &value, sizeof(value)) != 0) return Status::FromErrno(what);
  return Status::Ok();
}

}  // namespace

struct RpcServer::Impl {
  Impl(const ServerOptions& o, std::vector<Program*> p) : options(o), programs(std::move(p)) {}

  Status Listen();
  void Launch();
  void AcceptLoop();
  void AcceptOne();
  void Reap();
  void Wake();
  void ReadLoop(std::shared_ptr<Connection> conn, uint64_t id);
  bool AcquireSlot(Connection& conn);
  void WorkLoop();
  void Serve(Task task);
  void Dispatch(const ParsedCall& call, const Connection& conn, xdr::Encoder* head,
                std::string* results, xdr::Tail* tail);
  void Send(Connection& conn, OutgoingReply reply);
  void Finish(Connection& conn);
  void StopOnce();

  const ServerOptions options;
  const std::vector<Program*> programs;  // immutable after Start: read without locks
  Fd listen_fd;
  Fd wake_fd;  // eventfd: wakes the acceptor to reap finished readers or to stop
  uint16_t port = 0;
  std::thread acceptor;
  std::vector<std::thread> workers;
  std::once_flag stop_once;

  // Work queue. Held only to push or pop, never while a call runs.
  std::mutex queue_mu;
  std::condition_variable queue_cv;
  std::deque<Task> queue;
  bool workers_stopping = false;

  // Connection registry.
  struct Entry {
    std::shared_ptr<Connection> conn;
    std::thread reader;
  };
  std::mutex conns_mu;
  std::map<uint64_t, Entry> conns;
  std::vector<uint64_t> finished;  // readers that have exited, awaiting join
  uint64_t next_id = 0;
  bool stopping = false;
};

Status RpcServer::Impl::Listen() {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(options.port);
  if (::inet_pton(AF_INET, options.address.c_str(), &addr.sin_addr) != 1) {
    return Status::Error(EINVAL, "listen address is not IPv4: " + options.address);
  }
  listen_fd = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listen_fd.valid()) return Status::FromErrno("socket");
  // A restarted server must rebind at once although old connections linger in TIME_WAIT.
  OVL_RETURN_IF_ERROR(SetInt(listen_fd.get(), SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR"));
  std::string where = options.address + ":" + std::to_string(options.port);
  if (::bind(listen_fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Status::FromErrno("bind " + where);
  }
  if (::listen(listen_fd.get(), SOMAXCONN) != 0) return Status::FromErrno("listen " + where);
  socklen_t len = sizeof(addr);
  if (::getsockname(listen_fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return Status::FromErrno("getsockname");
  }
  port = ntohs(addr.sin_port);
  wake_fd = Fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_fd.valid()) return Status::FromErrno("eventfd");
  return Status::Ok();
}

void RpcServer::Impl::Launch() {
  for (int i = 0; i < options.workers; ++i) workers.emplace_back(&Impl::WorkLoop, this);
  acceptor = std::thread(&Impl::AcceptLoop, this);
}

void RpcServer::Impl::Wake() {
  uint64_t one = 1;
  // Cannot fail but on counter overflow, which still leaves the eventfd readable.
  [[maybe_unused]] ssize_t n = ::write(wake_fd.get(), &one, sizeof(one));
}

void RpcServer::Impl::AcceptLoop() {
  while (true) {
    pollfd fds[2] = {{listen_fd.get(), POLLIN, 0}, {wake_fd.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;  // EINTR; poll has no other transient failure here
    if (fds[1].revents & POLLIN) {
      uint64_t count;
      [[maybe_unused]] ssize_t n = ::read(wake_fd.get(), &count, sizeof(count));
      Reap();
      std::lock_guard lock(conns_mu);
      if (stopping) return;
    }
    if (fds[0].revents & POLLIN) AcceptOne();
  }
}

void RpcServer::Impl::AcceptOne() {
  sockaddr_in peer{};
  socklen_t len = sizeof(peer);
  Fd fd(::accept4(listen_fd.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC));
  if (!fd.valid()) {
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      // Out of descriptors or memory: the pending connection stays queued, so back off instead
      // of spinning on a listener that stays readable.
      pollfd wake = {wake_fd.get(), POLLIN, 0};
      ::poll(&wake, 1, 100);
    }
    return;
  }
  timeval tv{options.send_timeout_ms / 1000, (options.send_timeout_ms % 1000) * 1000};
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) return;
  // Replies are often small and latency-bound; keepalive eventually frees readers of vanished
  // peers. Both are optimizations, so their failure is not fatal to the connection.
  SetInt(fd.get(), IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY").IgnoreError();
  SetInt(fd.get(), SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE").IgnoreError();

  std::lock_guard lock(conns_mu);
  if (stopping || conns.size() >= static_cast<size_t>(options.max_connections)) return;
  auto conn = std::make_shared<Connection>(std::move(fd), ntohl(peer.sin_addr.s_addr),
                                           ntohs(peer.sin_port));
  uint64_t id = next_id++;
  conns[id] = Entry{conn, std::thread(&Impl::ReadLoop, this, conn, id)};
}

void RpcServer::Impl::Reap() {
  std::vector<std::thread> done;
  {
    std::lock_guard lock(conns_mu);
    for (uint64_t id : finished) {
      auto it = conns.find(id);
      if (it == conns.end()) continue;
      done.push_back(std::move(it->second.reader));
      conns.erase(it);
    }
    finished.clear();
  }
  for (std::thread& t : done) t.join();
}

bool RpcServer::Impl::AcquireSlot(Connection& conn) {
  std::unique_lock lock(conn.mu);
  conn.progress.wait(
      lock, [&] { return conn.dropped || conn.inflight < options.max_inflight_per_connection; });
  if (conn.dropped) return false;
  ++conn.inflight;
  return true;
}

void RpcServer::Impl::ReadLoop(std::shared_ptr<Connection> conn, uint64_t id) {
  RecordAssembler assembler;
  std::string buf(64 * 1024, '\0');
  bool reading = true;
  while (reading) {
    ssize_t n = ::recv(conn->fd.get(), buf.data(), buf.size(), 0);
    if (n == 0) {
      // The peer sent its last call (or we shut the socket): let the replies in flight go out
      // before the connection is released.
      std::unique_lock lock(conn->mu);
      conn->progress.wait(lock, [&] { return conn->dropped || conn->inflight == 0; });
      break;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      std::lock_guard lock(conn->mu);
      conn->DropLocked();
      break;
    }
    std::string_view pending(buf.data(), static_cast<size_t>(n));
    while (reading && !pending.empty()) {
      Result<size_t> used = assembler.Feed(pending);
      if (!used.ok()) {  // oversize record: the stream cannot be resynchronized
        std::lock_guard lock(conn->mu);
        conn->DropLocked();
        reading = false;
        break;
      }
      pending.remove_prefix(*used);
      if (!assembler.has_record()) continue;
      if (!AcquireSlot(*conn)) {
        reading = false;
        break;
      }
      {
        std::lock_guard lock(queue_mu);
        queue.push_back(Task{conn, assembler.TakeRecord()});
      }
      queue_cv.notify_one();
    }
  }
  {
    std::lock_guard lock(conns_mu);
    finished.push_back(id);
  }
  Wake();
}

void RpcServer::Impl::WorkLoop() {
  while (true) {
    Task task;
    {
      std::unique_lock lock(queue_mu);
      queue_cv.wait(lock, [&] { return workers_stopping || !queue.empty(); });
      if (workers_stopping) return;
      task = std::move(queue.front());
      queue.pop_front();
    }
    Serve(std::move(task));
  }
}

void RpcServer::Impl::Serve(Task task) {
  Connection& conn = *task.conn;
  {
    std::lock_guard lock(conn.mu);
    if (conn.dropped) return;  // nobody will read the reply
  }
  ParsedCall call = ParseCall(task.record);
  xdr::Encoder head;
  size_t mark = head.ReserveU32();
  std::string results;
  xdr::Tail tail;
  switch (call.verdict) {
    case CallVerdict::kDrop:
      Finish(conn);
      return;
    case CallVerdict::kRpcMismatch:
      EncodeRpcMismatchReply(call.ctx.xid, &head);
      break;
    case CallVerdict::kAuthError:
      EncodeAuthErrorReply(call.ctx.xid, call.auth_stat, &head);
      break;
    case CallVerdict::kDispatch:
      Dispatch(call, conn, &head, &results, &tail);
      break;
  }
  head.PatchU32(
      mark, kLastFragment | static_cast<uint32_t>(head.size() - 4 + results.size() + tail.size));
  Send(conn, OutgoingReply{head.Take(), std::move(results), std::move(tail)});
}

void RpcServer::Impl::Dispatch(const ParsedCall& call, const Connection& conn, xdr::Encoder* head,
                               std::string* results, xdr::Tail* tail) {
  const CallContext& c = call.ctx;
  auto it = std::find_if(programs.begin(), programs.end(),
                         [&](const Program* p) { return p->number() == c.prog; });
  if (it == programs.end()) {
    EncodeAcceptedReply(c.xid, AcceptStat::kProgUnavail, head);
    return;
  }
  Program& program = **it;
  if (c.vers < program.min_version() || c.vers > program.max_version()) {
    EncodeProgMismatchReply(c.xid, program.min_version(), program.max_version(), head);
    return;
  }
  CallContext ctx = c;
  ctx.peer_ipv4 = conn.peer_ipv4;
  ctx.peer_port = conn.peer_port;
  xdr::Decoder args(call.args);
  xdr::Encoder out;
  AcceptStat stat = program.Call(ctx, args, out);
  if (stat == AcceptStat::kProgMismatch) {
    EncodeProgMismatchReply(c.xid, program.min_version(), program.max_version(), head);
    return;
  }
  EncodeAcceptedReply(c.xid, stat, head);
  if (stat == AcceptStat::kSuccess) out.TakeParts(results, tail);
}

void RpcServer::Impl::Finish(Connection& conn) {
  std::lock_guard lock(conn.mu);
  --conn.inflight;
  conn.progress.notify_all();
}

void RpcServer::Impl::Send(Connection& conn, OutgoingReply reply) {
  std::unique_lock lock(conn.mu);
  if (conn.dropped) return;
  conn.outbox.push_back(std::move(reply));
  if (conn.writing) return;  // the current writer sends it
  conn.writing = true;
  const auto timeout = std::chrono::milliseconds(options.send_timeout_ms);
  while (!conn.outbox.empty() && !conn.dropped) {
    std::deque<OutgoingReply> batch;
    batch.swap(conn.outbox);
    lock.unlock();
    bool written = WriteReplies(conn.fd.get(), batch, timeout);
    lock.lock();
    conn.inflight -= static_cast<int>(batch.size());
    conn.progress.notify_all();
    if (!written) conn.DropLocked();
  }
  conn.writing = false;
}

void RpcServer::Impl::StopOnce() {
  {
    std::lock_guard lock(conns_mu);
    stopping = true;
  }
  Wake();
  acceptor.join();

  std::map<uint64_t, Entry> open;
  {
    std::lock_guard lock(conns_mu);
    open.swap(conns);
    finished.clear();
  }
  for (auto& [id, entry] : open) {
    std::lock_guard lock(entry.conn->mu);
    entry.conn->DropLocked();
  }
  for (auto& [id, entry] : open) entry.reader.join();

  {
    std::lock_guard lock(queue_mu);
    workers_stopping = true;
  }
  queue_cv.notify_all();
  for (std::thread& t : workers) t.join();
  queue.clear();
  listen_fd.Reset();
}

Result<std::unique_ptr<RpcServer>> RpcServer::Start(const ServerOptions& options,
                                                    std::vector<Program*> programs) {
  if (options.workers < 1 || options.max_connections < 1 ||
      options.max_inflight_per_connection < 1 || options.send_timeout_ms < 1) {
    return Status::Error(EINVAL, "RPC server limits must be positive");
  }
  std::set<uint32_t> numbers;
  for (const Program* p : programs) {
    if (p == nullptr || !numbers.insert(p->number()).second) {
      return Status::Error(EINVAL, "RPC programs must be non-null with distinct numbers");
    }
  }
  auto impl = std::make_unique<Impl>(options, std::move(programs));
  OVL_RETURN_IF_ERROR(impl->Listen());
  impl->Launch();
  return std::unique_ptr<RpcServer>(new RpcServer(std::move(impl)));
}

RpcServer::RpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RpcServer::~RpcServer() {
  Stop();
}

uint16_t RpcServer::port() const {
  return impl_->port;
}

void RpcServer::Stop() {
  std::call_once(impl_->stop_once, [this] { impl_->StopOnce(); });
}

}  // namespace ovl::rpc
