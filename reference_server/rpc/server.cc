#include "rpc/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "base/fd.h"
#include "rpc/connection.h"
#include "rpc/message.h"
#include "rpc/record.h"

namespace ovl::rpc {
namespace {

using ConnPtr = std::shared_ptr<Connection>;
using std::chrono::milliseconds;

// epoll keys of the two descriptors that are not connections; connections count up from here.
constexpr uint64_t kListenKey = 0, kWakeKey = 1, kFirstConnId = 2;
// How long the listener rests when the process is out of descriptors or memory: the pending
// connection stays queued, so the listener stays readable and would otherwise spin.
constexpr milliseconds kAcceptBackoff(100);

struct Task {
  ConnPtr conn;
  std::string record;
};

Status SetInt(int fd, int level, int name, int value, const char* what) {
  if (::setsockopt(fd, level, name, &value, sizeof(value)) != 0) return Status::FromErrno(what);
  return Status::Ok();
}

}  // namespace

// One I/O thread owns the listener and every connection's reading, epoll interest and timers;
// workers run calls and send replies without blocking (rpc/connection.h). The I/O thread learns
// of worker-side changes through `dirty` and the eventfd.
struct RpcServer::Impl {
  Impl(const ServerOptions& o, std::vector<Program*> p)
      : options(o),
        programs(std::move(p)),
        limits{o.max_inflight_per_connection, o.max_queued_bytes_per_connection} {}

  Status Listen();
  void Launch();
  void Wake();
  void Notify(uint64_t id);
  // The I/O thread.
  void IoLoop();
  void HandleEvent(uint64_t key, uint32_t events);
  void AcceptSome();
  void Admit(Fd fd, const sockaddr_in& peer);
  bool Shed(const uint32_t* address, bool newcomer_allowed);
  void ReadFrom(const ConnPtr& conn);
  bool FeedBytes(const ConnPtr& conn, std::string_view data);
  void Take(const ConnPtr& conn, std::string record);
  void FlushFromIo(const ConnPtr& conn);
  void Service(const ConnPtr& conn);
  void Close(const ConnPtr& conn);
  void ServiceDirty();
  void Sweep(Clock::time_point now);
  void CloseAll();
  // Workers.
  void WorkLoop();
  void Serve(Task task);
  void Dispatch(const ParsedCall& call, const Connection& conn, xdr::Encoder* head,
                std::string* results, xdr::Tail* tail);
  void Send(const ConnPtr& conn, OutgoingReply reply);
  void Finish(const ConnPtr& conn);
  void Enqueue(const ConnPtr& conn, std::vector<std::string> records);
  void StopOnce();

  const ServerOptions options;
  const std::vector<Program*> programs;  // immutable after Start: read without locks
  const ConnectionLimits limits;
  Fd listen_fd;
  Fd wake_fd;  // eventfd: wakes the I/O thread for dirty connections or to stop
  Fd epoll_fd;
  uint16_t port = 0;
  std::thread io;
  std::vector<std::thread> workers;
  std::once_flag stop_once;

  // Work queue. Held only to push or pop, never while a call runs.
  std::mutex queue_mu;
  std::condition_variable queue_cv;
  std::deque<Task> queue;
  bool workers_stopping = false;

  // Connections whose state a worker changed in a way the I/O thread must act on.
  std::mutex dirty_mu;
  std::vector<uint64_t> dirty;
  bool stopping = false;  // guarded by dirty_mu

