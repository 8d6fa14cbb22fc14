#include "agent/load.h"

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/prng.h"
#include "throughput/sequence.h"

namespace ovl::agent {
namespace {

using Clock = std::chrono::steady_clock;
using throughput::LoadOp;
using throughput::LoadReport;
using throughput::LoadRequest;
using throughput::LoadSpec;
using throughput::Pattern;
using throughput::PlannedOp;

constexpr char kDirVar[] = "load:dir";
constexpr char kFileVar[] = "load:file";

uint64_t Nanos(Clock::duration d) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
}

ops::Target VarTarget(const std::string& var) {
  ops::Target t;
  t.var = var;
  return t;
}

ops::Op Make(ops::Kind kind, const std::string& var) {
  ops::Op op;
  op.kind = kind;
  op.target = VarTarget(var);
  return op;
}

// `size` bytes drawn from `seed`.
std::string Payload(uint64_t size, uint64_t seed) {
  Prng prng(seed);
  std::string out(size, '\0');
  for (uint64_t i = 0; i < size; i += 8) {
    const uint64_t v = prng.Next();
    for (uint64_t b = 0; b < 8 && i + b < size; ++b) out[i + b] = static_cast<char>(v >> (8 * b));
  }
  return out;
}

class Load : public PreparedLoad {
 public:
  Load(LoadRequest request, Executor* executor, Redial redial)
      : request_(std::move(request)),
        spec_(request_.job),
        executor_(executor),
        redial_(std::move(redial)) {
    write_ = Make(ops::Kind::kWrite, "");
    write_.data = Payload(spec_.request_size, request.seed);
    write_.stable = spec_.stable;
  }

  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

  Status Setup();
  Result<LoadReport> Run() override;

 private:
  ops::Result Exec(const ops::Op& op) { return executor_->Execute(op, vars_); }
  // A setup step that must succeed.
  Status Require(const ops::Op& op, const std::string& what);
  ops::Result Issue(const PlannedOp& p);
  const std::string& FileVar(const PlannedOp& p) const;
  std::string EntryName(const PlannedOp& p) const;
  // Redials until it works or `deadline` passes.
  void Reconnect(Clock::time_point deadline, throughput::LoadRecorder& rec);

