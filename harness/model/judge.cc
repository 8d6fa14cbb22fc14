#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <optional>
#include <utility>

#include "model/kernel_log.h"
#include "model/model.h"
#include "model/offline.h"
#include "model/semantics.h"
#include "model/state.h"
#include "ops/fixture_json.h"

namespace ovl::model {
namespace {

using nlohmann::json;
using ops::Event;

std::string InfoString(const json& info, const char* key) {
  if (!info.is_object() || !info.contains(key) || !info.at(key).is_string()) return "";
  return info.at(key).get<std::string>();
}

// Faults after which the server is a new process (or a new boot): crash, reboot, an upgrade (a
// clean reboot into another kernel, judged as a reboot) and an offline edit (a stop, the edit, a
// start; ops/offline.h).
bool IsRestart(const std::string& kind) {
  return kind == "crash" || kind == "reboot" || kind == "upgrade" || kind == "offline";
}

bool InfoBool(const json& info, const char* key, bool fallback) {
  if (!info.is_object() || !info.contains(key) || !info.at(key).is_boolean()) return fallback;
  return info.at(key).get<bool>();
}

std::string Hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

bool YieldsHandle(ops::Kind kind) {
  return kind == ops::Kind::kLookup || kind == ops::Kind::kCreate || kind == ops::Kind::kMkdir ||
         kind == ops::Kind::kSymlink;
}

// A server restart as the history records it: from the kill to the server answering again.
struct Restart {
  double t = 0;
  double t_end = 0;
};

// Judges the events of one case, in order.
class CaseJudge {
 public:
  CaseJudge(const Event& case_event, std::vector<Restart> restarts, const JudgeOptions& options)
      : restarts_(std::move(restarts)), options_(options) {
    const json& info = case_event.info;
    v_.case_id = case_event.case_id;
    v_.scenario = InfoString(info, "scenario");
    v_.variant = InfoString(info, "variant");
    v_.server = InfoString(info, "server");
    v_.fault = InfoString(info, "fault");
    if (info.contains("seed") && info.at("seed").is_number_unsigned()) {
      v_.seed = info.at("seed").get<uint64_t>();
    }
    disjoint_ = InfoBool(info, "disjoint_clients", false);
    ovl::Result<ops::Fixture> fixture =
        ops::FixtureFromJson(info.contains("fixture") ? info.at("fixture") : json(), v_.seed);
    if (!fixture.ok()) {
      Unresolved("the case's fixture does not parse: " + fixture.status().message());
      return;
    }
    initial_ = State::FromFixture(*fixture);
  }

  void Unresolved(const std::string& why) {
    if (unresolved_.empty()) unresolved_ = why;
  }

  void On(const Event& e) {
    switch (e.type) {
      case Event::Type::kCase:
        Unresolved("a second case event for " + e.case_id);
        break;
      case Event::Type::kInvoke:
        if (!inflight_.emplace(e.op->seq, Inflight{*e.op, e.t, boot_}).second) {
          Unresolved("seq " + std::to_string(e.op->seq) + " invoked twice");
        }
        break;
      case Event::Type::kComplete:
        OnComplete(e);
        break;
      case Event::Type::kFault:
        OnFault(e);
        break;
      case Event::Type::kCheck:
        if (!InfoBool(e.info, "ok", true)) {
          const json detail = e.info.value("detail", json());
          AddFinding({true, 0, 0, "", "", "check:" + InfoString(e.info, "what"),
                      "the check to pass",
                      detail.is_string() ? detail.get<std::string>() : detail.dump(), v_.seed});
        }
        break;
      case Event::Type::kKernel:
        OnKernel(e);
        break;
      case Event::Type::kEnd:
        ended_ = true;
        if (InfoString(e.info, "status") == "unresolved") {
          const std::string reason = InfoString(e.info, "reason");
          Unresolved(reason.empty() ? "the runner ended the case unresolved" : reason);
        }
        break;
    }
  }

  CaseVerdict Finish() {
    if (!ended_) Unresolved("the history ends before the case's end event");
    if (!unresolved_.empty()) {
      v_.verdict = Verdict::kUnresolved;
      v_.reason = unresolved_;
    } else if (!first_must_.empty()) {
      v_.verdict = Verdict::kFail;
      v_.reason = first_must_;
    } else if (!overflow_.empty()) {
      v_.verdict = Verdict::kUnresolved;
      v_.reason = overflow_;
    }
    return std::move(v_);
  }

 private:
  struct Inflight {
    ops::Op op;
    double t = 0;
    uint64_t boot = 0;  // restarts before the invoke
  };
  struct Partition {
    std::vector<State> candidates;
    bool overflow = false;
  };

