#include "rpc/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "base/fd.h"
#include "rpc/client.h"
#include "rpc/message.h"
#include "rpc/record.h"

namespace ovl::rpc {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kTestProg = 0x20000042;
constexpr uint32_t kProcNull = 0, kProcEcho = 1, kProcAdd = 2, kProcSleep = 3, kProcWhoAmI = 4;

// A tiny program: versions 2..3, a few procedures exercising results, errors and timing.
class TestProgram : public Program {
 public:
  uint32_t number() const override { return kTestProg; }
  uint32_t min_version() const override { return 2; }
  uint32_t max_version() const override { return 3; }

  AcceptStat Call(const CallContext& ctx, xdr::Decoder& args, xdr::Encoder& out) override {
    switch (ctx.proc) {
      case kProcNull:
        return AcceptStat::kSuccess;
      case kProcEcho: {
        std::string s;
        if (!args.Opaque(&s, kMaxRecordSize)) return AcceptStat::kGarbageArgs;
        out.Opaque(s);
        return AcceptStat::kSuccess;
      }
      case kProcAdd: {
        uint32_t a = 0, b = 0;
        args.U32(&a);
        if (!args.U32(&b) || args.remaining() != 0) return AcceptStat::kGarbageArgs;
        out.U32(a + b);
        return AcceptStat::kSuccess;
      }
      case kProcSleep: {
        uint32_t ms = 0;
        if (!args.U32(&ms)) return AcceptStat::kGarbageArgs;
        int now = ++active_;
        int seen = max_active_.load();
        while (now > seen && !max_active_.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(milliseconds(ms));
        --active_;
        out.U32(ms);
        return AcceptStat::kSuccess;
      }
      case kProcWhoAmI:
        out.U32(ctx.uid);
        out.U32(ctx.gid);
        out.U32(static_cast<uint32_t>(ctx.gids.size()));
        out.String(ctx.machine);
        out.U32(ctx.peer_ipv4);
        out.U32(ctx.peer_port);
        return AcceptStat::kSuccess;
      default:
        return AcceptStat::kProcUnavail;
    }
  }

  int max_active() const { return max_active_.load(); }

 private:
  std::atomic<int> active_{0};
  std::atomic<int> max_active_{0};
};

CallHeader Header(uint32_t xid, uint32_t proc, uint32_t vers = 3, uint32_t prog = kTestProg) {
  CallHeader h;
  h.xid = xid;
  h.prog = prog;
  h.vers = vers;
  h.proc = proc;
  return h;
}

std::string AddArgs(uint32_t a, uint32_t b) {
  xdr::Encoder e;
  e.U32(a);
  e.U32(b);
  return e.Take();
}

std::string U32Args(uint32_t v) {
  xdr::Encoder e;
  e.U32(v);
  return e.Take();
}

uint32_t DecodeU32(const std::string& s) {
  xdr::Decoder d(s);
  uint32_t v = 0;
  EXPECT_TRUE(d.U32(&v));
  return v;
}

// A raw connection for sending malformed streams and observing what the server does.
class RawConn {
 public:
  // Connects to 127.0.0.1:`port`, from `source` (host byte order) when it is not 0.
  explicit RawConn(uint16_t port, uint32_t source = 0)
      : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(source);
    if (source != 0 && bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{10, 0};
    setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd_.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    connected_ = connect(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }
  bool connected() const { return connected_; }
  int fd() const { return fd_.get(); }

  bool Write(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  static std::string Frame(std::string_view body) {
    xdr::Encoder e;
    e.U32(kLastFragment | static_cast<uint32_t>(body.size()));
    return e.Take() + std::string(body);
  }

  bool WriteCall(const CallHeader& h, std::string_view args) {
    xdr::Encoder e;
    EncodeCallHeader(h, &e);
    return Write(Frame(e.Take() + std::string(args)));
  }

  Result<Reply> ReadReply() {
    char buf[65536];
    while (!assembler_.has_record()) {
      if (pending_.empty()) {
        ssize_t n = recv(fd_.get(), buf, sizeof(buf), 0);
        if (n <= 0) return Status::Error(ECONNRESET, "closed");
        pending_.assign(buf, static_cast<size_t>(n));
      }
      OVL_ASSIGN_OR_RETURN(size_t used, assembler_.Feed(pending_));
      pending_.erase(0, used);
    }
    return ParseReply(assembler_.TakeRecord());
  }

  // Reads until the server closes the connection; returns the bytes read, or -1 on timeout.
  long long DrainUntilClosed(milliseconds timeout) {
    long long total = static_cast<long long>(pending_.size());
    char buf[65536];
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      ssize_t n = recv(fd_.get(), buf, sizeof(buf), 0);
      if (n <= 0) return total;
      total += n;
    }
    return -1;
  }

 private:
  Fd fd_;
  bool connected_ = false;
  RecordAssembler assembler_;
  std::string pending_;
};

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = {}) {
    auto s = RpcServer::Start(options, {&program_});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
  }

