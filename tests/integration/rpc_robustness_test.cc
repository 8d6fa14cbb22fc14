// Robustness of ovlnfsd's RPC layer against raw bytes on TCP (issue 2, "Robustness and
// security"): oversize records close only their own connection, undecodable arguments get
// GARBAGE_ARGS, unknown program/version/procedure get PROG_UNAVAIL/PROG_MISMATCH/PROC_UNAVAIL,
// and connections that send garbage, stall mid-record or never read do not block other clients.
// Issue 10: slow readers cannot stall others or grow the server past its documented bound, and
// connection floods cannot lock new clients out.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "base/fd.h"
#include "integration/overlay_fixture.h"
#include "xdr/xdr.h"

namespace ovl::integration {
namespace {

using Clock = std::chrono::steady_clock;
using nfsclient::kNfs3Ok;
using rpc::AcceptStat;

// ovlnfsd's record limit (reference_server/rpc/record.h): 1 MiB of WRITE data plus headroom.
constexpr uint32_t kMaxRecord = (1u << 20) + (64u << 10);
constexpr uint32_t kLastFragment = 0x80000000u;
constexpr auto kCloseTimeout = std::chrono::seconds(5);
constexpr uint32_t kBigFile = 1 << 20;

// A plain TCP connection to 127.0.0.1:`port`, from `source` (host byte order) when not 0.
Fd TryDial(uint16_t port, uint32_t source = 0) {
  Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Fd();
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (source != 0) {
    addr.sin_addr.s_addr = htonl(source);
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return Fd();
  }
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return Fd();
  return fd;
}

Fd Dial(uint16_t port) {
  Fd fd = TryDial(port);
  if (!fd.valid()) ADD_FAILURE() << "connect to port " << port << ": " << strerror(errno);
  return fd;
}

// Sends all of `bytes`; false once the peer has closed (EPIPE/ECONNRESET) or on another error.
bool SendAll(int fd, const std::string& bytes) {
  for (size_t at = 0; at < bytes.size();) {
    ssize_t n = send(fd, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    at += static_cast<size_t>(n);
  }
  return true;
}

std::string FragmentHeader(uint32_t length, bool last) {
  const uint32_t word = htonl(length | (last ? kLastFragment : 0));
  return std::string(reinterpret_cast<const char*>(&word), sizeof(word));
}

// True when the server closes `fd` within `timeout` (EOF or reset), discarding any data.
bool ClosedByPeer(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (poll(&p, 1, static_cast<int>(left.count()) + 1) <= 0) continue;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return true;
  }
  return false;
}

// Appends exactly `n` bytes from `fd` to `out`; false on EOF, error or the deadline.
bool ReadExactly(int fd, size_t n, Clock::time_point deadline, std::string* out) {
  for (size_t got = 0; got < n;) {
    pollfd p{fd, POLLIN, 0};
    if (Clock::now() >= deadline || poll(&p, 1, 100) < 0) return false;
    if (p.revents == 0) continue;
    char buf[4096];
    ssize_t r = recv(fd, buf, std::min(sizeof(buf), n - got), 0);
    if (r <= 0) return false;
    out->append(buf, r);
    got += static_cast<size_t>(r);
  }
  return true;
}

// Reads one reply record (all its fragments) within 5 s; "" on EOF, error or timeout.
std::string ReceiveRecord(int fd) {
  const auto deadline = Clock::now() + kCloseTimeout;
  std::string record;
  for (bool last = false; !last;) {
    std::string header;
    if (!ReadExactly(fd, 4, deadline, &header)) return "";
    uint32_t word;
    memcpy(&word, header.data(), sizeof(word));
    word = ntohl(word);
    last = (word & kLastFragment) != 0;
    if (!ReadExactly(fd, word & ~kLastFragment, deadline, &record)) return "";
  }
  return record;
}

// An NFS call record body (header with AUTH_NONE, then `args`).
std::string CallBody(uint32_t xid, uint32_t proc, const std::string& args) {
  xdr::Encoder call;
  for (uint32_t word : {xid, 0u, 2u, kNfsProgram, kNfsVersion, proc, 0u, 0u, 0u, 0u}) {
    call.U32(word);
  }
  return call.Take() + args;
}

class RpcRobustnessTest : public OverlayTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(CreateServer());
    ASSERT_NO_FATAL_FAILURE(WriteLower("big", std::string(kBigFile, 'b')));
    ASSERT_NO_FATAL_FAILURE(StartAndMount());
    auto rpc = rpc::RpcClient::Connect(kHost, server_->port());
    ASSERT_TRUE(rpc.ok()) << rpc.status().ToString();
    rpc_ = std::move(rpc).value();
  }

