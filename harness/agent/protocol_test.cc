// The agent protocol's types against its wire form: every request and reply survives encoding
// and decoding; the lines the backends send are the ones they sent as JSON literals before the
// types (stored logs and histories stay readable); malformed lines are errors naming what is
// wrong; each request type has its reply bound.
#include "agent/protocol.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ovl::agent::protocol {

// Failures show the wire form (found by gtest through ADL, hence outside the unnamed namespace).
void PrintTo(const Connect& connect, std::ostream* os) {
  *os << EncodeRequest(connect);
}

namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// As local_nodes.cc makes it: host, export, uid and gid left at their defaults.
Connect LibnfsConnect() {
  LibnfsAccess nfs;
  nfs.nfs_port = 2049;
  nfs.mount_port = 2050;
  return {nfs};
}

LibnfsAccess Libnfs(uint16_t nfs_port, std::optional<milliseconds> timeout) {
  LibnfsAccess nfs;
  nfs.nfs_port = nfs_port;
  nfs.timeout = timeout;
  return nfs;
}

ops::Op SomeOp() {
  ops::Op op;
  op.seq = 42;
  op.client = "c1";
  op.kind = ops::Kind::kWrite;
  op.target.var = "A";
  op.offset = 8;
  op.data = std::string("\0\xff data", 7);
  op.save = "B";
  return op;
}

throughput::LoadRequest SomeLoad() {
  throughput::LoadRequest r;
  r.job.name = "metadata-mix";
  r.job.pattern = throughput::Pattern::kMix;
  r.job.dir = "tput/c0";
  r.job.files = 10;
  r.job.size = 4096;
  r.job.max_ops = 1000;
  r.job.mix = {{throughput::LoadOp::kGetattr, 26}, {throughput::LoadOp::kFsstat, 1}};
  r.seed = 7;
  r.duration = milliseconds(1500);
  r.hold = true;
  return r;
}

// One of each request type, with the fields set.
std::vector<Request> EveryRequest() {
  AccessFields port;
  port.nfs_port = 3049;
  port.timeout = milliseconds(5000);
  return {LibnfsConnect(), Connect{SyscallsAccess{"/mnt/x"}},
          Reconnect{port}, ReconnectTo(LibnfsConnect()),
          RunOp{SomeOp()}, Load{SomeLoad()},
          Start{},         Forget{},
          Quit{}};
}

Request Decoded(const std::string& line) {
  Result<Request> r = DecodeRequest(line);
  EXPECT_TRUE(r.ok()) << line << ": " << r.status().ToString();
  return r.ok() ? *r : Request(Quit{});
}

// Lines that must not decode, each with a part of the error it must give.
using Rejections = std::vector<std::pair<std::string, std::string>>;

template <typename Decode>
void ExpectRejected(Decode decode, int code, const Rejections& cases) {
  for (const auto& [line, want] : cases) {
    auto r = decode(line);
    ASSERT_FALSE(r.ok()) << line << " decoded";
    EXPECT_EQ(r.status().code(), code) << line;
    EXPECT_NE(r.status().message().find(want), std::string::npos)
        << line << " -> " << r.status().message() << " (wanted " << want << ")";
  }
}

TEST(ProtocolTest, EveryRequestRoundTrips) {
  for (const Request& request : EveryRequest()) {
    const std::string line = EncodeRequest(request);
    Request back = Decoded(line);
    ASSERT_EQ(back.index(), request.index()) << line;
    EXPECT_EQ(CmdOf(back), CmdOf(request));
    EXPECT_EQ(EncodeRequest(back), line);
    if (const auto* run = std::get_if<RunOp>(&request)) {
      // ops::Op has no ==; its JSON form is its identity (ops_test covers that).
      EXPECT_EQ(json(std::get<RunOp>(back).op), json(run->op));
      EXPECT_EQ(std::get<RunOp>(back).op.data, run->op.data);
    } else {
      EXPECT_TRUE(std::visit(
          [&](const auto& r) {
            using T = std::decay_t<decltype(r)>;
            if constexpr (std::is_same_v<T, RunOp>) {
              return false;
            } else {
              return std::get<T>(back) == r;
            }
          },
          request))
          << line;
    }
  }
}

