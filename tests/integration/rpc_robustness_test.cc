// Robustness of ovlnfsd's RPC layer against raw bytes on TCP (issue 2, "Robustness and
// security"): oversize records close only their own connection, undecodable arguments get
// GARBAGE_ARGS, unknown program/version/procedure get PROG_UNAVAIL/PROG_MISMATCH/PROC_UNAVAIL,
// and connections that send garbage, stall mid-record or never read do not block other clients.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <set>
#include <string>
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

// A plain TCP connection to 127.0.0.1:`port`.
Fd Dial(uint16_t port) {
  Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (!fd.valid() || connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ADD_FAILURE() << "connect to port " << port << ": " << strerror(errno);
    return Fd();
  }
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
  for (auto [prog, vers] : {std::pair{kNfsProgram, 2u}, std::pair{kNfsProgram, 4u},
                            std::pair{kMountProgram, 1u}, std::pair{kMountProgram, 2u}}) {
    auto reply = RawCall(*rpc_, prog, vers, 0, "");
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_EQ(reply->accept_stat, AcceptStat::kProgMismatch) << prog << " v" << vers;
    EXPECT_EQ(reply->low, 3u);
    EXPECT_EQ(reply->high, 3u);
  }
  EXPECT_EQ(Stat(kNfsProgram, kNfsVersion, 22, ""), AcceptStat::kProcUnavail);
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

}  // namespace
}  // namespace ovl::integration