  std::unique_ptr<RpcClient> Connect() {
    auto c = RpcClient::Connect("127.0.0.1", server_->port());
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  // One ADD call on a fresh connection: proves the server still serves new clients.
  void ExpectServing() {
    auto c = Connect();
    ASSERT_NE(c, nullptr);
    auto r = c->Call(Header(1, kProcAdd), AddArgs(40, 2));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->accept_stat, AcceptStat::kSuccess);
    EXPECT_EQ(DecodeU32(r->results), 42u);
  }

  TestProgram program_;
  std::unique_ptr<RpcServer> server_;
};

TEST_F(ServerTest, ServesCallsAndFillsContext) {
  StartServer();
  ASSERT_NE(server_->port(), 0);
  auto c = Connect();
  ASSERT_NE(c, nullptr);

  auto r = c->Call(Header(1, kProcNull), "");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->accepted);
  EXPECT_EQ(r->accept_stat, AcceptStat::kSuccess);
  EXPECT_TRUE(r->results.empty());

  xdr::Encoder echo;
  echo.Opaque("hello");
  r = c->Call(Header(2, kProcEcho, 2), echo.bytes());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->results, echo.bytes());

  CallHeader who = Header(3, kProcWhoAmI);
  who.cred_flavor = kAuthSys;
  xdr::Encoder cred;
  cred.U32(0);
  cred.String("tester");
  cred.U32(1000);
  cred.U32(100);
  cred.U32(2);
  cred.U32(4);
  cred.U32(5);
  who.cred_body = cred.Take();
  r = c->Call(who, "");
  ASSERT_TRUE(r.ok());
  xdr::Decoder d(r->results);
  uint32_t uid = 0, gid = 0, ngids = 0, ip = 0, port = 0;
  std::string machine;
  d.U32(&uid);
  d.U32(&gid);
  d.U32(&ngids);
  d.String(&machine, 255);
  d.U32(&ip);
  d.U32(&port);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(uid, 1000u);
  EXPECT_EQ(gid, 100u);
  EXPECT_EQ(ngids, 2u);
  EXPECT_EQ(machine, "tester");
  EXPECT_EQ(ip, INADDR_LOOPBACK);
  EXPECT_NE(port, 0u);
}

TEST_F(ServerTest, ProtocolErrorReplies) {
  StartServer();
  auto c = Connect();
  ASSERT_NE(c, nullptr);

  auto r = c->Call(Header(1, kProcNull, 3, kTestProg + 1), "");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->accepted);
  EXPECT_EQ(r->accept_stat, AcceptStat::kProgUnavail);

  for (uint32_t vers : {1u, 4u}) {
    r = c->Call(Header(2, kProcNull, vers), "");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->accept_stat, AcceptStat::kProgMismatch);
    EXPECT_EQ(r->low, 2u);
    EXPECT_EQ(r->high, 3u);
  }

  r = c->Call(Header(3, 99), "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->accept_stat, AcceptStat::kProcUnavail);

  r = c->Call(Header(4, kProcAdd), U32Args(1));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->accept_stat, AcceptStat::kGarbageArgs);

  CallHeader gss = Header(5, kProcNull);
  gss.cred_flavor = 6;
  r = c->Call(gss, "");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->accepted);
  EXPECT_EQ(r->auth_stat, AuthStat::kRejectedCred);

  CallHeader bad_sys = Header(6, kProcNull);
  bad_sys.cred_flavor = kAuthSys;
  bad_sys.cred_body = "junk";
  r = c->Call(bad_sys, "");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->accepted);
  EXPECT_EQ(r->auth_stat, AuthStat::kBadCred);

  // The connection is still usable after every error.
  r = c->Call(Header(7, kProcAdd), AddArgs(2, 3));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(DecodeU32(r->results), 5u);
}