// The backends' requests, byte for byte as they were JSON literals (local_nodes.cc,
// local_ganesha.cc, libvirt/vm_nodes.cc, runner/agent_calls.cc) before protocol.h.
TEST(ProtocolTest, WireFormIsUnchanged) {
  EXPECT_EQ(EncodeRequest(LibnfsConnect()), json({{"cmd", "connect"},
                                                  {"mode", "libnfs"},
                                                  {"host", "127.0.0.1"},
                                                  {"nfs_port", 2049},
                                                  {"mount_port", 2050},
                                                  {"export", "/export"},
                                                  {"uid", 0},
                                                  {"gid", 0}})
                                                .dump());
  EXPECT_EQ(EncodeRequest(Connect{SyscallsAccess{"/mnt/ref"}}),
            json({{"cmd", "connect"}, {"mode", "syscalls"}, {"root", "/mnt/ref"}}).dump());
  json reconnect = json::parse(EncodeRequest(LibnfsConnect()));
  reconnect["cmd"] = "reconnect";
  EXPECT_EQ(EncodeRequest(ReconnectTo(LibnfsConnect())), reconnect.dump());
  EXPECT_EQ(EncodeRequest(RunOp{SomeOp()}), json({{"cmd", "op"}, {"op", SomeOp()}}).dump());
  EXPECT_EQ(EncodeRequest(Load{SomeLoad()}), throughput::ToJson(SomeLoad()).dump());
  EXPECT_EQ(EncodeRequest(Start{}), R"({"cmd":"start"})");
  EXPECT_EQ(EncodeRequest(Forget{}), R"({"cmd":"forget"})");
  EXPECT_EQ(EncodeRequest(Quit{}), R"({"cmd":"quit"})");

  EXPECT_EQ(EncodeReply(Ack{}), R"({"ok":true})");
  EXPECT_EQ(EncodeReply(Failure{"no", std::nullopt}), R"({"error":"no","ok":false})");
  EXPECT_EQ(EncodeReply(Failure{"no", 3}), R"({"error":"no","ok":false,"seq":3})");
  EXPECT_EQ(EncodeReply(Ready{}), R"({"ok":true,"ready":true})");
}

TEST(ProtocolTest, ConnectDefaults) {
  Request r = Decoded(R"({"cmd":"connect","mode":"libnfs","nfs_port":2049})");
  ASSERT_TRUE(std::holds_alternative<Connect>(r));
  const auto& nfs = std::get<LibnfsAccess>(std::get<Connect>(r).access);
  EXPECT_EQ(nfs, Libnfs(2049, std::nullopt));
  EXPECT_EQ(nfs.host, "127.0.0.1");
  EXPECT_EQ(nfs.export_path, "/export");
  EXPECT_FALSE(nfs.mount_port);
  EXPECT_FALSE(nfs.timeout);
}

TEST(ProtocolTest, ReconnectOverridesTheLastConnect) {
  // A connect that left mount_port to follow nfs_port keeps doing so.
  Connect plain{Libnfs(2049, milliseconds(5000))};
  AccessFields moved;
  moved.nfs_port = 3049;
  Result<Connect> back = Apply(plain, moved);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->access, Access(Libnfs(3049, milliseconds(5000))));

  // The full reconnect gives the connect back; an empty one keeps it.
  back = Apply(Connect{Libnfs(1, std::nullopt)}, ReconnectTo(LibnfsConnect()).fields);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, LibnfsConnect());
  back = Apply(plain, AccessFields{});
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, plain);

  AccessFields root;
  root.root = "/mnt/y";
  back = Apply(Connect{SyscallsAccess{"/mnt/x"}}, root);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, Connect{SyscallsAccess{"/mnt/y"}});

  // Errors name what is wrong.
  AccessFields mode;
  mode.mode = Mode::kSyscalls;
  back = Apply(plain, mode);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), EINVAL);
  EXPECT_EQ(back.status().message(), "reconnect cannot change \"mode\"");
  back = Apply(plain, root);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().message(), "unknown field \"root\"");
  back = Apply(Connect{SyscallsAccess{"/mnt/x"}}, moved);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().message(), "unknown field \"nfs_port\"");
}