  const LoadRequest request_;
  const LoadSpec& spec_;  // request_'s
  Executor* executor_;
  const Redial redial_;
  VarTable vars_;  // the load's own handles; they outlive a redial
  std::vector<std::string> file_vars_;
  std::vector<std::string> link_vars_;
  ops::Op write_;  // its payload is made once
};

Status Load::Require(const ops::Op& op, const std::string& what) {
  ops::Result r = Exec(op);
  if (r.outcome == ops::Result::Outcome::kOk) return Status::Ok();
  return Status::Error(EIO, "load setup: " + what + ": " + r.error);
}

Status Load::Setup() {
  const size_t slash = spec_.dir.rfind('/');
  ops::Op dir;
  dir.kind = ops::Kind::kLookup;
  dir.target.path = slash == std::string::npos ? "" : spec_.dir.substr(0, slash);
  dir.name = slash == std::string::npos ? spec_.dir : spec_.dir.substr(slash + 1);
  dir.save = kDirVar;
  OVL_RETURN_IF_ERROR(Require(dir, "lookup " + spec_.dir));
  auto lookup = [&](const std::string& name, const std::string& var) {
    ops::Op op = Make(ops::Kind::kLookup, kDirVar);
    op.name = name;
    op.save = var;
    return Require(op, "lookup " + spec_.dir + "/" + name);
  };
  const bool data = spec_.pattern == Pattern::kSequential || spec_.pattern == Pattern::kRandom;
  if (data && spec_.fresh_file) {
    ops::Op create = Make(ops::Kind::kCreate, kDirVar);
    create.name = spec_.file;
    create.how = ops::CreateHow::kUnchecked;
    create.mode = 0644;
    create.save = kFileVar;
    OVL_RETURN_IF_ERROR(Require(create, "create " + spec_.dir + "/" + spec_.file));
    ops::Op truncate = Make(ops::Kind::kSetAttr, kFileVar);
    truncate.size = 0;
    OVL_RETURN_IF_ERROR(Require(truncate, "truncate " + spec_.file));
  } else if (data) {
    OVL_RETURN_IF_ERROR(lookup(spec_.file, kFileVar));
    if (spec_.mix.front().op == LoadOp::kWrite) {
      write_.target.var = kFileVar;
      write_.offset = 0;
      OVL_RETURN_IF_ERROR(Require(write_, "first write (copy-up) of " + spec_.file));
    }
  }
  if (spec_.pattern == Pattern::kMix) {
    for (uint64_t i = 0; i < spec_.files; ++i) {
      file_vars_.push_back("load:" + throughput::FileName(i));
      OVL_RETURN_IF_ERROR(lookup(throughput::FileName(i), file_vars_.back()));
    }
    for (uint64_t i = 0; i < spec_.symlinks; ++i) {
      link_vars_.push_back("load:" + throughput::LinkName(i));
      OVL_RETURN_IF_ERROR(lookup(throughput::LinkName(i), link_vars_.back()));
    }
  }
  return Status::Ok();
}

const std::string& Load::FileVar(const PlannedOp& p) const {
  static const std::string kFile = kFileVar;
  return spec_.pattern == Pattern::kMix ? file_vars_[p.index] : kFile;
}

std::string Load::EntryName(const PlannedOp& p) const {
  if (spec_.pattern == Pattern::kPhases) return throughput::PhaseName(p.index);
  if (p.op == LoadOp::kLookup) return throughput::FileName(p.index);
  return throughput::CreatedName(p.index);
}

ops::Result Load::Issue(const PlannedOp& p) {
  switch (p.op) {
    case LoadOp::kGetattr:
      return Exec(Make(ops::Kind::kGetAttr, FileVar(p)));
    case LoadOp::kLookup:
    case LoadOp::kCreate:
    case LoadOp::kRemove: {
      const ops::Kind kind = p.op == LoadOp::kLookup   ? ops::Kind::kLookup
                             : p.op == LoadOp::kCreate ? ops::Kind::kCreate
                                                       : ops::Kind::kRemove;
      ops::Op op = Make(kind, kDirVar);
      op.name = EntryName(p);
      op.how = ops::CreateHow::kGuarded;
      if (kind == ops::Kind::kCreate) op.mode = 0644;
      return Exec(op);
    }
    case LoadOp::kRead: {
      ops::Op op = Make(ops::Kind::kRead, FileVar(p));
      op.offset = p.offset;
      op.count = static_cast<uint32_t>(spec_.request_size);
      return Exec(op);
    }
    case LoadOp::kWrite:
      write_.target.var = FileVar(p);
      write_.offset = p.offset;
      return Exec(write_);
    case LoadOp::kCommit:
      return Exec(Make(ops::Kind::kCommit, FileVar(p)));
    case LoadOp::kSetattr: {
      ops::Op op = Make(ops::Kind::kSetAttr, FileVar(p));
      op.mode = 0644;
      return Exec(op);
    }
    case LoadOp::kReaddirplus:
      return Exec(Make(ops::Kind::kReaddir, kDirVar));
    case LoadOp::kReadlink:
      return Exec(Make(ops::Kind::kReadlink, link_vars_[p.index]));
    case LoadOp::kAccess:
      return executor_->RunProbe(Executor::Probe::kAccess, VarTarget(FileVar(p)), vars_);
    case LoadOp::kFsstat:
      return executor_->RunProbe(Executor::Probe::kFsstat, VarTarget(kDirVar), vars_);
    case LoadOp::kReaddir:
      return executor_->RunProbe(Executor::Probe::kReaddir, VarTarget(kDirVar), vars_);
  }
  return ErrorResult("INVAL");
}

void Load::Reconnect(Clock::time_point deadline, throughput::LoadRecorder& rec) {
  executor_ = nullptr;  // a redial replaces the executor, working or not
  while (Clock::now() < deadline) {
    if (Executor* e = redial_()) {
      executor_ = e;
      rec.CountReconnect();
      return;
    }
    std::this_thread::sleep_for(kRedialInterval);
  }
}

Result<LoadReport> Load::Run() {
  throughput::OpSequence sequence(spec_, request_.seed);
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + request_.duration;
  throughput::LoadRecorder rec(request_.timeline, request_.ok_runs,
                               static_cast<int64_t>(Nanos(start.time_since_epoch())));
  Clock::time_point now = start;
  for (uint64_t issued = 0; executor_ && issued < spec_.max_ops && now < deadline; ++issued) {
    const PlannedOp p = sequence.Next();
    const Clock::time_point begin = Clock::now();
    ops::Result r = Issue(p);
    now = Clock::now();
    const bool ok = r.outcome == ops::Result::Outcome::kOk;
    using Ending = throughput::LoadRecorder::Ending;
    const Ending ending = ok                                            ? Ending::kOk
                          : r.outcome == ops::Result::Outcome::kUnknown ? Ending::kCutOff
                                                                        : Ending::kError;
    const uint64_t bytes = !ok                      ? 0
                           : p.op == LoadOp::kRead  ? r.data.size()
                           : p.op == LoadOp::kWrite ? r.count
                                                    : 0;
    rec.Record(p.op, Nanos(begin - start), Nanos(now - start), ending, bytes, r.error);
    if (r.outcome == ops::Result::Outcome::kUnknown) {
      Reconnect(deadline, rec);
      now = Clock::now();
    }
  }
  return rec.Finish(Nanos(now - start));
}

}  // namespace

Result<std::unique_ptr<PreparedLoad>> PrepareLoad(LoadRequest request, Executor* executor,
                                                  Redial redial) {
  auto load = std::make_unique<Load>(std::move(request), executor, std::move(redial));
  OVL_RETURN_IF_ERROR(load->Setup());
  return std::unique_ptr<PreparedLoad>(std::move(load));
}

Result<LoadReport> RunLoad(const LoadRequest& request, Executor* executor, const Redial& redial) {
  OVL_ASSIGN_OR_RETURN(std::unique_ptr<PreparedLoad> load, PrepareLoad(request, executor, redial));
  return load->Run();
}

}  // namespace ovl::agent