  void AddFinding(Finding f) {
    if (f.must) {
      ++musts_;
      if (f.rule == "corrupt-handle") ++corrupt_musts_;
    }
    if (f.must && first_must_.empty()) first_must_ = FormatFinding(f);
    if (v_.findings.size() < options_.max_findings) {
      v_.findings.push_back(std::move(f));
    } else {
      ++v_.findings_dropped;
    }
  }

  // What the server's kernel printed during the case: its reports become findings of the case
  // (model/kernel_log.h); a log that could not be read is a MAY finding, so that its absence is
  // seen.
  void OnKernel(const Event& e) {
    const std::string node = InfoString(e.info, "node");
    const std::string error = InfoString(e.info, "error");
    if (!error.empty()) {
      AddFinding({false, 0, 0, "", "", "kernel-log", "the kernel log of " + node + " read", error,
                  v_.seed});
    }
    std::vector<std::string> lines;
    if (e.info.contains("lines") && e.info.at("lines").is_array()) {
      for (const json& l : e.info.at("lines")) {
        if (l.is_string()) lines.push_back(l.get<std::string>());
      }
    }
    for (const KernelReport& k : JudgeKernelLines(lines)) {
      AddFinding({k.must, 0, 0, "", "", k.rule, "no " + k.what + " from the kernel of " + node,
                  FormatKernelReport(k), v_.seed});
    }
    const std::vector<std::string> kernel = KernelMessages(lines);
    for (const std::string& l : kernel) {
      if (v_.kernel_lines.size() < kMaxCaseKernelLines) v_.kernel_lines.push_back(l);
    }
    v_.kernel_lines_total += kernel.size();
    if (e.info.contains("dropped") && e.info.at("dropped").is_number_unsigned()) {
      v_.kernel_lines_total += e.info.at("dropped").get<uint64_t>();
    }
  }

  void AddIssue(const ops::Op& op, const Issue& issue) {
    AddFinding({issue.severity == Severity::kMust && !op.may, op.seq, op.step, op.client,
                DescribeOp(op), issue.rule, issue.expected, issue.got, v_.seed});
  }

  // Whether a restart overlapped `in`: the server may have acted on it and then died, or the
  // client's retransmission reached the new server process.
  bool RestartDuring(const Inflight& in, double t_complete) const {
    if (boot_ != in.boot) return true;
    return std::any_of(restarts_.begin(), restarts_.end(),
                       [&](const Restart& r) { return r.t <= t_complete && r.t_end >= in.t; });
  }

  // Whether `client` has not had an answer since the last restart: its next op may go out on a
  // connection to the old server process and be lost.
  bool StaleConnection(const std::string& client) const {
    auto seen = client_boot_.find(client);
    return boot_ > 0 && (seen == client_boot_.end() || seen->second < boot_);
  }

  Partition& PartitionOf(const std::string& client) {
    auto [it, fresh] = partitions_.try_emplace(disjoint_ ? client : "");
    if (fresh) it->second.candidates.push_back(initial_);
    return it->second;
  }

  void OnFault(const Event& e) {
    const std::string kind = InfoString(e.info, "kind");
    if (!InfoBool(e.info, "ok", true)) {
      const json detail = e.info.value("detail", json());
      Unresolved("the " + kind + " fault could not be injected" +
                 (detail.is_string() ? ": " + detail.get<std::string>() : ""));
    }
    if (!IsRestart(kind)) return;  // eviction changes nothing
    ++boot_;
    std::optional<ops::OfflineEdit> edit;
    if (kind == "offline") {
      ovl::Result<ops::OfflineEdit> parsed = ops::OfflineEditFromJson(e.info.value("edit", json()));
      if (!parsed.ok()) return Unresolved(parsed.status().message());
      edit = *parsed;
    }
    boot_crash_[boot_] = kind == "crash" || (edit && edit->crash);
    // A partition made later starts from initial_: the one partition of a case exists from
    // here on, and disjoint clients that have not run an op yet start from an edited initial_.
    if (!disjoint_) {
      PartitionOf("");
    } else if (edit) {
      if (Status st = ApplyOffline(initial_, *edit); !st.ok()) return Unresolved(st.message());
    }
    for (auto& [client, p] : partitions_) {
      for (State& s : p.candidates) {
        s.Restart();
        if (!edit) continue;
        if (Status st = ApplyOffline(s, *edit); !st.ok()) return Unresolved(st.message());
      }
      Dedup(&p);
    }
  }