TEST(ProtocolTest, MalformedRequestsNameWhatIsWrong) {
  const Rejections cases = {
      {"", "malformed request"},
      {"not json", "malformed request"},
      {"\"\xff\"", "malformed request"},
      {"[1,2]", "a request must be a JSON object"},
      {"{}", "missing string \"cmd\""},
      {R"({"cmd":5})", "missing string \"cmd\""},
      {R"({"cmd":"bogus"})", "unknown cmd \"bogus\""},
      {R"({"cmd":"op"})", "\"op\" takes exactly the field \"op\""},
      {R"({"cmd":"op","op":5})", "malformed op"},
      {R"({"cmd":"op","op":{"kind":"getattr"}})", "malformed op"},
      {R"({"cmd":"op","op":{"seq":1,"kind":"getattr"},"extra":1})", "takes exactly"},
      {R"({"cmd":"forget","x":1})", "\"forget\" takes no fields"},
      {R"({"cmd":"quit","x":1})", "\"quit\" takes no fields"},
      {R"({"cmd":"start","x":1})", "\"start\" takes no fields"},
      {R"({"cmd":"connect"})", "missing \"mode\""},
      {R"({"cmd":"connect","mode":7})", "\"mode\" must be a non-empty string"},
      {R"({"cmd":"connect","mode":"tcp"})", "\"mode\" must be \"libnfs\" or \"syscalls\""},
      {R"({"cmd":"connect","mode":"libnfs"})", "missing \"nfs_port\""},
      {R"({"cmd":"connect","mode":"libnfs","nfs_port":"2049"})", "\"nfs_port\" must be"},
      {R"({"cmd":"connect","mode":"libnfs","nfs_port":70000})", "\"nfs_port\" must be"},
      {R"({"cmd":"connect","mode":"libnfs","nfs_port":-1})", "\"nfs_port\" must be"},
      {R"({"cmd":"connect","mode":"libnfs","nfs_port":0})", "\"nfs_port\" must be"},
      {R"({"cmd":"connect","mode":"libnfs","nfs_port":1,"mount_port":true})", "\"mount_port\""},
      {R"({"cmd":"connect","mode":"libnfs","nfs_port":1,"uid":4294967296})", "\"uid\" must be"},
      {R"({"cmd":"connect","mode":"libnfs","nfs_port":1,"gid":1.5})", "\"gid\" must be"},
      {R"({"cmd":"connect","mode":"libnfs","nfs_port":1,"host":""})", "\"host\" must be"},
      {R"({"cmd":"connect","mode":"libnfs","nfs_port":1,"export":5})", "\"export\" must be"},
      {R"({"cmd":"connect","mode":"libnfs","nfs_port":2049,"timeout_ms":0})",
       "\"timeout_ms\" must be"},
      {R"({"cmd":"connect","mode":"libnfs","nfs_port":2049,"bogus":1})", "unknown field \"bogus\""},
      {R"({"cmd":"connect","mode":"libnfs","nfs_port":2049,"root":"/x"})",
       "unknown field \"root\""},
      {R"({"cmd":"connect","mode":"syscalls"})", "missing \"root\""},
      {R"({"cmd":"connect","mode":"syscalls","root":""})", "\"root\" must be a non-empty string"},
      {R"({"cmd":"connect","mode":"syscalls","root":"/x","uid":0})", "unknown field \"uid\""},
      {R"({"cmd":"reconnect","bogus":1})", "unknown field \"bogus\""},
      {R"({"cmd":"reconnect","nfs_port":"x"})", "\"nfs_port\" must be"},
      {R"({"cmd":"load"})", "seed"},
      {R"({"cmd":"load","seed":1,"duration_ms":0,"job":{}})", "duration_ms"},
  };
  ExpectRejected([](const std::string& line) { return DecodeRequest(line); }, EINVAL, cases);
}

TEST(ProtocolTest, AMalformedOpGivesItsSeq) {
  std::optional<uint64_t> seq;
  Result<Request> r = DecodeRequest(R"({"cmd":"op","op":{"seq":42,"kind":"nope"}})", &seq);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(seq, 42u);
  seq.reset();
  r = DecodeRequest(R"({"cmd":"op","op":{"seq":"x","kind":"nope"}})", &seq);
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(seq);
  r = DecodeRequest(R"({"cmd":"op","op":{"seq":42,"kind":"nope"}})");  // no out-parameter
  EXPECT_FALSE(r.ok());
}

std::vector<Reply> EveryReply() {
  throughput::LoadReport report;
  report.ops = 10;
  report.errors = 1;
  report.bytes = 4096;
  report.seconds = 1.5;
  report.request_seconds = 1.6;
  report.reconnects = 1;
  report.first_error = "STALE";
  report.timeline = {4, 6};
  ops::Result result;
  result.outcome = ops::Result::Outcome::kOk;
  result.handle = std::string("\x01\x02\x00", 3);
  result.data = "abc";
  result.attrs = ops::Attrs{"reg", 3, 77, 1, 0644};
  return {Ack{},
          Failure{"server down", std::nullopt},
          Failure{"malformed op", 42},
          Ready{},
          LoadDone{report},
          OpDone{7, result},
          OpDone{8, {}}};
}