  // The server still answers, on an old connection and on a new one.
  void ExpectServing() {
    ASSERT_TRUE(server_->IsRunning()) << "ovlnfsd died";
    EXPECT_NFS(GetattrStatus(root_), kNfs3Ok);
    NfsClient fresh;
    ASSERT_OK(fresh.Connect(kHost, server_->port(), server_->port()));
    ASSERT_RESULT(res, fresh.Getattr(root_));
    EXPECT_NFS(res->status, kNfs3Ok);
  }

  AcceptStat Stat(uint32_t prog, uint32_t vers, uint32_t proc, const std::string& args) {
    auto reply = RawCall(*rpc_, prog, vers, proc, args);
    if (!reply.ok()) {
      ADD_FAILURE() << prog << "/" << vers << "/" << proc << ": " << reply.status().ToString();
      return AcceptStat::kSystemErr;
    }
    EXPECT_TRUE(reply->accepted);
    return reply->accept_stat;
  }

  std::unique_ptr<rpc::RpcClient> rpc_;
};

TEST_F(RpcRobustnessTest, OversizeRecordClosesOnlyThatConnection) {
  // One fragment announced above the limit.
  Fd one = Dial(server_->port());
  SendAll(one.get(), FragmentHeader(kMaxRecord + 1, true) + std::string(1000, 'x'));
  EXPECT_TRUE(ClosedByPeer(one.get(), kCloseTimeout)) << "an oversize fragment was accepted";

  // Fragments each below the limit whose sum exceeds it: sending stops when the server closes.
  Fd many = Dial(server_->port());
  const std::string fragment = FragmentHeader(64 * 1024, false) + std::string(64 * 1024, 'y');
  for (uint32_t sent = 0; sent <= 2 * kMaxRecord && SendAll(many.get(), fragment);) {
    sent += static_cast<uint32_t>(fragment.size());
  }
  EXPECT_TRUE(ClosedByPeer(many.get(), kCloseTimeout)) << "an oversize record was accepted";
  ExpectServing();
}

// The other side of the coin: legal but unusual framing is served.
TEST_F(RpcRobustnessTest, FragmentedAndPipelinedRecordsAreServed) {
  xdr::Encoder fh;
  fh.Opaque(root_);
  Fd fd = Dial(server_->port());
  // One call in 3-byte fragments, each sent on its own.
  const std::string body = CallBody(1, kNfsGetattr, fh.bytes());
  for (size_t at = 0; at < body.size(); at += 3) {
    const std::string piece = body.substr(at, 3);
    ASSERT_TRUE(SendAll(fd.get(), FragmentHeader(piece.size(), at + 3 >= body.size()) + piece));
  }
  auto reply = rpc::ParseReply(ReceiveRecord(fd.get()));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->xid, 1u);
  EXPECT_EQ(reply->accept_stat, AcceptStat::kSuccess);
  // Ten calls in one send; every xid answered once.
  std::string batch;
  for (uint32_t xid = 10; xid < 20; ++xid) {
    const std::string call = CallBody(xid, kNfsGetattr, fh.bytes());
    batch += FragmentHeader(call.size(), true) + call;
  }
  ASSERT_TRUE(SendAll(fd.get(), batch));
  std::set<uint32_t> xids;
  for (int i = 0; i < 10; ++i) {
    auto r = rpc::ParseReply(ReceiveRecord(fd.get()));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->accept_stat, AcceptStat::kSuccess);
    xids.insert(r->xid);
  }
  EXPECT_EQ(xids.size(), 10u);
  EXPECT_EQ(*xids.begin(), 10u);
}

