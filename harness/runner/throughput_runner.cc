#include "runner/throughput_runner.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <future>
#include <limits>
#include <optional>
#include <system_error>
#include <thread>

#include "backend/fixture_disk.h"
#include "ops/fixture.h"
#include "runner/agent_calls.h"
#include "throughput/jobs.h"
#include "throughput/load_spec.h"
#include "throughput/stats.h"

namespace ovl::runner {
namespace {

namespace stdfs = std::filesystem;
namespace tp = ::ovl::topology;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using throughput::LoadReport;
using throughput::ResolvedJob;

constexpr char kPhysical[] = "physical";
constexpr milliseconds kJobTimeline{1000};

std::string JobName(tp::JobKind kind) {
  return std::string(tp::NameOf(tp::kJobKindNames, kind));
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// harness-agents per access path, started the first time they are needed and kept for the
// whole phase.
class AgentPool {
 public:
  explicit AgentPool(const ThroughputContext& ctx) : ctx_(ctx) {}

  Result<std::vector<backend::AgentNode*>> Get(tp::Access access, size_t n) {
    auto& pool = agents_[access];
    while (pool.size() < n) {
      const std::string name = "tput-" + std::string(tp::NameOf(tp::kAccessNames, access)) + "-" +
                               std::to_string(pool.size() + 1);
      OVL_ASSIGN_OR_RETURN(auto agent,
                           backend::StartLocalAgent(name, access, ctx_.paths, ctx_.log_dir));
      pool.push_back(std::move(agent));
    }
    std::vector<backend::AgentNode*> out;
    for (size_t i = 0; i < n; ++i) out.push_back(pool[i].get());
    return out;
  }

 private:
  const ThroughputContext& ctx_;
  std::map<tp::Access, std::vector<std::unique_ptr<backend::AgentNode>>> agents_;
};

// One job's working set, served by the target: made by Prepare, removed by Release.
class Layers {
 public:
  Layers(const ThroughputTarget& target, std::string dir, bool keep)
      : target_(target), dir_(std::move(dir)), keep_(keep) {}
  ~Layers() {
    if (target_.node) {
      (void)target_.node->Teardown(keep_);
    } else if (!keep_) {
      std::error_code ec;
      stdfs::remove_all(dir_, ec);
    }
  }

  // The connect request that reaches the working set once it is served.
  Result<protocol::Connect> Prepare(const ops::Fixture& fixture) {
    if (target_.node) {
      Status up = target_.node->Setup(fixture, dir_);
      if (!up.ok()) return Status::Error(up.code(), "server setup: " + up.ToString());
      return target_.node->ConnectRequest();
    }
    const std::string plain = dir_ + "/plain";
    std::error_code ec;
    stdfs::remove_all(dir_, ec);
    stdfs::create_directories(plain, ec);
    if (ec) return Status::Error(ec.value(), "create " + plain + ": " + ec.message());
    OVL_RETURN_IF_ERROR(backend::Materialize(fixture, {plain}));
    return protocol::Connect{protocol::SyscallsAccess{plain}};
  }

 private:
  const ThroughputTarget& target_;
  std::string dir_;
  bool keep_;
};

// Connects `agents` with `connect`.
Status ConnectAll(const std::vector<backend::AgentNode*>& agents,
                  const protocol::Connect& connect) {
  for (backend::AgentNode* a : agents) OVL_RETURN_IF_ERROR(Control(*a, connect));
  return Status::Ok();
}

// Runs `work(i)` for every agent at once, in threads; the results in order.
template <typename T>
std::vector<Result<T>> OnEachAgent(size_t n, const std::function<Result<T>(size_t)>& work) {
  std::vector<Result<T>> got(n, Status::Error(EIO, "no reply"));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n; ++i) threads.emplace_back([&, i] { got[i] = work(i); });
  for (auto& t : threads) t.join();
  return got;
}

// Every agent sets its client's load up ("hold"); then all timed parts start together and
// `started` is called. Their reports, or the first failure.
Result<std::vector<LoadReport>> RunLoads(const std::vector<backend::AgentNode*>& agents,
                                         const ResolvedJob& job, uint64_t seed,
                                         milliseconds timeline, bool ok_runs,
                                         const std::function<void()>& started = {}) {
  for (Result<bool>& ready : OnEachAgent<bool>(agents.size(), [&](size_t i) -> Result<bool> {
         throughput::LoadRequest request = throughput::RequestFor(job, i, seed, timeline, ok_runs);
         request.hold = true;
         OVL_RETURN_IF_ERROR(Ask<protocol::Ready>(*agents[i], protocol::Load{request}).status());
         return true;
       })) {
    if (!ready.ok()) return ready.status();
  }
  if (started) started();
  std::vector<Result<LoadReport>> got =
      OnEachAgent<LoadReport>(agents.size(), [&](size_t i) -> Result<LoadReport> {
        const int64_t sent = NowNs();
        OVL_ASSIGN_OR_RETURN(protocol::LoadDone done,
                             Ask<protocol::LoadDone>(*agents[i], protocol::Start{}));
        const double runner_seconds = static_cast<double>(NowNs() - sent) / 1e9;
        LoadReport report = std::move(done.report);
        Status clock = throughput::CheckClientClock(report.request_seconds, runner_seconds);
        if (!clock.ok()) {
          return Status::Error(clock.code(), agents[i]->name() + ": " + clock.message());
        }
        // start_ns is the agent's steady clock, which is not ours in a VM: put the start on our
        // clock, counting back from the reply (the timed part ends just before it is sent).
        report.start_ns = NowNs() - static_cast<int64_t>(report.seconds * 1e9);
        return report;
      });
  std::vector<LoadReport> reports;
  for (auto& r : got) {
    if (!r.ok()) return r.status();
    reports.push_back(std::move(r).value());
  }
  return reports;
}

void AddTimeline(const std::string& server, const std::string& job,
                 const std::vector<LoadReport>& reports, ThroughputResults* out) {
  for (const auto& [t, rate] : throughput::MergedTimeline(reports)) {
    out->timeline.push_back({server, job, t, rate});
  }
}

int64_t EarliestStart(const std::vector<LoadReport>& reports) {
  int64_t first = std::numeric_limits<int64_t>::max();
  for (const LoadReport& r : reports) first = std::min(first, r.start_ns);
  return first;
}

std::string Describe(const JobThroughput& j) {
  if (!j.error.empty()) return j.error;
  char buf[160];
  std::snprintf(buf, sizeof buf, "%.1f %s, p50 %.0f us, p99 %.0f us, %llu errors",
                j.unit == "MB/s" ? j.mb_per_s : j.ops_per_s, j.unit.c_str(), j.p50_us, j.p99_us,
                static_cast<unsigned long long>(j.errors));
  return buf;
}

class Phase {
 public:
  Phase(const ThroughputContext& ctx, const throughput::JobCatalogue& catalogue)
      : ctx_(ctx), catalogue_(catalogue), pool_(ctx) {}