  // Owned by the I/O thread.
  std::unordered_map<uint64_t, ConnPtr> conns;
  std::unordered_map<uint32_t, int> per_address;
  uint64_t next_id = kFirstConnId;
  Clock::time_point accept_resume{};  // the listener rests until then (see kAcceptBackoff)
  std::array<char, 64 * 1024> read_buf;
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
  epoll_fd = Fd(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_fd.valid()) return Status::FromErrno("epoll_create1");
  for (auto [fd, key] : {std::pair{listen_fd.get(), kListenKey}, {wake_fd.get(), kWakeKey}}) {
    epoll_event ev{EPOLLIN, {.u64 = key}};
    if (::epoll_ctl(epoll_fd.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
      return Status::FromErrno("epoll_ctl");
    }
  }
  return Status::Ok();
}

void RpcServer::Impl::Launch() {
  for (int i = 0; i < options.workers; ++i) workers.emplace_back(&Impl::WorkLoop, this);
  io = std::thread(&Impl::IoLoop, this);
}

void RpcServer::Impl::Wake() {
  uint64_t one = 1;
  // Cannot fail but on counter overflow, which still leaves the eventfd readable.
  [[maybe_unused]] ssize_t n = ::write(wake_fd.get(), &one, sizeof(one));
}

void RpcServer::Impl::Notify(uint64_t id) {
  {
    std::lock_guard lock(dirty_mu);
    dirty.push_back(id);
  }
  Wake();
}

void RpcServer::Impl::IoLoop() {
  // Timers (idle and send timeouts, the listener's rest) are checked this often.
  const milliseconds tick =
      std::clamp(milliseconds(std::min(options.send_timeout_ms, options.idle_timeout_ms) / 4),
                 milliseconds(10), milliseconds(1000));
  Clock::time_point next_sweep = Clock::now() + tick;
  std::array<epoll_event, 256> events;
  while (true) {
    int n = ::epoll_wait(epoll_fd.get(), events.data(), static_cast<int>(events.size()),
                         static_cast<int>(tick.count()));
    for (int i = 0; i < n; ++i) HandleEvent(events[i].data.u64, events[i].events);
    ServiceDirty();
    {
      std::lock_guard lock(dirty_mu);
      if (stopping) break;
    }
    const Clock::time_point now = Clock::now();
    if (now >= next_sweep) {
      Sweep(now);
      next_sweep = now + tick;
    }
  }
  CloseAll();
}

void RpcServer::Impl::HandleEvent(uint64_t key, uint32_t events) {
  if (key == kWakeKey) {
    uint64_t count;
    [[maybe_unused]] ssize_t n = ::read(wake_fd.get(), &count, sizeof(count));
    return;
  }
  if (key == kListenKey) {
    AcceptSome();
    return;
  }
  auto it = conns.find(key);
  if (it == conns.end()) return;
  ConnPtr conn = it->second;
  if (events & (EPOLLERR | EPOLLHUP)) {  // reset, or shut both ways: nobody reads replies
    std::lock_guard lock(conn->mu);
    conn->DropLocked();
  } else {
    if (events & EPOLLOUT) FlushFromIo(conn);
    if (events & EPOLLIN) ReadFrom(conn);
  }
  Service(conn);
}

void RpcServer::Impl::AcceptSome() {
  // A bounded batch, so a connect storm cannot starve the connections already open.
  for (int i = 0; i < 64; ++i) {
    sockaddr_in peer{};
    socklen_t len = sizeof(peer);
    Fd fd(::accept4(listen_fd.get(), reinterpret_cast<sockaddr*>(&peer), &len,
                    SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (fd.valid()) {
      Admit(std::move(fd), peer);
      continue;
    }
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      epoll_event ev{0, {.u64 = kListenKey}};
      ::epoll_ctl(epoll_fd.get(), EPOLL_CTL_MOD, listen_fd.get(), &ev);
      accept_resume = Clock::now() + kAcceptBackoff;
    }
    return;  // EAGAIN: none left; other errors concern only that connection
  }
}

void RpcServer::Impl::Admit(Fd fd, const sockaddr_in& peer) {
  const uint32_t ip = ntohl(peer.sin_addr.s_addr);
  const bool allowed = !options.peer_allowed || options.peer_allowed(ip);
  // find, not []: a refused address must not leave an entry behind.
  auto from_ip = per_address.find(ip);
  if (from_ip != per_address.end() && from_ip->second >= options.max_connections_per_address &&
      !Shed(&ip, allowed)) {
    return;  // closes the newcomer
  }
  if (conns.size() >= static_cast<size_t>(options.max_connections) && !Shed(nullptr, allowed)) {
    return;
  }
  // Replies are often small and latency-bound; keepalive eventually frees the slots of vanished
  // peers. Both are optimizations, so their failure is not fatal to the connection.
  SetInt(fd.get(), IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY").IgnoreError();
  SetInt(fd.get(), SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE").IgnoreError();
  const uint64_t id = next_id++;
  epoll_event ev{EPOLLIN, {.u64 = id}};
  if (::epoll_ctl(epoll_fd.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) return;
  auto conn = std::make_shared<Connection>(id, std::move(fd), ip, ntohs(peer.sin_port), allowed,
                                           Clock::now());
  conn->events = EPOLLIN;
  conns.emplace(id, std::move(conn));
  ++per_address[ip];
}

// Closes one connection to make room: of `address` when given, else of any. Disallowed peers'
// connections go first (oldest first), then, for an allowed newcomer only, an idle allowed one:
// first those never answered or already at EOF (a flood of connections that never speak RPC must
// not push out a client between two of its calls), idle longest first within each.
// False when there is none to close: the newcomer must go.
bool RpcServer::Impl::Shed(const uint32_t* address, bool newcomer_allowed) {
  ConnPtr victim;
  auto victim_key = std::tuple(true, true, Clock::time_point::max());
  for (auto& [id, conn] : conns) {
    if (address != nullptr && conn->peer_ipv4 != *address) continue;
    std::lock_guard lock(conn->mu);
    if (conn->allowed && (!newcomer_allowed || !conn->IdleLocked())) continue;
    const auto key =
        std::tuple(conn->allowed, conn->answered && !conn->read_done, conn->last_active);
    if (key < victim_key) {
      victim = conn;
      victim_key = key;
    }
  }
  if (victim == nullptr) return false;
  Close(victim);
  return true;
}

void RpcServer::Impl::ReadFrom(const ConnPtr& conn) {
  // What a limit left over goes first; then a few reads, so one busy peer cannot starve others.
  if (!conn->unfed.empty() && !FeedBytes(conn, std::string(std::exchange(conn->unfed, {})))) {
    return;
  }
  for (int round = 0; round < 4; ++round) {
    ssize_t n = ::recv(conn->fd.get(), read_buf.data(), read_buf.size(), MSG_DONTWAIT);
    if (n > 0) {
      if (!FeedBytes(conn, std::string_view(read_buf.data(), static_cast<size_t>(n)))) return;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    std::lock_guard lock(conn->mu);
    if (n == 0) {
      conn->read_done = true;  // the peer sent its last call: answer, then close
    } else {
      conn->DropLocked();
    }
    return;
  }
}

// Feeds `data` to the connection's assembler, handing each record to the workers, while the
// connection may take calls; what is left waits in `unfed`. False when it may take no more.
bool RpcServer::Impl::FeedBytes(const ConnPtr& conn, std::string_view data) {
  while (!data.empty()) {
    {
      std::lock_guard lock(conn->mu);
      if (!conn->CanTakeLocked(limits)) {
        conn->unfed.assign(data);
        return false;
      }
    }
    Result<size_t> used = conn->assembler.Feed(data);
    if (!used.ok()) {  // oversize record: the stream cannot be resynchronized
      std::lock_guard lock(conn->mu);
      conn->DropLocked();
      return false;
    }
    data.remove_prefix(*used);
    if (conn->assembler.has_record()) Take(conn, conn->assembler.TakeRecord());
  }
  return true;
}

void RpcServer::Impl::Take(const ConnPtr& conn, std::string record) {
  {
    std::lock_guard lock(conn->mu);
    ++conn->calls;
    conn->call_bytes += record.size();
    conn->last_active = Clock::now();
    // A disallowed peer gets an answer to this call (the programs' refusal) and no more.
    if (!conn->allowed) conn->read_done = true;
  }
  {
    std::lock_guard lock(queue_mu);
    queue.push_back(Task{conn, std::move(record)});
  }
  queue_cv.notify_one();
}

void RpcServer::Impl::FlushFromIo(const ConnPtr& conn) {
  std::unique_lock lock(conn->mu);
  std::vector<std::string> resume = conn->FlushLocked(lock);
  lock.unlock();
  Enqueue(conn, std::move(resume));
}

// Brings the connection's epoll interest in line with its state, closes it once finished or
// dropped, and feeds bytes a limit left over once the limit is gone.
void RpcServer::Impl::Service(const ConnPtr& conn) {
  while (true) {
    std::unique_lock lock(conn->mu);
    if (conn->dropped || conn->FinishedLocked()) {
      lock.unlock();
      Close(conn);
      return;
    }
    const bool can_take = conn->CanTakeLocked(limits);
    conn->paused = !conn->read_done && !can_take;
    const uint32_t events =
        (can_take ? EPOLLIN : 0u) | (!conn->outbox.empty() && !conn->writing ? EPOLLOUT : 0u);
    lock.unlock();
    if (can_take && !conn->unfed.empty()) {
      FeedBytes(conn, std::string(std::exchange(conn->unfed, {})));
      continue;  // the state changed: look again
    }
    if (events != conn->events) {
      epoll_event ev{events, {.u64 = conn->id}};
      ::epoll_ctl(epoll_fd.get(), EPOLL_CTL_MOD, conn->fd.get(), &ev);
      conn->events = events;
    }
    return;
  }
}

void RpcServer::Impl::Close(const ConnPtr& conn) {
  if (conns.erase(conn->id) == 0) return;
  if (--per_address[conn->peer_ipv4] == 0) per_address.erase(conn->peer_ipv4);
  ::epoll_ctl(epoll_fd.get(), EPOLL_CTL_DEL, conn->fd.get(), nullptr);
  std::lock_guard lock(conn->mu);
  conn->DropLocked();
}

void RpcServer::Impl::ServiceDirty() {
  std::vector<uint64_t> ids;
  {
    std::lock_guard lock(dirty_mu);
    ids.swap(dirty);
  }
  for (uint64_t id : ids) {
    auto it = conns.find(id);
    if (it == conns.end()) continue;
    ConnPtr conn = it->second;
    Service(conn);
  }
}

// Timers: a pending reply that made no progress for send_timeout drops its connection; a
// connection idle for idle_timeout is closed; the listener's rest ends.
void RpcServer::Impl::Sweep(Clock::time_point now) {
  const milliseconds send_timeout(options.send_timeout_ms), idle_timeout(options.idle_timeout_ms);
  std::vector<ConnPtr> expired;
  for (auto& [id, conn] : conns) {
    std::lock_guard lock(conn->mu);
    if ((!conn->outbox.empty() && now - conn->last_progress > send_timeout) ||
        (conn->IdleLocked() && now - conn->last_active > idle_timeout)) {
      expired.push_back(conn);
    }
  }
  for (const ConnPtr& conn : expired) Close(conn);
  if (accept_resume != Clock::time_point{} && now >= accept_resume) {
    epoll_event ev{EPOLLIN, {.u64 = kListenKey}};
    ::epoll_ctl(epoll_fd.get(), EPOLL_CTL_MOD, listen_fd.get(), &ev);
    accept_resume = Clock::time_point{};
  }
}

void RpcServer::Impl::CloseAll() {
  for (auto& [id, conn] : conns) {
    std::lock_guard lock(conn->mu);
    conn->DropLocked();
  }
  conns.clear();
  per_address.clear();
  listen_fd.Reset();  // new connects are refused from now on
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
    if (!conn.MayStartLocked(limits)) {
      // Its peer is behind on reading: the call waits on its connection, not in a worker.
      conn.parked.push_back(std::move(task.record));
      return;
    }
    ++conn.running;
    conn.call_bytes -= task.record.size();
  }
  ParsedCall call = ParseCall(task.record);
  xdr::Encoder head;
  size_t mark = head.ReserveU32();
  std::string results;
  xdr::Tail tail;
  switch (call.verdict) {
    case CallVerdict::kDrop:
      Finish(task.conn);
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
  Send(task.conn, OutgoingReply{head.Take(), std::move(results), std::move(tail)});
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

void RpcServer::Impl::Finish(const ConnPtr& conn) {
  std::unique_lock lock(conn->mu);
  if (conn->dropped) return;
  --conn->calls;
  --conn->running;
  const bool notify = conn->NeedsIoLocked(limits);
  lock.unlock();
  if (notify) Notify(conn->id);
}

void RpcServer::Impl::Send(const ConnPtr& conn, OutgoingReply reply) {
  std::unique_lock lock(conn->mu);
  if (conn->dropped) return;
  --conn->calls;
  --conn->running;
  conn->QueueLocked(std::move(reply), Clock::now());
  std::vector<std::string> resume = conn->FlushLocked(lock);
  const bool notify = conn->NeedsIoLocked(limits);
  lock.unlock();
  Enqueue(conn, std::move(resume));
  if (notify) Notify(conn->id);
}

void RpcServer::Impl::Enqueue(const ConnPtr& conn, std::vector<std::string> records) {
  if (records.empty()) return;
  {
    std::lock_guard lock(queue_mu);
    for (std::string& record : records) queue.push_back(Task{conn, std::move(record)});
  }
  queue_cv.notify_all();
}

void RpcServer::Impl::StopOnce() {
  {
    std::lock_guard lock(dirty_mu);
    stopping = true;
  }
  Wake();
  io.join();
  {
    std::lock_guard lock(queue_mu);
    workers_stopping = true;
  }
  queue_cv.notify_all();
  for (std::thread& t : workers) t.join();
  queue.clear();
}

Result<std::unique_ptr<RpcServer>> RpcServer::Start(const ServerOptions& options,
                                                    std::vector<Program*> programs) {
  if (options.workers < 1 || options.max_connections < 1 ||
      options.max_connections_per_address < 1 || options.idle_timeout_ms < 1 ||
      options.max_inflight_per_connection < 1 || options.max_queued_bytes_per_connection < 1 ||
      options.send_timeout_ms < 1) {
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