TEST_F(RpcRobustnessTest, UndecodableArgumentsAreGarbageArgs) {
  xdr::Encoder fh_only;
  fh_only.Opaque(root_);
  xdr::Encoder long_name;
  long_name.Opaque(root_);
  long_name.Opaque(std::string(100000, 'n'));
  xdr::Encoder short_write;  // WRITE: fh, offset, count, stable, then 1000 data bytes promised
  short_write.Opaque(root_);
  short_write.U64(0);
  short_write.U32(1000);
  short_write.U32(2);
  short_write.U32(1000);
  short_write.FixedOpaque("abc", 3);
  xdr::Encoder long_path;
  long_path.String(std::string(2000, '/'));

  EXPECT_EQ(Stat(kNfsProgram, kNfsVersion, kNfsGetattr, ""), AcceptStat::kGarbageArgs);
  EXPECT_EQ(Stat(kNfsProgram, kNfsVersion, kNfsGetattr, "abc"), AcceptStat::kGarbageArgs);
  EXPECT_EQ(Stat(kNfsProgram, kNfsVersion, kNfsLookup, fh_only.bytes()), AcceptStat::kGarbageArgs);
  EXPECT_EQ(Stat(kNfsProgram, kNfsVersion, kNfsLookup, long_name.bytes()),
            AcceptStat::kGarbageArgs);
  EXPECT_EQ(Stat(kNfsProgram, kNfsVersion, 7, short_write.bytes()), AcceptStat::kGarbageArgs);
  EXPECT_EQ(Stat(kMountProgram, kMountVersion, kMountMnt, long_path.bytes()),
            AcceptStat::kGarbageArgs);
  EXPECT_EQ(Stat(kMountProgram, kMountVersion, kMountMnt, ""), AcceptStat::kGarbageArgs);
  // The connection carries on.
  EXPECT_EQ(Stat(kNfsProgram, kNfsVersion, kNfsGetattr, fh_only.bytes()), AcceptStat::kSuccess);
  ExpectServing();
}

TEST_F(RpcRobustnessTest, UnknownProgramVersionProcedure) {
  EXPECT_EQ(Stat(100099, 1, 0, ""), AcceptStat::kProgUnavail);
  EXPECT_EQ(Stat(100000, 2, 0, ""), AcceptStat::kProgUnavail) << "not an rpcbind";
  // NFS is served in versions 3 and 4 (reference_server/nfs4/), MOUNT in version 3.
  for (auto [prog, vers, high] :
       {std::tuple{kNfsProgram, 2u, 4u}, std::tuple{kNfsProgram, 5u, 4u},
        std::tuple{kMountProgram, 1u, 3u}, std::tuple{kMountProgram, 2u, 3u}}) {
    auto reply = RawCall(*rpc_, prog, vers, 0, "");
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_EQ(reply->accept_stat, AcceptStat::kProgMismatch) << prog << " v" << vers;
    EXPECT_EQ(reply->low, 3u);
    EXPECT_EQ(reply->high, high);
  }
  EXPECT_EQ(Stat(kNfsProgram, kNfsVersion, 22, ""), AcceptStat::kProcUnavail);
  EXPECT_EQ(Stat(kNfsProgram, 4, 2, ""), AcceptStat::kProcUnavail);  // NULL and COMPOUND only
  EXPECT_EQ(Stat(kNfsProgram, kNfsVersion, 0xffffffffu, ""), AcceptStat::kProcUnavail);
  EXPECT_EQ(Stat(kMountProgram, kMountVersion, 6, ""), AcceptStat::kProcUnavail);
  // RPC version 3 is denied with RPC_MISMATCH (2..2).
  xdr::Encoder call;
  for (uint32_t word : {0x1234u, 0u, 3u, kNfsProgram, kNfsVersion, 0u, 0u, 0u, 0u, 0u}) {
    call.U32(word);
  }
  Fd raw = Dial(server_->port());
  ASSERT_TRUE(SendAll(raw.get(), FragmentHeader(call.size(), true) + call.bytes()));
  pollfd p{raw.get(), POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 5000), 1) << "no reply to RPC version 3";
  char buf[256];
  ssize_t n = recv(raw.get(), buf, sizeof(buf), 0);
  ASSERT_GT(n, 4);
  auto reply = rpc::ParseReply(std::string_view(buf + 4, n - 4));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_FALSE(reply->accepted);
  EXPECT_TRUE(reply->rpc_mismatch);
  EXPECT_EQ(reply->low, 2u);
  EXPECT_EQ(reply->high, 2u);
  ExpectServing();
}

