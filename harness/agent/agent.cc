#include "agent/agent.h"

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <utility>
#include <variant>

#include "agent/fio_load.h"
#include "agent/libnfs_executor.h"
#include "agent/load.h"
#include "agent/syscall_executor.h"
#include "throughput/load_spec.h"

namespace ovl::agent {
namespace {

using protocol::Reply;

Reply Fail(std::string what) {
  return protocol::Failure{std::move(what), std::nullopt};
}

Result<std::unique_ptr<Executor>> MakeExecutor(const protocol::Access& access, OpenFiles* files) {
  if (const auto* nfs = std::get_if<protocol::LibnfsAccess>(&access)) {
    LibnfsConfig c;
    c.host = nfs->host;
    c.nfs_port = nfs->nfs_port;
    c.mount_port = nfs->mount_port.value_or(nfs->nfs_port);
    c.export_path = nfs->export_path;
    c.uid = nfs->uid;
    c.gid = nfs->gid;
    c.timeout = nfs->timeout.value_or(c.timeout);
    OVL_ASSIGN_OR_RETURN(std::unique_ptr<LibnfsExecutor> e, LibnfsExecutor::Connect(c));
    return std::unique_ptr<Executor>(std::move(e));
  }
  OVL_ASSIGN_OR_RETURN(
      std::unique_ptr<SyscallExecutor> e,
      SyscallExecutor::Open(std::get<protocol::SyscallsAccess>(access).root, files));
  return std::unique_ptr<Executor>(std::move(e));
}

enum class LineRead { kLine, kTooLong, kEnd };

// Reads one '\n'-terminated line (the last may lack it) of at most kMaxLineBytes; a longer one
// is consumed up to its end and reported as kTooLong.
LineRead ReadLine(std::istream& in, std::string* line) {
  line->clear();
  std::streambuf* buf = in.rdbuf();
  bool too_long = false;
  for (;;) {
    int c = buf->sbumpc();
    if (c == std::char_traits<char>::eof()) {
      if (line->empty() && !too_long) return LineRead::kEnd;
      break;
    }
    if (c == '\n') break;
    if (line->size() >= kMaxLineBytes) {
      too_long = true;
      line->clear();
    }
    if (!too_long) line->push_back(static_cast<char>(c));
  }
  return too_long ? LineRead::kTooLong : LineRead::kLine;
}

}  // namespace

std::string Agent::Handle(const std::string& line, bool* quit) {
  Reply reply = protocol::Ack{};
  try {
    std::optional<uint64_t> op_seq;
    Result<protocol::Request> request = protocol::DecodeRequest(line, &op_seq);
    if (!request.ok()) {
      reply = protocol::Failure{request.status().message(), op_seq};
    } else {
      if (std::holds_alternative<protocol::Quit>(*request)) *quit = true;
      reply = std::visit([this](const auto& r) { return Run(r); }, *request);
    }
  } catch (const std::exception& e) {
    // Whatever an executor or a load throws is told back rather than ending the agent.
    reply = Fail(std::string("request failed: ") + e.what());
  }
  return protocol::EncodeReply(reply);
}

Reply Agent::Dial(protocol::Connect config) {
  config_ = std::move(config);
  // Drop the old connection first: a remount or a restarted server makes it useless.
  executor_.reset();
  Result<std::unique_ptr<Executor>> executor = MakeExecutor(config_->access, &open_files_);
  if (!executor.ok()) return Fail(executor.status().ToString());
  executor_ = std::move(executor).value();
  return protocol::Ack{};
}

Reply Agent::Run(const protocol::Connect& request) {
  vars_.clear();
  open_files_.clear();  // a new case: the files the last one kept open are closed
  held_.reset();
  return Dial(request);
}

Reply Agent::Run(const protocol::Reconnect& request) {
  if (!config_) return Fail("reconnect before connect");
  // A malformed reconnect changes nothing.
  Result<protocol::Connect> merged = protocol::Apply(*config_, request.fields);
  if (!merged.ok()) return Fail(merged.status().message());
  held_.reset();
  return Dial(std::move(merged).value());
}

Reply Agent::Run(const protocol::RunOp& request) {
  ops::Result result =
      executor_ ? executor_->Execute(request.op, vars_) : UnknownResult("not connected");
  return protocol::OpDone{request.op.seq, std::move(result)};
}

Reply Agent::Run(const protocol::Load& request) {
  throughput::LoadRequest load = request.request;
  const bool fio = load.engine == topology::LoadEngine::kFio;
  if (fio && config_ && protocol::ModeOf(config_->access) != protocol::Mode::kSyscalls) {
    return Fail("engine fio runs on a mounted path: this connection is " +
                std::string(protocol::ModeName(protocol::ModeOf(config_->access))));
  }
  if (!executor_) return Fail("load before a successful connect");
  // After a fault the load dials the same access path again; the handles it holds stay.
  Redial redial = [this]() -> Executor* {
    return std::holds_alternative<protocol::Ack>(Dial(*config_)) ? executor_.get() : nullptr;
  };
  const auto start = std::chrono::steady_clock::now();
  held_.reset();
  const bool hold = load.hold;
  Result<std::unique_ptr<PreparedLoad>> prepared =
      fio ? PrepareFioLoad(std::move(load),
                           std::get<protocol::SyscallsAccess>(config_->access).root)
          : PrepareLoad(std::move(load), executor_.get(), std::move(redial));
  if (!prepared.ok()) return Fail(prepared.status().message());
  if (hold) {
    held_ = std::move(prepared).value();
    return protocol::Ready{};
  }
  return RunPrepared(**prepared, start);
}

Reply Agent::Run(const protocol::Start&) {
  if (!held_) return Fail("start without a held load");
  std::unique_ptr<PreparedLoad> load = std::move(held_);
  return RunPrepared(*load, std::chrono::steady_clock::now());
}

Reply Agent::Run(const protocol::Forget&) {
  vars_.clear();
  return protocol::Ack{};
}

Reply Agent::Run(const protocol::Quit&) {
  return protocol::Ack{};
}

Reply Agent::RunPrepared(PreparedLoad& load, std::chrono::steady_clock::time_point since) {
  Result<throughput::LoadReport> report = load.Run();
  if (!report.ok()) return Fail(report.status().message());
  report->request_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
  return protocol::LoadDone{std::move(report).value()};
}

void Agent::Serve(std::istream& in, std::ostream& out) {
  std::string line;
  bool quit = false;
  while (!quit) {
    LineRead read = ReadLine(in, &line);
    if (read == LineRead::kEnd) return;
    std::string response =
        read == LineRead::kTooLong
            ? protocol::EncodeReply(
                  Fail("request longer than " + std::to_string(kMaxLineBytes) + " bytes"))
            : Handle(line, &quit);
    out << response << '\n' << std::flush;
  }
}

}  // namespace ovl::agent