TEST_F(ServerTest, RpcVersionMismatch) {
  StartServer();
  RawConn raw(server_->port());
  ASSERT_TRUE(raw.connected());
  xdr::Encoder e;
  for (uint32_t v : {77u, 0u, 3u, 1u, 2u, 3u, 4u}) e.U32(v);  // xid 77, CALL, rpcvers 3, ...
  ASSERT_TRUE(raw.Write(RawConn::Frame(e.bytes())));
  auto r = raw.ReadReply();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->xid, 77u);
  EXPECT_FALSE(r->accepted);
  EXPECT_TRUE(r->rpc_mismatch);
  EXPECT_EQ(r->low, 2u);
  EXPECT_EQ(r->high, 2u);
}

TEST_F(ServerTest, ConcurrentClientsWithManyCallsInFlight) {
  ServerOptions options;
  options.workers = 4;
  StartServer(options);
  constexpr int kClients = 8, kRounds = 20, kDepth = 32;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      auto c = Connect();
      if (c == nullptr) return;
      uint32_t xid = static_cast<uint32_t>(t) << 20;
      for (int round = 0; round < kRounds; ++round) {
        std::map<uint32_t, uint32_t> expected;
        for (int i = 0; i < kDepth; ++i) {
          ++xid;
          expected[xid] = xid * 2 + 1;
          ASSERT_TRUE(c->Send(Header(xid, kProcAdd), AddArgs(xid, xid + 1)).ok());
        }
        for (int i = 0; i < kDepth; ++i) {
          auto r = c->Receive();
          ASSERT_TRUE(r.ok()) << r.status().ToString();
          auto it = expected.find(r->xid);
          ASSERT_NE(it, expected.end());
          EXPECT_EQ(DecodeU32(r->results), it->second);
          expected.erase(it);
          ++good;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), kClients * kRounds * kDepth);
}

TEST_F(ServerTest, RepliesCompleteOutOfOrder) {
  ServerOptions options;
  options.workers = 2;
  StartServer(options);
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Send(Header(1, kProcSleep), U32Args(500)).ok());
  ASSERT_TRUE(c->Send(Header(2, kProcAdd), AddArgs(1, 1)).ok());
  auto first = c->Receive();
  auto second = c->Receive();
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->xid, 2u);
  EXPECT_EQ(second->xid, 1u);
}

TEST_F(ServerTest, InflightLimitBoundsConcurrentCallsPerConnection) {
  ServerOptions options;
  options.workers = 8;
  options.max_inflight_per_connection = 2;
  StartServer(options);
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  constexpr int kCalls = 10;
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_TRUE(c->Send(Header(i, kProcSleep), U32Args(30)).ok());
  }
  for (int i = 0; i < kCalls; ++i) ASSERT_TRUE(c->Receive().ok());
  EXPECT_GE(program_.max_active(), 1);
  EXPECT_LE(program_.max_active(), 2);
}

TEST_F(ServerTest, LargeRecordsRoundTrip) {
  StartServer();
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  std::string payload(1 << 20, '\0');
  std::mt19937 rng(1);
  for (char& ch : payload) ch = static_cast<char>(rng());
  xdr::Encoder e;
  e.Opaque(payload);
  auto r = c->Call(Header(1, kProcEcho), e.bytes());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->results == e.bytes());
}