  // One job on one target; the timeline is kept of the first round only.
  void Job(const ThroughputTarget& target, const tp::ThroughputJob& entry, uint64_t round);
  // The under-faults run of `entry` on a server.
  void UnderFaults(const ThroughputTarget& target, const tp::ThroughputJob& entry);

  ThroughputResults results;

 private:
  void Report(const std::string& line) const {
    if (ctx_.progress) ctx_.progress(line);
  }
  // Up to `n` clients for `target`: its client VMs, or agents of the pool.
  Result<std::vector<backend::AgentNode*>> Clients(const ThroughputTarget& target, size_t n) {
    if (target.clients.empty()) return pool_.Get(target.access, n);
    return std::vector<backend::AgentNode*>(
        target.clients.begin(), target.clients.begin() + std::min(n, target.clients.size()));
  }
  std::string Dir(const ThroughputTarget& target, const std::string& job) const {
    return ctx_.work_dir + "/" + target.server + "/" + job;
  }

  const ThroughputContext& ctx_;
  const throughput::JobCatalogue& catalogue_;
  AgentPool pool_;
};

void Phase::Job(const ThroughputTarget& target, const tp::ThroughputJob& entry, uint64_t round) {
  const ResolvedJob job = throughput::Resolve(*catalogue_.Find(entry.kind), entry);
  JobThroughput r;
  r.job = JobName(entry.kind);
  r.variant = target.variant;
  r.server = target.server;
  r.unit = job.def.unit;
  r.engine = std::string(tp::NameOf(tp::kLoadEngineNames, job.engine));
  r.clients = job.clients;
  auto run = [&]() -> Status {
    if (target.node) {
      if (std::string why = target.node->Unsupported(); !why.empty()) {
        return Status::Error(kErrNotSupp, "unsupported: " + why);
      }
    }
    if (job.engine == tp::LoadEngine::kFio && target.access == tp::Access::kLibnfs) {
      return Status::Error(kErrNotSupp, "unsupported: engine fio runs on a mounted path; " +
                                            target.server + " is loaded through libnfs");
    }
    Layers layers(target, Dir(target, r.job), ctx_.keep);
    OVL_ASSIGN_OR_RETURN(protocol::Connect connect,
                         layers.Prepare(throughput::WorkingSet(job, ctx_.seed)));
    OVL_ASSIGN_OR_RETURN(auto agents, Clients(target, job.clients));
    r.clients = agents.size();
    OVL_RETURN_IF_ERROR(ConnectAll(agents, connect));
    OVL_ASSIGN_OR_RETURN(auto reports, RunLoads(agents, job, ctx_.seed, kJobTimeline, false));
    const throughput::JobSummary s = throughput::Summarize(reports);
    r.ops = s.ops;
    r.errors = s.errors;
    r.bytes = s.bytes;
    r.seconds = s.seconds;
    r.ops_per_s = s.ops_per_s;
    r.mb_per_s = s.mb_per_s;
    r.p50_us = s.p50_us;
    r.p99_us = s.p99_us;
    r.by_op = s.by_op;
    if (round == 0) AddTimeline(target.server, r.job, reports, &results);
    return Status::Ok();
  };
  Status st = run();
  if (!st.ok()) r.error = st.code() == kErrNotSupp ? st.message() : st.ToString();
  Report(target.server + " " + r.job + ": " + Describe(r));
  results.jobs.push_back(std::move(r));
}

void Phase::UnderFaults(const ThroughputTarget& target, const tp::ThroughputJob& entry) {
  const throughput::FaultRunDef& faults = catalogue_.under_faults;
  const ResolvedJob job = throughput::Resolve(*catalogue_.Find(entry.kind), entry);
  const std::string name = JobName(entry.kind);
  std::vector<FaultRecovery> struck;
  std::vector<int64_t> struck_ns;  // when each fault began (steady clock)
  auto run = [&]() -> Status {
    if (std::string why = target.node->Unsupported(); !why.empty()) {
      return Status::Error(kErrNotSupp, "unsupported: " + why);
    }
    Layers layers(target, Dir(target, name + "@faults"), ctx_.keep);
    OVL_ASSIGN_OR_RETURN(protocol::Connect connect,
                         layers.Prepare(throughput::WorkingSet(job, ctx_.seed)));
    OVL_ASSIGN_OR_RETURN(auto agents, Clients(target, job.clients));
    OVL_RETURN_IF_ERROR(ConnectAll(agents, connect));
    Result<std::vector<LoadReport>> reports = Status::Error(EIO, "no reports");
    // Set-up can take long (a thousand LOOKUPs in a TCG guest): the faults are timed from the
    // start of the timed parts, and none strikes if the loads could not be set up.
    std::promise<bool> go;
    std::future<bool> went = go.get_future();
    std::thread load([&] {
      bool started = false;
      reports = RunLoads(agents, job, ctx_.seed, faults.timeline, /*ok_runs=*/true, [&] {
        started = true;
        go.set_value(true);
      });
      if (!started) go.set_value(false);
    });
    if (!went.get()) {
      load.join();
      return reports.status();
    }
    // The faults strike at equal spacing over the job's duration, each after the last is over.
    const Clock::time_point start = Clock::now();
    const size_t n = faults.faults.size();
    for (size_t k = 0; k < n; ++k) {
      std::this_thread::sleep_until(start + job.duration * (k + 1) / (n + 1));
      FaultRecovery f;
      f.server = target.server;
      f.variant = target.variant;
      f.job = name + "@faults";  // as in the timeline
      f.fault = std::string(tp::NameOf(tp::kFaultKindNames, faults.faults[k]));
      const int64_t at = NowNs();
      Status st = backend::StrikeServer(*target.node, faults.faults[k]);
      f.fault_seconds = static_cast<double>(NowNs() - at) / 1e9;
      if (!st.ok()) f.error = st.ToString();
      struck.push_back(std::move(f));
      struck_ns.push_back(at);
    }
    load.join();
    if (!reports.ok()) return reports.status();
    const int64_t first = EarliestStart(*reports);
    for (size_t k = 0; k < struck.size(); ++k) {
      FaultRecovery& f = struck[k];
      const int64_t until =
          k + 1 < struck_ns.size() ? struck_ns[k + 1] : std::numeric_limits<int64_t>::max();
      const int64_t over = struck_ns[k] + static_cast<int64_t>(f.fault_seconds * 1e9);
      f.seconds_to_first_ok = throughput::SecondsToFirstOk(*reports, struck_ns[k], until, over);
      f.t = static_cast<double>(struck_ns[k] - first) / 1e9;
      char buf[160];
      std::snprintf(buf, sizeof buf, "%s at %.2f s took %.3f s; recovered after ", f.fault.c_str(),
                    f.t, f.fault_seconds);
      std::string line = buf;
      if (f.seconds_to_first_ok) {
        std::snprintf(buf, sizeof buf, "%.3f s", *f.seconds_to_first_ok);
        line += buf;
      } else {
        line += "- (no operation succeeded before the next fault or the end)";
      }
      Report(target.server + " " + name + "@faults: " + line +
             (f.error.empty() ? "" : " (fault failed: " + f.error + ")"));
    }
    AddTimeline(target.server, name + "@faults", *reports, &results);
    return Status::Ok();
  };
  Status st = run();
  if (!st.ok()) {
    Report(target.server + " " + name + "@faults: " + st.ToString());
    for (tp::FaultKind k : faults.faults) {
      FaultRecovery f;
      f.server = target.server;
      f.variant = target.variant;
      f.job = name + "@faults";  // as in the timeline
      f.fault = std::string(tp::NameOf(tp::kFaultKindNames, k));
      f.error = st.code() == kErrNotSupp ? st.message() : st.ToString();
      results.recovery.push_back(std::move(f));
    }
    return;
  }
  for (FaultRecovery& f : struck) results.recovery.push_back(std::move(f));
}

}  // namespace

std::vector<ThroughputTarget> ThroughputTargets(
    const plan::Plan& plan,
    const std::map<std::string, std::unique_ptr<backend::ServerNode>>& servers,
    const std::map<std::string, std::unique_ptr<backend::AgentNode>>& agents) {
  std::vector<ThroughputTarget> out;
  for (const plan::PlannedServer& ps : plan.servers) {
    auto node = servers.find(ps.name);
    if (ps.expect != tp::Expect::kPass || node == servers.end()) continue;
    ThroughputTarget t{
        ps.name,
        std::string(tp::NameOf(tp::kVariantNames, ps.variant)),
        node->second.get(),
        tp::InfoOf(ps.variant).serves_nfs ? tp::Access::kLibnfs : tp::Access::kLocalSyscalls,
        {}};
    if (ps.backend == tp::Backend::kLibvirt) {
      t.access = tp::Access::kKernelMount;
      for (const plan::ClientInstance& ci : plan.clients) {
        auto a = agents.find(ci.name);
        if (ci.backend == tp::Backend::kLibvirt && a != agents.end() &&
            std::find(ci.servers.begin(), ci.servers.end(), ps.name) != ci.servers.end()) {
          t.clients.push_back(a->second.get());
        }
      }
      if (t.clients.empty()) continue;
    }
    out.push_back(std::move(t));
  }
  out.push_back({kPhysical, kPhysical, nullptr, tp::Access::kLocalSyscalls, {}});
  return out;
}

ThroughputResults RunThroughput(const ThroughputContext& ctx) {
  const throughput::JobCatalogue* catalogue = ctx.catalogue;
  Phase phase(ctx, *catalogue);
  for (uint64_t round = 0; round < ctx.rounds; ++round) {
    for (const ThroughputTarget& target : ctx.targets) {
      for (const tp::ThroughputJob& entry : ctx.jobs) {
        if (ctx.interrupted && ctx.interrupted->load()) return std::move(phase.results);
        phase.Job(target, entry, round);
      }
    }
  }
  for (const ThroughputTarget& target : ctx.targets) {
    if (!target.node || catalogue->under_faults.faults.empty()) continue;
    for (const tp::ThroughputJob& entry : ctx.jobs) {
      if (entry.kind != catalogue->under_faults.job) continue;
      if (ctx.interrupted && ctx.interrupted->load()) return std::move(phase.results);
      phase.UnderFaults(target, entry);
      break;
    }
  }
  return std::move(phase.results);
}

}  // namespace ovl::runner
