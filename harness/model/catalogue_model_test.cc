// The shipped scenarios against the model, end to end without processes: a fake server runs
// every case of workloads/scenarios and the judge reads the history. A correct server must
// PASS every case; servers with the negative controls' handle bugs (handles valid for one
// server run only; handles that die with the in-memory caches) must FAIL the cases built to
// catch them. This shows the catalogue and the model together are not blind.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "base/prng.h"
#include "model/model.h"
#include "model/offline.h"
#include "model/semantics.h"
#include "model/state.h"
#include "ops/fixture_json.h"
#include "scenario/mixed.h"
#include "scenario/scenario.h"
#include "workload/workloads.h"

namespace ovl::model {
namespace {

using scenario::FaultKind;

enum class Bug { kNone, kVolatile, kNoIndex, kPathDecode };

// Serves ops from a model State, as a correct server would, except for the planted `bug`:
// handles carry a generation that a restart (kVolatile) or any restart or eviction (kNoIndex)
// moves on, and a handle of an older generation is STALE; or a handle decodes to whatever is
// now at the path its object had when the handle was given out (kPathDecode).
class FakeServer {
 public:
  FakeServer(const ops::Fixture& fixture, Bug bug) : s_(State::FromFixture(fixture)), bug_(bug) {}

  void Fault(FaultKind kind) {
    const bool restart = kind == FaultKind::kCrash || kind == FaultKind::kReboot;
    if (restart) {
      ++verifier_;
      s_.Restart();
    }
    if ((bug_ == Bug::kVolatile && restart) ||
        (bug_ == Bug::kNoIndex && kind != FaultKind::kClientEvict)) {
      ++generation_;
    }
  }

  // An offline edit: a restart, and the layers change as the model says they show.
  void Offline(const ops::OfflineEdit& edit) {
    Fault(edit.crash ? FaultKind::kCrash : FaultKind::kReboot);
    const Status st = ApplyOffline(s_, edit);
    EXPECT_TRUE(st.ok()) << st.ToString();
  }

  // An op a crash cut off: the server did it or not, and the agent got no answer.
  void RunLost(const ops::Op& op, bool happened) {
    if (!happened) return;
    // The agent got nothing to hold: no handle, no listing position.
    auto vars = s_.vars;
    auto listings = s_.listings;
    Answer(op);
    s_.vars = std::move(vars);
    s_.listings = std::move(listings);
  }

  ops::Result Run(const ops::Op& op) {
    ops::Result r = Answer(op);
    if (r.outcome == ops::Result::Outcome::kOk && !op.save.empty()) {
      if (op.kind == ops::Kind::kReaddir) {
        positions_[{op.client, op.save}] = r.entries.empty() ? Position(op) : r.entries.back().name;
      } else if (!r.handle.empty()) {
        vars_[{op.client, op.save}] = r.handle;
      }
    }
    return r;
  }

 private:
  std::string Handle(ObjId id) const {
    return "h" + std::to_string(id) + "@" + std::to_string(generation_);
  }

  std::string Position(const ops::Op& op) const {
    auto it = positions_.find({op.client, op.resume});
    return it == positions_.end() ? "" : it->second;
  }

  // An error when the bytes the agent would send are not a handle of this generation.
  std::optional<std::string> HandleError(const ops::Op& op) const {
    const ops::Target& t = op.target;
    if (t.raw || !t.mutate.empty()) return "BADHANDLE";
    for (const ops::Target* target : {&op.target, &op.target2}) {
      if (target->var.empty()) continue;
      auto it = vars_.find({op.client, target->var});
      if (it == vars_.end()) return "NOVAR";  // an earlier save failed: the agent holds nothing
      if (it->second.substr(it->second.find('@') + 1) != std::to_string(generation_)) {
        return "STALE";
      }
    }
    return std::nullopt;
  }

  // What the target names: for a variable, the object its handle bytes (as the agent holds
  // them) encode, as a server decodes them; for an open file, the file it keeps open.
  ObjId Target(const ops::Target& t, const std::string& client) const {
    if (!t.fd.empty()) return s_.open_files.at({client, t.fd});
    if (t.var.empty()) return s_.Resolve(t.path).id;
    const std::string& handle = vars_.at({client, t.var});
    if (bug_ == Bug::kPathDecode) {
      const State::Resolved now = s_.Resolve(handle_paths_.at(handle));
      if (now.error.empty()) return now.id;
    }
    return std::stoull(handle.substr(1));
  }