TEST(ProtocolTest, EveryReplyRoundTrips) {
  for (const Reply& reply : EveryReply()) {
    const std::string line = EncodeReply(reply);
    Result<Reply> back = DecodeReply(line);
    ASSERT_TRUE(back.ok()) << line << ": " << back.status().ToString();
    ASSERT_EQ(back->index(), reply.index()) << line;
    EXPECT_EQ(EncodeReply(*back), line);
    if (const auto* f = std::get_if<Failure>(&reply)) {
      EXPECT_EQ(std::get<Failure>(*back), *f);
    }
    if (const auto* d = std::get_if<OpDone>(&reply)) {
      const auto& got = std::get<OpDone>(*back);
      EXPECT_EQ(got.seq, d->seq);
      EXPECT_EQ(got.result.data, d->result.data);  // whole, not a digest
      EXPECT_EQ(got.result.handle, d->result.handle);
      EXPECT_EQ(got.result.attrs.has_value(), d->result.attrs.has_value());
    }
    if (const auto* l = std::get_if<LoadDone>(&reply)) {
      const auto& got = std::get<LoadDone>(*back).report;
      EXPECT_EQ(got.ops, l->report.ops);
      EXPECT_EQ(got.first_error, l->report.first_error);
      EXPECT_EQ(got.timeline, l->report.timeline);
      EXPECT_EQ(got.request_seconds, l->report.request_seconds);
    }
  }
}

TEST(ProtocolTest, MalformedRepliesNameWhatIsWrong) {
  const Rejections cases = {
      {"", "not JSON"},
      {"garbage", "not JSON"},
      {"[]", "not a JSON object"},
      {"{}", "missing boolean \"ok\""},
      {R"({"ok":"yes"})", "missing boolean \"ok\""},
      {R"({"ok":true,"extra":1})", "unknown field \"extra\""},
      {R"({"ok":false})", "missing string \"error\""},
      {R"({"ok":false,"error":5})", "missing string \"error\""},
      {R"({"ok":false,"error":"x","seq":-1})", "\"seq\""},
      {R"({"ok":true,"ready":false})", "\"ready\" must be true"},
      {R"({"ok":true,"load":5})", "bad reply"},
      {R"({"result":{"outcome":"ok"}})", "missing \"seq\""},
      {R"({"seq":"x","result":{"outcome":"ok"}})", "\"seq\""},
      {R"({"seq":1,"result":5})", "result"},
      {R"({"seq":1,"result":{"outcome":"maybe"}})", "outcome"},
      {R"({"seq":1,"result":{"outcome":"ok"},"ok":true})", "unknown field \"ok\""},
  };
  ExpectRejected([](const std::string& line) { return DecodeReply(line); }, EPROTO, cases);
}

// Cut anywhere, a line is an error, never a crash or a different message.
TEST(ProtocolTest, TruncatedLinesAreErrors) {
  std::vector<std::string> lines;
  for (const Request& request : EveryRequest()) lines.push_back(EncodeRequest(request));
  for (const Reply& reply : EveryReply()) lines.push_back(EncodeReply(reply));
  for (const std::string& line : lines) {
    for (size_t n = 0; n < line.size(); ++n) {
      EXPECT_FALSE(DecodeRequest(line.substr(0, n)).ok()) << line.substr(0, n);
      EXPECT_FALSE(DecodeReply(line.substr(0, n)).ok()) << line.substr(0, n);
    }
  }
}

TEST(ProtocolTest, EachRequestTypeHasItsReplyTimeout) {
  static_assert(Load::kReplyWait == ReplyWait::kLoad && Start::kReplyWait == ReplyWait::kLoad);
  const milliseconds op(60'000);
  for (const Request& request : EveryRequest()) {
    const bool load =
        std::holds_alternative<Load>(request) || std::holds_alternative<Start>(request);
    EXPECT_EQ(ReplyTimeout(request, op), load ? milliseconds(kLoadReplyTimeout) : op)
        << CmdOf(request);
  }
  EXPECT_EQ(ReplyTimeout(Load{SomeLoad()}, op), std::chrono::seconds(300));
  EXPECT_EQ(ReplyTimeout(Start{}, op), std::chrono::seconds(300));
  EXPECT_EQ(ReplyTimeout(RunOp{SomeOp()}, milliseconds(120'000)), milliseconds(120'000));
  EXPECT_EQ(ReplyTimeout(LibnfsConnect(), op), op);
  EXPECT_EQ(ReplyTimeout(Quit{}, op), op);
}

}  // namespace
}  // namespace ovl::agent::protocol