// Bad peers all at once: one stalls mid-record, one sends random records, one sends an
// unframed stream, one pipelines 1 MiB READs and never reads a reply, and 50 sit idle. A
// well-behaved client meanwhile gets every answer promptly.
TEST_F(RpcRobustnessTest, BadConnectionsDoNotBlockOtherClients) {
  const uint16_t port = server_->port();
  Fd stalled = Dial(port);
  ASSERT_TRUE(SendAll(stalled.get(), FragmentHeader(1000, true) + std::string(10, 's')));

  std::mt19937 rng(7);
  Fd junk_records = Dial(port);
  for (int i = 0; i < 100; ++i) {
    std::string body(4 + rng() % 200, '\0');
    for (char& c : body) c = static_cast<char>(rng());
    SendAll(junk_records.get(), FragmentHeader(body.size(), true) + body);
  }
  Fd junk_stream = Dial(port);
  std::string stream(65536, '\0');
  for (char& c : stream) c = static_cast<char>(rng());
  SendAll(junk_stream.get(), stream);

  const std::string big = Lookup(root_, "big");
  Fd deaf = Dial(port);
  xdr::Encoder read;
  read.Opaque(big);
  read.U64(0);
  read.U32(kBigFile);
  std::string pipelined;
  for (uint32_t xid = 1; xid <= 64; ++xid) {
    const std::string record = CallBody(xid, kNfsRead, read.bytes());
    pipelined += FragmentHeader(record.size(), true) + record;
  }
  SendAll(deaf.get(), pipelined);

  std::vector<Fd> idle;
  for (int i = 0; i < 50; ++i) idle.push_back(Dial(port));

  client_.set_timeout(std::chrono::milliseconds(2000));
  const auto start = Clock::now();
  for (int i = 0; i < 200; ++i) {
    ASSERT_RESULT(attrs, client_.Getattr(big));
    ASSERT_NFS(attrs->status, kNfs3Ok) << "call " << i;
    ASSERT_RESULT(data, client_.Read(big, i * 100, 100));
    ASSERT_NFS(data->status, kNfs3Ok) << "call " << i;
    ASSERT_EQ(data->data, std::string(100, 'b'));
  }
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3)) << "calls were slowed by bad peers";
  ExpectServing();
}

// The resident set size of process `pid` in KiB (VmRSS in /proc/<pid>/status); 0 if unreadable.
long ResidentKib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

std::chrono::microseconds P99(std::vector<Clock::duration> samples) {
  if (samples.empty()) return std::chrono::microseconds::max();
  std::sort(samples.begin(), samples.end());
  return std::chrono::duration_cast<std::chrono::microseconds>(
      samples[std::min(samples.size() - 1, samples.size() * 99 / 100)]);
}

// A new connection that pipelines `calls` READs of `count` bytes of `fh` and never reads a reply.
Fd OpenSlowReader(uint16_t port, const std::string& fh, uint32_t count, int calls) {
  Fd fd = Dial(port);
  xdr::Encoder read;
  read.Opaque(fh);
  read.U64(0);
  read.U32(count);
  std::string pipelined;
  for (int xid = 1; xid <= calls; ++xid) {
    const std::string record = CallBody(static_cast<uint32_t>(xid), kNfsRead, read.bytes());
    pipelined += FragmentHeader(record.size(), true) + record;
  }
  if (fd.valid()) {
    EXPECT_TRUE(SendAll(fd.get(), pipelined));
  }
  return fd;
}

// ovlnfsd's memory bound for connections that send small calls and never read, as
// docs/ovlnfsd.md derives it: each pins at most max(queue cap, threads x largest reply) of
// replies, plus its call records and up to 64 KiB read ahead.
constexpr long kQueueCapKib = 4096, kLargestReplyKib = kMaxRecord / 1024;
constexpr long RssBoundKib(long connections, long threads, long call_kib) {
  return connections * (std::max(kQueueCapKib, threads * kLargestReplyKib) + call_kib + 64);
}