TEST_F(ServerTest, MultiFragmentCallIsReassembled) {
  StartServer();
  RawConn raw(server_->port());
  ASSERT_TRUE(raw.connected());
  xdr::Encoder e;
  EncodeCallHeader(Header(9, kProcAdd), &e);
  std::string call = e.Take() + AddArgs(20, 22);
  std::string stream;
  for (size_t i = 0; i < call.size(); i += 5) {
    std::string_view piece = std::string_view(call).substr(i, 5);
    xdr::Encoder mark;
    mark.U32(static_cast<uint32_t>(piece.size()) | (i + 5 >= call.size() ? kLastFragment : 0));
    stream += mark.Take() + std::string(piece);
  }
  // Byte by byte, so headers and bodies are split across reads.
  for (char ch : stream) ASSERT_TRUE(raw.Write(std::string_view(&ch, 1)));
  auto r = raw.ReadReply();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->xid, 9u);
  EXPECT_EQ(DecodeU32(r->results), 42u);
}

TEST_F(ServerTest, UnanswerableRecordsAreDroppedWithoutClosing) {
  StartServer();
  RawConn raw(server_->port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.Write(RawConn::Frame("")));
  ASSERT_TRUE(raw.Write(RawConn::Frame("abcd")));
  xdr::Encoder reply;
  EncodeAcceptedReply(5, AcceptStat::kSuccess, &reply);
  ASSERT_TRUE(raw.Write(RawConn::Frame(reply.bytes())));
  ASSERT_TRUE(raw.WriteCall(Header(6, kProcAdd), AddArgs(3, 4)));
  auto r = raw.ReadReply();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->xid, 6u);
  EXPECT_EQ(DecodeU32(r->results), 7u);
}

TEST_F(ServerTest, OversizeRecordClosesOnlyThatConnection) {
  StartServer();
  auto good = Connect();
  ASSERT_NE(good, nullptr);
  RawConn bad(server_->port());
  ASSERT_TRUE(bad.connected());
  xdr::Encoder mark;
  mark.U32(kLastFragment | static_cast<uint32_t>(kMaxRecordSize + 1));
  ASSERT_TRUE(bad.Write(mark.bytes()));
  EXPECT_EQ(bad.DrainUntilClosed(milliseconds(5000)), 0);

  auto r = good->Call(Header(1, kProcAdd), AddArgs(1, 2));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(DecodeU32(r->results), 3u);
  ExpectServing();
}

TEST_F(ServerTest, GarbageOnOneConnectionDoesNotDisturbAnother) {
  ServerOptions options;
  options.workers = 2;
  StartServer(options);
  std::atomic<bool> done{false};
  std::thread noise([&] {
    std::mt19937 rng(7);
    // Many short-lived connections spewing random bytes, some of which parse as records.
    for (int n = 0; n < 500 && !done; ++n) {
      RawConn bad(server_->port());
      if (!bad.connected()) continue;
      std::string junk(1 + rng() % 4096, '\0');
      for (char& ch : junk) ch = static_cast<char>(rng());
      if (rng() % 2) {
        // A plausible small record header followed by junk, so the parser sees it.
        xdr::Encoder m;
        m.U32(kLastFragment | static_cast<uint32_t>(junk.size()));
        junk = m.Take() + junk;
      }
      bad.Write(junk);
    }
  });
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  for (uint32_t i = 0; i < 300; ++i) {
    auto r = c->Call(Header(i, kProcAdd), AddArgs(i, 1));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(DecodeU32(r->results), i + 1);
  }
  done = true;
  noise.join();
  ExpectServing();
}