  // The success the model would take, with its payload.
  ops::Result Success(const ops::Op& op) const {
    ops::Result r;
    ObjId obj = kRootId;
    if (!op.target.var.empty() || !op.target.fd.empty() ||
        s_.Resolve(op.target.path).error.empty()) {
      obj = Target(op.target, op.client);
    }
    const bool entry_op = op.kind == ops::Kind::kLookup || op.kind == ops::Kind::kCreate ||
                          op.kind == ops::Kind::kMkdir || op.kind == ops::Kind::kSymlink;
    if (entry_op && op.kind == ops::Kind::kLookup && op.name == "..") {
      // The parent: what a server finds from the directory's handle alone (lookup-parent).
      const auto& names = s_.Get(obj).names;
      obj = names.empty() ? kRootId : names.front().first;
      r.handle = Handle(obj);
    } else if (entry_op) {
      auto it = s_.Get(obj).entries.find(op.name);
      const std::string dir = s_.PathOf(obj);
      obj = it != s_.Get(obj).entries.end() && op.kind != ops::Kind::kSymlink
                ? it->second
                : kCreatedBase + op.seq;
      r.handle = Handle(obj);
      handle_paths_.try_emplace(r.handle, dir.empty() ? op.name : dir + "/" + op.name);
    }
    const bool created = obj >= kCreatedBase && !s_.objects.count(obj);
    const Object* o = created ? nullptr : &s_.Get(obj);
    static const std::string kNone;
    const std::string& data = o && o->type == Type::kReg ? o->contents.front().now : kNone;
    switch (op.kind) {
      case ops::Kind::kRead:
        r.data = op.offset >= data.size() ? "" : data.substr(op.offset, op.count);
        r.eof = op.offset + r.data.size() >= data.size();
        break;
      case ops::Kind::kWrite:
        r.count = static_cast<uint32_t>(op.data.size());
        r.committed = op.stable;
        r.verifier = verifier_;
        break;
      case ops::Kind::kCommit:
        r.verifier = verifier_;
        break;
      case ops::Kind::kReadlink:
        r.link_target = o->contents.front().now;
        break;
      case ops::Kind::kReaddir: {
        const std::string after = Position(op);
        for (const auto& [name, id] : o->entries) {
          if (name <= after) continue;
          if (op.max_entries != 0 && r.entries.size() == op.max_entries) break;
          r.entries.push_back({name, r.entries.size() + 1});
        }
        r.eof = r.entries.empty() || r.entries.back().name == o->entries.rbegin()->first;
        break;
      }
      case ops::Kind::kGetAttr:
        r.attrs = ops::Attrs{TypeName(o->type), data.size(), obj + 1000,
                             static_cast<uint32_t>(o->names.size()), o->mode.value_or(0)};
        break;
      default:
        break;
    }
    return r;
  }

  // Answers `op` and steps the model state with the answer. No copies of the state: a success
  // the model refuses because it expected an error leaves the state untouched, so the errors
  // can be tried on it next.
  ops::Result Answer(const ops::Op& op) {
    if (std::optional<std::string> error = HandleError(op)) {
      Step(s_, op, Error(*error));
      return Error(*error);
    }
    const ops::Result ok = Success(op);
    const std::vector<Issue> issues = Step(s_, op, ok);
    const bool payload_only = std::all_of(issues.begin(), issues.end(), [](const Issue& i) {
      return i.severity == Severity::kMay || kPayloadRules.count(i.rule) > 0;
    });
    if (IssuesOf(issues) == 0) return ok;
    // Only a planted bug makes a server answer what the model does not allow.
    if (payload_only) {
      if (bug_ == Bug::kNone) ADD_FAILURE() << "the model refuses " << DescribeOp(op);
      return ok;
    }
    for (const char* e : {"NOENT", "EXIST", "STALE", "NOTEMPTY", "NOTDIR", "ISDIR", "INVAL"}) {
      if (Step(s_, op, Error(e)).empty()) return Error(e);
    }
    ADD_FAILURE() << "no result fits " << DescribeOp(op);
    return Error("IO");
  }

  // Rules about a success's payload, as opposed to whether the op may succeed at all.
  static inline const std::set<std::string> kPayloadRules{
      "handle-changed", "handle-reused", "type",          "fileid-changed",    "nlink",      "size",
      "data",           "readlink",      "readdir-ghost", "readdir-duplicate", "readdir-gap"};

  static size_t IssuesOf(const std::vector<Issue>& issues) {
    return std::count_if(issues.begin(), issues.end(),
                         [](const Issue& i) { return i.severity == Severity::kMust; });
  }

  static ops::Result Error(const std::string& name) {
    ops::Result r;
    r.outcome = ops::Result::Outcome::kError;
    r.error = name;
    return r;
  }