  void Dedup(Partition* p) {
    std::vector<State> unique;
    for (State& s : p->candidates) {
      if (std::find(unique.begin(), unique.end(), s) == unique.end())
        unique.push_back(std::move(s));
    }
    p->candidates = std::move(unique);
    v_.max_candidates = std::max(v_.max_candidates, p->candidates.size());
    if (p->candidates.size() > options_.max_candidates) {
      p->overflow = true;
      if (overflow_.empty()) {
        overflow_ = "more than " + std::to_string(options_.max_candidates) +
                    " possible states (too many operations of unknown outcome): judging stopped";
      }
    }
  }

  // Every candidate splits into "op did not happen" and "op happened" (where it can).
  void Fork(Partition* p, const ops::Op& op) {
    const size_t n = p->candidates.size();
    for (size_t i = 0; i < n; ++i) {
      State happened = p->candidates[i];
      if (Happen(happened, op)) p->candidates.push_back(std::move(happened));
    }
    Dedup(p);
  }

  void CheckVerifier(const ops::Op& op, uint64_t verifier) {
    auto [it, first] = verifiers_.try_emplace(boot_, verifier);
    if (!first) {
      if (it->second != verifier) {
        AddIssue(op,
                 {Severity::kMay, "verifier-changed",
                  "the write verifier of this server run, " + Hex64(it->second), Hex64(verifier)});
      }
      return;
    }
    for (const auto& [boot, earlier] : verifiers_) {
      if (boot >= boot_ || earlier != verifier) continue;
      bool crashed = false;
      for (uint64_t b = boot + 1; b <= boot_; ++b) crashed |= boot_crash_[b];
      // After a crash uncommitted data may be gone: a client can only tell from the verifier.
      AddIssue(op, {crashed ? Severity::kMust : Severity::kMay, "verifier-unchanged",
                    std::string("a new write verifier after the ") + (crashed ? "crash" : "reboot"),
                    Hex64(verifier) + ", the verifier from before"});
    }
  }

  void CheckHandleShared(const ops::Op& op, const ops::Result& r) {
    if (!disjoint_ || r.outcome != ops::Result::Outcome::kOk || r.handle.empty() ||
        !YieldsHandle(op.kind)) {
      return;
    }
    auto [it, fresh] = handle_client_.try_emplace(r.handle, op.client);
    if (!fresh && it->second != op.client) {
      AddIssue(op, {Severity::kMust, "handle-shared",
                    "a handle of an object in " + op.client + "'s own subtree",
                    ops::Hex(r.handle) + ", also returned to " + it->second});
    }
  }

  void OnComplete(const Event& e) {
    auto found = inflight_.find(e.seq);
    const bool sweep = found != inflight_.end() && found->second.op.target.sweep;
    const uint64_t musts = musts_, corrupt = corrupt_musts_;
    JudgeComplete(e);
    if (!sweep) return;
    const ops::Result& r = *e.result;
    SweepCounts& c = v_.sweep;
    ++c.sent;
    c.outcomes[r.outcome == ops::Result::Outcome::kUnknown ? "no-answer"
               : r.outcome == ops::Result::Outcome::kError ? r.error
               : corrupt_musts_ > corrupt                  ? "wrong-object"
                                                           : "same-object"]++;
    if (musts_ > musts) ++c.violations;
  }