// 16 connections pipeline 64 READs of 1 MiB each and never read: another client's NULL and
// GETATTR stay fast, and the server grows by no more than the documented bound.
TEST_F(RpcRobustnessTest, SlowReadersNeitherDelayOthersNorGrowTheServer) {
  constexpr int kSlowReaders = 16, kCalls = 200;
  const std::string big = Lookup(root_, "big");
  ASSERT_FALSE(HasFailure());
  // The server's own working set first: threads, caches, buffers of ordinary READs.
  for (int i = 0; i < 4; ++i) ASSERT_EQ(ReadAll(big).size(), kBigFile);
  const long base_kib = ResidentKib(server_->pid());
  ASSERT_GT(base_kib, 0);

  std::vector<Fd> slow;
  for (int i = 0; i < kSlowReaders; ++i) {
    slow.push_back(OpenSlowReader(server_->port(), big, kBigFile, 64));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let the server take them up
  client_.set_timeout(std::chrono::seconds(12));
  std::vector<Clock::duration> nulls, getattrs;
  long peak_kib = ResidentKib(server_->pid());
  const auto deadline = Clock::now() + std::chrono::seconds(15);
  for (int i = 0; i < kCalls && Clock::now() < deadline; ++i) {
    auto start = Clock::now();
    Status null = client_.Null();
    nulls.push_back(Clock::now() - start);
    EXPECT_TRUE(null.ok()) << null.ToString();
    start = Clock::now();
    auto attrs = client_.Getattr(big);
    getattrs.push_back(Clock::now() - start);
    EXPECT_TRUE(attrs.ok() && attrs->status == kNfs3Ok) << "GETATTR failed";
    if (HasFailure()) break;  // the client is disconnected after a timeout
    if (i % 10 == 0) peak_kib = std::max(peak_kib, ResidentKib(server_->pid()));
  }
  const long bound_kib = RssBoundKib(kSlowReaders, 4, 64 * 256 / 1024);  // READ calls < 256 B
  std::printf(
      "slow readers: %zu NULL p99 %lld us, %zu GETATTR p99 %lld us, RSS %ld -> %ld KiB "
      "(growth bound %ld KiB)\n",
      nulls.size(), static_cast<long long>(P99(nulls).count()), getattrs.size(),
      static_cast<long long>(P99(getattrs).count()), base_kib, peak_kib, bound_kib);
  EXPECT_EQ(nulls.size(), static_cast<size_t>(kCalls)) << "calls failed or took over 15 s";
  EXPECT_LT(P99(nulls), std::chrono::milliseconds(100));
  EXPECT_LT(P99(getattrs), std::chrono::milliseconds(100));
#if !defined(__SANITIZE_ADDRESS__)
  // Under ASan (make sanitize) freed memory waits in ASan's quarantine, and the RSS is ASan's.
  EXPECT_LE(peak_kib - base_kib, bound_kib);
#endif
  ExpectServing();
}

constexpr uint32_t kIp(uint32_t last) {
  return 0x7f000000u | last;
}

// Raises this process's open-file limit to its hard limit: a flood needs thousands of sockets.
void RaiseFdLimit() {
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  limit.rlim_cur = limit.rlim_max;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);
}

// Up to `count` idle connections from `source`, opened within 10 s: the ones that connected.
std::vector<Fd> Flood(uint16_t port, uint32_t source, int count) {
  std::vector<Fd> fds;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  for (int i = 0; i < count && Clock::now() < deadline; ++i) {
    Fd fd = TryDial(port, source);
    if (fd.valid()) fds.push_back(std::move(fd));
  }
  return fds;
}

// ovlnfsd allowing only 127.0.0.0/25 (.1 to .127), so that 127.0.0.200 is a disallowed address.
class ConnectionFloodTest : public OverlayTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(RaiseFdLimit());
    testsupport::ServerOptions options = BaseOptions();
    options.extra_args = {"--allow", "127.0.0.0/25"};
    ASSERT_NO_FATAL_FAILURE(CreateServer(options));
    ASSERT_NO_FATAL_FAILURE(WriteLower("big", std::string(kBigFile, 'b')));
    ASSERT_NO_FATAL_FAILURE(StartAndMount());
  }

  // A new client from `source` mounts the export, looks up "big" and reads from it, each call
  // within `timeout`.
  void MountAndRead(const std::string& source, std::chrono::milliseconds timeout) {
    rpc::ClientOptions options;
    options.timeout_ms = static_cast<int>(timeout.count());
    options.source_ipv4 = source;
    auto rpc = rpc::RpcClient::Connect(kHost, server_->port(), options);
    ASSERT_TRUE(rpc.ok()) << rpc.status().ToString();
    xdr::Encoder path;
    path.String(kExportPath);
    ASSERT_RESULT(mnt, RawCall(**rpc, kMountProgram, kMountVersion, kMountMnt, path.bytes()));
    xdr::Decoder mnt_res(mnt->results);
    uint32_t status = 1;
    std::string root;
    ASSERT_TRUE(mnt_res.U32(&status) && mnt_res.Opaque(&root, 64)) << "MNT reply";
    ASSERT_EQ(status, 0u) << "MNT";
    xdr::Encoder lookup;
    lookup.Opaque(root);
    lookup.String("big");
    ASSERT_RESULT(found, RawCall(**rpc, kNfsProgram, kNfsVersion, kNfsLookup, lookup.bytes()));
    xdr::Decoder lookup_res(found->results);
    std::string fh;
    ASSERT_TRUE(lookup_res.U32(&status) && lookup_res.Opaque(&fh, 64)) << "LOOKUP reply";
    ASSERT_EQ(status, kNfs3Ok) << "LOOKUP";
    xdr::Encoder read;
    read.Opaque(fh);
    read.U64(0);
    read.U32(100);
    ASSERT_RESULT(data, RawCall(**rpc, kNfsProgram, kNfsVersion, kNfsRead, read.bytes()));
    ASSERT_EQ(data->accept_stat, AcceptStat::kSuccess);
    EXPECT_NE(data->results.find(std::string(100, 'b')), std::string::npos) << "READ data";
  }
};