TEST_F(ServerTest, ClientThatNeverReadsIsDropped) {
  ServerOptions options;
  options.workers = 2;
  options.send_timeout_ms = 300;
  StartServer(options);

  RawConn stuck(server_->port());
  ASSERT_TRUE(stuck.connected());
  // Replies far larger than the socket buffers, and the client never reads them.
  // The server may give up while we are still sending, so a failed write ends the loop.
  xdr::Encoder e;
  e.Opaque(std::string(512 * 1024, 'z'));
  int sent = 0;
  while (sent < 64 && stuck.WriteCall(Header(sent, kProcEcho), e.bytes())) ++sent;
  ASSERT_GT(sent, 0);

  // Meanwhile another client is served promptly.
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  auto start = Clock::now();
  for (uint32_t i = 0; i < 50; ++i) {
    auto r = c->Call(Header(i, kProcAdd), AddArgs(i, i));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  EXPECT_LT(Clock::now() - start, milliseconds(3000));

  // Give the server time to give up on the stuck client, then see that it did: the stream ends
  // long before all the replies arrived.
  std::this_thread::sleep_for(milliseconds(1500));
  long long got = stuck.DrainUntilClosed(milliseconds(10000));
  EXPECT_GE(got, 0) << "server did not close the connection";
  EXPECT_LT(got, static_cast<long long>(sent) * static_cast<long long>(e.size()));
  ExpectServing();
}

constexpr uint32_t Ip(uint32_t last) {
  return 0x7f000000u | last;
}

// True when `conn` still gets an answer to an ADD call.
bool Answers(RawConn& conn, uint32_t xid) {
  return conn.WriteCall(Header(xid, kProcAdd), AddArgs(xid, 1)) && conn.ReadReply().ok();
}

// True when the server has closed `conn`: nothing more to read within `timeout`, then EOF.
bool Closed(RawConn& conn, milliseconds timeout = milliseconds(2000)) {
  return conn.DrainUntilClosed(timeout) >= 0;
}

TEST_F(ServerTest, TotalLimitShedsTheConnectionIdleLongest) {
  ServerOptions options;
  options.max_connections = 3;
  StartServer(options);
  RawConn busy(server_->port(), Ip(2)), oldest(server_->port(), Ip(3));
  ASSERT_TRUE(Answers(oldest, 1));
  std::this_thread::sleep_for(milliseconds(20));
  RawConn newer(server_->port(), Ip(4));
  ASSERT_TRUE(Answers(newer, 1));
  ASSERT_TRUE(busy.WriteCall(Header(7, kProcSleep), U32Args(500)));  // not idle: a call runs
  std::this_thread::sleep_for(milliseconds(100));

  RawConn fourth(server_->port(), Ip(5));
  EXPECT_TRUE(Answers(fourth, 1)) << "a new client was locked out";
  EXPECT_TRUE(Closed(oldest)) << "the connection idle longest was kept";
  EXPECT_TRUE(Answers(newer, 2));
  auto r = busy.ReadReply();
  ASSERT_TRUE(r.ok()) << "a busy connection was shed: " << r.status().ToString();
  EXPECT_EQ(r->xid, 7u);
}

TEST_F(ServerTest, NewcomerIsClosedWhenNoConnectionIsIdle) {
  ServerOptions options;
  options.max_connections = 1;
  StartServer(options);
  RawConn busy(server_->port());
  ASSERT_TRUE(busy.WriteCall(Header(1, kProcSleep), U32Args(500)));
  std::this_thread::sleep_for(milliseconds(100));
  RawConn excess(server_->port());
  ASSERT_TRUE(excess.connected());  // accepted by the kernel, then closed by the server
  EXPECT_EQ(excess.DrainUntilClosed(milliseconds(5000)), 0);
  ASSERT_TRUE(busy.ReadReply().ok());
}

TEST_F(ServerTest, PerAddressLimitShedsThatAddressOnly) {
  ServerOptions options;
  options.max_connections_per_address = 2;
  StartServer(options);
  RawConn other(server_->port(), Ip(3));
  ASSERT_TRUE(Answers(other, 1));
  std::this_thread::sleep_for(milliseconds(20));
  RawConn first(server_->port(), Ip(2)), second(server_->port(), Ip(2));
  ASSERT_TRUE(Answers(first, 1));
  std::this_thread::sleep_for(milliseconds(20));
  ASSERT_TRUE(Answers(second, 1));
  RawConn third(server_->port(), Ip(2));
  EXPECT_TRUE(Answers(third, 1));
  EXPECT_TRUE(Closed(first)) << "the address's oldest idle connection was kept";
  EXPECT_TRUE(Answers(second, 2));
  EXPECT_TRUE(Answers(other, 2)) << "another address's connection was shed";
}

// Seen under ASan in GarbageOnOneConnectionDoesNotDisturbAnother: connections that never speak
// RPC, opened after a client's last call, must not push that client out between two calls.
TEST_F(ServerTest, SilentConnectionsAreShedBeforeAClientBetweenCalls) {
  ServerOptions options;
  options.max_connections_per_address = 3;
  StartServer(options);
  RawConn client(server_->port(), Ip(2));
  ASSERT_TRUE(Answers(client, 1));
  std::this_thread::sleep_for(milliseconds(20));
  RawConn silent1(server_->port(), Ip(2)), silent2(server_->port(), Ip(2));
  ASSERT_TRUE(silent1.connected() && silent2.connected());
  std::this_thread::sleep_for(milliseconds(20));
  RawConn newcomer(server_->port(), Ip(2));
  EXPECT_TRUE(Answers(newcomer, 1));
  EXPECT_TRUE(Answers(client, 2)) << "a client between two calls was shed for a silent one";
  EXPECT_TRUE(Closed(silent1)) << "the silent connection idle longest was kept";
}

TEST_F(ServerTest, IdleConnectionsAreClosed) {
  ServerOptions options;
  options.idle_timeout_ms = 300;
  StartServer(options);
  RawConn idle(server_->port());
  ASSERT_TRUE(Answers(idle, 1));
  RawConn busy(server_->port());
  ASSERT_TRUE(busy.WriteCall(Header(2, kProcSleep), U32Args(1000)));  // longer than the timeout
  EXPECT_TRUE(Closed(idle, milliseconds(3000)));
  auto r = busy.ReadReply();
  ASSERT_TRUE(r.ok()) << "a connection waiting for its reply counted as idle";
  EXPECT_EQ(r->xid, 2u);
  ExpectServing();
}

TEST_F(ServerTest, DisallowedPeerIsAnsweredOnceAndNeverDisplacesAllowedOnes) {
  ServerOptions options;
  options.max_connections = 2;
  options.peer_allowed = [](uint32_t ip) { return ip != Ip(9); };
  StartServer(options);
  RawConn refused(server_->port(), Ip(9));
  ASSERT_TRUE(Answers(refused, 1)) << "the first call gets the program's answer";
  EXPECT_TRUE(Closed(refused)) << "kept open after its first call";

  RawConn a(server_->port(), Ip(2)), b(server_->port(), Ip(3));
  ASSERT_TRUE(Answers(a, 1));
  ASSERT_TRUE(Answers(b, 1));
  RawConn intruder(server_->port(), Ip(9));
  ASSERT_TRUE(intruder.connected());
  EXPECT_EQ(intruder.DrainUntilClosed(milliseconds(5000)), 0) << "it displaced an allowed peer";
  EXPECT_TRUE(Answers(a, 2));
  EXPECT_TRUE(Answers(b, 2));
}

TEST_F(ServerTest, AllowedPeerDisplacesDisallowedOnesFirst) {
  ServerOptions options;
  options.max_connections = 2;
  options.peer_allowed = [](uint32_t ip) { return ip != Ip(9); };
  StartServer(options);
  RawConn a(server_->port(), Ip(2));
  ASSERT_TRUE(Answers(a, 1));  // idle longest, but allowed
  std::this_thread::sleep_for(milliseconds(20));
  RawConn intruder(server_->port(), Ip(9));
  ASSERT_TRUE(intruder.connected());
  std::this_thread::sleep_for(milliseconds(100));
  RawConn b(server_->port(), Ip(3));
  EXPECT_TRUE(Answers(b, 1));
  EXPECT_TRUE(Closed(intruder));
  EXPECT_TRUE(Answers(a, 2));
}

// A peer that pipelines calls with big replies and never reads must not hold the only worker:
// its calls wait on its own connection, and another client is served at once.
TEST_F(ServerTest, SlowReaderDoesNotHoldAWorker) {
  ServerOptions options;
  options.workers = 1;
  StartServer(options);
  RawConn stuck(server_->port());
  ASSERT_TRUE(stuck.connected());
  // 6 MiB of replies: more than the kernel buffers between the two ends.
  constexpr uint32_t kCalls = 24;
  xdr::Encoder e;
  e.Opaque(std::string(256 << 10, 'z'));
  for (uint32_t xid = 0; xid < kCalls; ++xid) {
    ASSERT_TRUE(stuck.WriteCall(Header(xid, kProcEcho), e.bytes()));
  }
  std::this_thread::sleep_for(milliseconds(300));

  auto c = Connect();
  ASSERT_NE(c, nullptr);
  for (uint32_t i = 0; i < 20; ++i) {
    auto start = Clock::now();
    auto r = c->Call(Header(i, kProcAdd), AddArgs(i, i));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_LT(Clock::now() - start, milliseconds(100)) << "call " << i;
  }
  // The stuck peer still gets every reply once it reads.
  for (uint32_t i = 0; i < kCalls; ++i) {
    auto r = stuck.ReadReply();
    ASSERT_TRUE(r.ok()) << "reply " << i << ": " << r.status().ToString();
    EXPECT_EQ(r->results.size(), e.size());
  }
}

TEST_F(ServerTest, HalfClosedClientStillGetsReplies) {
  StartServer();
  RawConn raw(server_->port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.WriteCall(Header(1, kProcSleep), U32Args(100)));
  ASSERT_TRUE(raw.WriteCall(Header(2, kProcAdd), AddArgs(1, 1)));
  ASSERT_EQ(shutdown(raw.fd(), SHUT_WR), 0);
  std::vector<uint32_t> xids;
  for (int i = 0; i < 2; ++i) {
    auto r = raw.ReadReply();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    xids.push_back(r->xid);
  }
  std::sort(xids.begin(), xids.end());
  EXPECT_EQ(xids, (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(raw.DrainUntilClosed(milliseconds(5000)), 0);
}

TEST_F(ServerTest, StopClosesOpenConnectionsPromptly) {
  ServerOptions options;
  options.workers = 2;
  StartServer(options);
  uint16_t port = server_->port();
  auto busy = Connect();
  ASSERT_NE(busy, nullptr);
  ASSERT_TRUE(busy->Send(Header(1, kProcSleep), U32Args(200)).ok());
  for (uint32_t i = 2; i < 20; ++i)
    ASSERT_TRUE(busy->Send(Header(i, kProcSleep), U32Args(50)).ok());
  auto idle = Connect();
  ASSERT_NE(idle, nullptr);
  RawConn partial(port);
  ASSERT_TRUE(partial.connected());
  ASSERT_TRUE(partial.Write(std::string("\x80\x00\x01\x00partial", 11)));
  std::this_thread::sleep_for(milliseconds(50));

  auto start = Clock::now();
  server_->Stop();
  EXPECT_LT(Clock::now() - start, milliseconds(3000));
  server_->Stop();  // idempotent

  EXPECT_GE(partial.DrainUntilClosed(milliseconds(2000)), 0);
  EXPECT_FALSE(idle->Call(Header(1, kProcNull), "").ok());
  EXPECT_FALSE(RpcClient::Connect("127.0.0.1", port).ok());
  server_.reset();  // destructor after Stop
}

TEST(RpcServerStartTest, RejectsBadOptions) {
  TestProgram a, b;
  ServerOptions options;
  EXPECT_FALSE(RpcServer::Start(options, {&a, &b}).ok());  // same program number
  EXPECT_FALSE(RpcServer::Start(options, {nullptr}).ok());
  options.workers = 0;
  EXPECT_FALSE(RpcServer::Start(options, {&a}).ok());
  options = ServerOptions();
  options.address = "localhost";
  EXPECT_EQ(RpcServer::Start(options, {&a}).status().code(), EINVAL);
}

TEST(RpcServerStartTest, ReportsBindFailure) {
  TestProgram p;
  auto first = RpcServer::Start({}, {&p});
  ASSERT_TRUE(first.ok());
  ServerOptions options;
  options.port = (*first)->port();
  auto second = RpcServer::Start(options, {&p});
  EXPECT_EQ(second.status().code(), EADDRINUSE);
}

}  // namespace
}  // namespace ovl::rpc