  State s_;
  Bug bug_;
  uint64_t generation_ = 0;
  uint64_t verifier_ = 1;
  std::map<ClientVar, std::string> vars_;       // what the agent holds
  std::map<ClientVar, std::string> positions_;  // readdir: the last name handed out
  // kPathDecode: the path of each handle's object when it was first given out.
  mutable std::map<std::string, std::string> handle_paths_;
};

// Runs one case of `s` and judges it.
CaseVerdict RunCase(const scenario::Scenario& s, std::optional<FaultKind> fault, Bug bug) {
  ovl::Result<scenario::Expansion> e = scenario::Expand(s, fault, 3);
  EXPECT_TRUE(e.ok()) << e.status().message();
  FakeServer server(e->fixture, bug);
  std::vector<ops::Event> history;
  double t = 0;
  ops::Event start{ops::Event::Type::kCase, "c", t, {}, 0, {}, {}};
  start.info = {{"scenario", s.info.id}, {"seed", 3}, {"fixture", ops::FixtureToJson(e->fixture)}};
  history.push_back(start);
  for (const scenario::Step& step : e->steps) {
    if (step.type == scenario::Step::Type::kOffline) {
      server.Offline(step.offline);
      ops::Event f{ops::Event::Type::kFault, "c", ++t, {}, 0, {}, {}};
      f.info = {{"kind", "offline"}, {"ok", true}, {"edit", ops::OfflineEditToJson(step.offline)}};
      history.push_back(f);
      continue;
    }
    if (step.type == scenario::Step::Type::kFault) {
      server.Fault(step.fault);
      ops::Event f{ops::Event::Type::kFault, "c", ++t, {}, 0, {}, {}};
      f.info = {{"kind", std::string(topology::NameOf(topology::kFaultKindNames, step.fault))},
                {"ok", true}};
      history.push_back(f);
      continue;
    }
    history.push_back({ops::Event::Type::kInvoke, "c", ++t, step.op, 0, {}, {}});
    const ops::Result r = server.Run(step.op);
    // Through JSON, as a real history carries it (data as a digest).
    history.push_back({ops::Event::Type::kComplete,
                       "c",
                       ++t,
                       {},
                       step.op.seq,
                       ops::ResultFromJson(ops::ResultToJson(r, false)).value(),
                       {}});
  }
  ops::Event end{ops::Event::Type::kEnd, "c", ++t, {}, 0, {}, {{"status", "done"}}};
  history.push_back(end);
  std::vector<CaseVerdict> v = Judge(history);
  return v.front();
}

std::string Dump(const CaseVerdict& v) {
  std::string out = std::string(VerdictName(v.verdict)) + " " + v.reason + "\n";
  for (const Finding& f : v.findings) out += "  " + FormatFinding(f) + "\n";
  return out;
}

class CatalogueModelTest : public ::testing::Test {
 protected:
  static std::vector<scenario::Scenario> Load() {
    const std::filesystem::path source = OVL_SOURCE_DIR;
    topology::Checked<workload::Workloads> w =
        workload::LoadWorkloads({source / "workloads", source / "baselines"});
    EXPECT_TRUE(w.ok()) << topology::FormatDiagnostics(w.errors());
    return w.ok() ? w->scenarios : std::vector<scenario::Scenario>();
  }
  static std::vector<std::optional<FaultKind>> Cases() {
    return {std::nullopt, FaultKind::kEvict, FaultKind::kReboot, FaultKind::kCrash};
  }
};

TEST_F(CatalogueModelTest, CorrectServerPassesEveryCase) {
  for (const scenario::Scenario& s : Load()) {
    for (std::optional<FaultKind> fault : Cases()) {
      const CaseVerdict v = RunCase(s, fault, Bug::kNone);
      EXPECT_EQ(v.verdict, Verdict::kPass) << s.info.id << "\n" << Dump(v);
      EXPECT_GT(v.ops, 0u);
    }
  }
}

// Which cases must catch which bug: a handle held across a restart (volatile), or across any
// fault (no index), and used afterwards.
TEST_F(CatalogueModelTest, HandleBugsAreCaught) {
  const std::set<std::string> across_faults{
      "seed-unlink-reboot",      "copyup-keeps-handle", "rename-file",         "rename-parent",
      "rename-grandparent",      "move-to-new-parent",  "upper-only",          "commit-durability",
      "exclusive-create-replay", "crash-during-copyup", "namespace-durability"};
  for (const scenario::Scenario& s : Load()) {
    const bool must_catch = across_faults.count(s.info.id) > 0;
    for (FaultKind fault : {FaultKind::kReboot, FaultKind::kCrash}) {
      const CaseVerdict v = RunCase(s, fault, Bug::kVolatile);
      if (must_catch) {
        EXPECT_EQ(v.verdict, Verdict::kFail) << s.info.id << " volatile\n" << Dump(v);
      }
      EXPECT_NE(v.verdict, Verdict::kUnresolved) << s.info.id << "\n" << Dump(v);
    }
    const CaseVerdict evict = RunCase(s, FaultKind::kEvict, Bug::kNoIndex);
    if (must_catch || s.info.id == "lower-hardlinks-copyup" || s.info.id == "dir-handles") {
      EXPECT_EQ(evict.verdict, Verdict::kFail) << s.info.id << " no-index\n" << Dump(evict);
    }
  }
}

// Handles of lower dirs that decode by their old path reach whatever an offline edit put
// there: the scenario that swaps two lower dirs must catch it, in every case.
TEST_F(CatalogueModelTest, OfflinePathDecodeIsCaught) {
  for (const scenario::Scenario& s : Load()) {
    if (s.info.id != "offline-swap-lower-dirs") continue;
    for (FaultKind fault : s.info.faults) {
      const CaseVerdict v = RunCase(s, fault, Bug::kPathDecode);
      EXPECT_EQ(v.verdict, Verdict::kFail) << s.info.id << "\n" << Dump(v);
      EXPECT_NE(v.reason.find("fileid-changed"), std::string::npos) << v.reason;
    }
    return;
  }
  ADD_FAILURE() << "no scenario offline-swap-lower-dirs";
}

// The mixed workload: three clients in their own subtrees, run round-robin, with faults between
// rounds; at a crash every client has one op in flight whose fate the fake draws.
CaseVerdict RunMixed(Bug bug, uint64_t seed) {
  scenario::MixedOptions o;
  o.seed = seed;
  o.clients = {"c1", "c2", "c3"};
  o.ops = 900;
  o.layers = 2;
  ovl::Result<scenario::MixedWorkload> w = scenario::MakeMixedWorkload(o);
  EXPECT_TRUE(w.ok()) << w.status().message();
  FakeServer server(w->fixture, bug);
  Prng rng(seed);
  std::vector<ops::Event> history;
  double t = 0;
  ops::Event start{ops::Event::Type::kCase, "m", t, {}, 0, {}, {}};
  start.info = {{"scenario", scenario::kMixedScenario},
                {"seed", seed},
                {"disjoint_clients", true},
                {"fixture", ops::FixtureToJson(w->fixture)}};
  history.push_back(start);
  auto fault = [&](FaultKind kind) {
    server.Fault(kind);
    ops::Event f{ops::Event::Type::kFault, "m", ++t, {}, 0, {}, {}};
    f.info = {{"kind", std::string(topology::NameOf(topology::kFaultKindNames, kind))},
              {"ok", true}};
    history.push_back(f);
  };
  auto complete = [&](uint64_t seq, const ops::Result& r) {
    history.push_back({ops::Event::Type::kComplete,
                       "m",
                       ++t,
                       {},
                       seq,
                       ops::ResultFromJson(ops::ResultToJson(r, false)).value(),
                       {}});
  };
  for (size_t round = 0; round < w->ops[0].size(); ++round) {
    const bool crash_now = round % 50 == 49;
    for (const std::vector<ops::Op>& client : w->ops) {
      const ops::Op& op = client[round];
      history.push_back({ops::Event::Type::kInvoke, "m", ++t, op, 0, {}, {}});
      if (!crash_now) complete(op.seq, server.Run(op));
    }
    if (crash_now) {
      for (const std::vector<ops::Op>& client : w->ops)
        server.RunLost(client[round], rng.Percent(50));
      fault(FaultKind::kCrash);
      ops::Result lost;
      lost.outcome = ops::Result::Outcome::kUnknown;
      lost.error = "connection reset";
      for (const std::vector<ops::Op>& client : w->ops) complete(client[round].seq, lost);
    } else if (round % 50 == 20) {
      fault(round % 100 == 20 ? FaultKind::kEvict : FaultKind::kReboot);
    }
  }
  history.push_back({ops::Event::Type::kEnd, "m", ++t, {}, 0, {}, {{"status", "done"}}});
  return Judge(history).front();
}

TEST_F(CatalogueModelTest, MixedWorkloadWithCrashesPassesOnACorrectServer) {
  for (uint64_t seed : {1, 2, 3}) {
    const CaseVerdict v = RunMixed(Bug::kNone, seed);
    EXPECT_EQ(v.verdict, Verdict::kPass) << "seed " << seed << "\n" << Dump(v);
    EXPECT_EQ(v.ops, 900u);
    EXPECT_GT(v.max_candidates, 1u);  // crashes cut ops that changed something
  }
}

TEST_F(CatalogueModelTest, MixedWorkloadCatchesVolatileHandles) {
  const CaseVerdict v = RunMixed(Bug::kVolatile, 1);
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
}

}  // namespace
}  // namespace ovl::model