// 2,000 idle connections from one address (more than every connection limit), then a new client
// from another address mounts and reads within 1 s.
TEST_F(ConnectionFloodTest, IdleFloodDoesNotLockOutANewClient) {
  std::vector<Fd> flood = Flood(server_->port(), kIp(2), 2000);
  std::printf("flood: %zu connections from 127.0.0.2\n", flood.size());
  EXPECT_EQ(flood.size(), 2000u);
  const auto start = Clock::now();
  ASSERT_NO_FATAL_FAILURE(MountAndRead("127.0.0.3", std::chrono::milliseconds(1000)));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  std::printf("flood: 127.0.0.3 mounted and read in %lld ms\n",
              static_cast<long long>(took.count()));
  EXPECT_LT(took, std::chrono::milliseconds(1000));
  // The client that mounted before the flood keeps its connection: 127.0.0.2 made room by
  // closing its own.
  EXPECT_NFS(GetattrStatus(root_), kNfs3Ok);
}

// The same from 20 addresses, 100 connections each: under the per-address limit, over the total
// one, which makes room by closing the connections idle longest.
TEST_F(ConnectionFloodTest, IdleFloodFromManyAddressesDoesNotLockOutANewClient) {
  std::vector<Fd> flood;
  for (uint32_t host = 10; host < 30; ++host) {
    for (Fd& fd : Flood(server_->port(), kIp(host), 100)) flood.push_back(std::move(fd));
  }
  EXPECT_EQ(flood.size(), 2000u);
  const auto start = Clock::now();
  ASSERT_NO_FATAL_FAILURE(MountAndRead("127.0.0.3", std::chrono::milliseconds(1000)));
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(1000));
}

// A disallowed address gets the protocol's refusal to its first call and loses the connection
// then; a flood from it never takes the place of an allowed client.
TEST_F(ConnectionFloodTest, DisallowedAddressHoldsNoSlotPastItsFirstCall) {
  Fd refused = TryDial(server_->port(), kIp(200));
  ASSERT_TRUE(refused.valid()) << strerror(errno);
  xdr::Encoder fh;
  fh.Opaque(root_);
  const std::string call = CallBody(1, kNfsGetattr, fh.bytes());
  ASSERT_TRUE(SendAll(refused.get(), FragmentHeader(call.size(), true) + call));
  auto reply = rpc::ParseReply(ReceiveRecord(refused.get()));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  xdr::Decoder res(reply->results);
  uint32_t status = 0;
  ASSERT_TRUE(res.U32(&status));
  EXPECT_EQ(status, 13u) << "NFS3ERR_ACCES";
  EXPECT_TRUE(ClosedByPeer(refused.get(), kCloseTimeout)) << "kept open after its first call";

  std::vector<Fd> flood = Flood(server_->port(), kIp(200), 2000);
  EXPECT_EQ(flood.size(), 2000u);
  ASSERT_NO_FATAL_FAILURE(MountAndRead("127.0.0.3", std::chrono::milliseconds(1000)));
  EXPECT_NFS(GetattrStatus(root_), kNfs3Ok);
}

}  // namespace
}  // namespace ovl::integration