  void JudgeComplete(const Event& e) {
    auto found = inflight_.find(e.seq);
    if (found == inflight_.end()) {
      Unresolved("seq " + std::to_string(e.seq) + " completes without an invoke");
      return;
    }
    const Inflight in = std::move(found->second);
    inflight_.erase(found);
    const ops::Op& op = in.op;
    const ops::Result& r = *e.result;
    ++v_.ops;
    const bool restarted = RestartDuring(in, e.t);
    const bool stale = StaleConnection(op.client);
    client_boot_[op.client] = boot_;
    if (r.outcome == ops::Result::Outcome::kUnknown && !restarted && !stale) {
      AddIssue(op, {Severity::kMust, "no-answer", "an answer (no restart was injected)",
                    "no answer: " + r.error});
    }
    if (r.outcome == ops::Result::Outcome::kOk && r.verifier && !restarted &&
        (op.kind == ops::Kind::kWrite || op.kind == ops::Kind::kCommit)) {
      CheckVerifier(op, *r.verifier);
    }
    CheckHandleShared(op, r);

    Partition& p = PartitionOf(op.client);
    if (p.overflow) return;
    if (r.outcome == ops::Result::Outcome::kUnknown) {
      if (ops::Modifies(op.kind)) Fork(&p, op);
      return;
    }
    // A retransmission after a restart may get an error for what its first transmission did
    // (no reply cache survives a restart): judge the error against both possibilities.
    if (r.outcome == ops::Result::Outcome::kError && restarted && NonIdempotent(op.kind)) {
      Fork(&p, op);
      if (p.overflow) return;
    }
    std::vector<std::vector<Issue>> issues(p.candidates.size());
    std::vector<size_t> fitting;
    size_t best = 0;
    size_t best_musts = SIZE_MAX;
    for (size_t i = 0; i < p.candidates.size(); ++i) {
      issues[i] = Step(p.candidates[i], op, r);
      const size_t musts = std::count_if(issues[i].begin(), issues[i].end(), [](const Issue& x) {
        return x.severity == Severity::kMust;
      });
      if (musts == 0 || op.may) fitting.push_back(i);
      if (musts < best_musts) {
        best_musts = musts;
        best = i;
      }
    }
    if (!fitting.empty()) {
      // Report the notes of the candidate that explains the result best (fewest notes).
      best = *std::min_element(fitting.begin(), fitting.end(), [&](size_t a, size_t b) {
        return issues[a].size() < issues[b].size();
      });
      std::vector<State> kept;
      for (size_t i : fitting) kept.push_back(std::move(p.candidates[i]));
      p.candidates = std::move(kept);
    }
    // No candidate fits: keep them all, each following what the server said, so one
    // violation does not cascade into the judging of everything after it.
    for (const Issue& issue : issues[best]) AddIssue(op, issue);
  }

  std::vector<Restart> restarts_;
  const JudgeOptions& options_;
  CaseVerdict v_;
  bool disjoint_ = false;
  State initial_;
  std::map<std::string, Partition> partitions_;
  std::map<uint64_t, Inflight> inflight_;
  uint64_t boot_ = 0;
  std::map<uint64_t, bool> boot_crash_;               // restart number -> it was a crash
  std::map<uint64_t, uint64_t> verifiers_;            // restart number -> first write verifier seen
  std::map<std::string, std::string> handle_client_;  // disjoint cases: handle -> client
  std::map<std::string, uint64_t> client_boot_;       // restarts before the client's last answer
  uint64_t musts_ = 0;                                // MUST findings so far, kept or dropped
  uint64_t corrupt_musts_ = 0;                        // of them corrupt-handle
  bool ended_ = false;
  std::string unresolved_;
  std::string first_must_;
  std::string overflow_;
};

}  // namespace

std::string FormatFinding(const Finding& f) {
  std::string out = f.must ? "MUST " : "MAY ";
  out += f.rule + ": ";
  if (f.seq != 0) {
    out += "seq " + std::to_string(f.seq);
    if (f.step != 0) out += " step " + std::to_string(f.step);
    if (!f.client.empty()) out += " client " + f.client;
    out += " " + f.op + ": ";
  }
  out += "expected " + f.expected + "; got " + f.got + " (seed " + std::to_string(f.seed) + ")";
  return out;
}

std::vector<CaseVerdict> Judge(const std::vector<ops::Event>& history,
                               const JudgeOptions& options) {
  std::map<std::string, std::vector<Restart>> restarts;
  for (const Event& e : history) {
    if (e.type != Event::Type::kFault) continue;
    const std::string kind = InfoString(e.info, "kind");
    if (!IsRestart(kind)) continue;
    const double t_end = e.info.contains("t_end") && e.info.at("t_end").is_number()
                             ? e.info.at("t_end").get<double>()
                             : e.t;
    restarts[e.case_id].push_back({e.t, std::max(e.t, t_end)});
  }
  std::vector<std::string> order;
  std::map<std::string, CaseJudge> judges;
  std::map<std::string, size_t> orphans;  // events before (or without) their case event
  for (const Event& e : history) {
    auto it = judges.find(e.case_id);
    if (it != judges.end()) {
      it->second.On(e);
    } else if (e.type == Event::Type::kCase) {
      it = judges.emplace(e.case_id, CaseJudge(e, restarts[e.case_id], options)).first;
      if (orphans.count(e.case_id)) {
        it->second.Unresolved("events before the case event");
      } else {
        order.push_back(e.case_id);
      }
    } else if (orphans[e.case_id]++ == 0) {
      order.push_back(e.case_id);
    }
  }
  std::vector<CaseVerdict> out;
  for (const std::string& id : order) {
    auto it = judges.find(id);
    if (it != judges.end()) {
      out.push_back(it->second.Finish());
      continue;
    }
    CaseVerdict v;
    v.case_id = id;
    v.verdict = Verdict::kUnresolved;
    v.reason = "events without a case event";
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace ovl::model
