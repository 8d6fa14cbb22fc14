#include "scenario/scenario.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ops/sweep.h"

namespace ovl::scenario {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// `text` with the header keys the body tests leave out, appended so line numbers stay.
std::string Complete(const std::string& text) {
  if (text.find("\nsummary:") != std::string::npos) return text;
  return text + (text.empty() || text.back() == '\n' ? "" : "\n") + "summary: s\nfaults: []\n";
}

Scenario Parse(const std::string& text) {
  topology::Checked<Scenario> s = ParseScenario(Complete(text), "t.yaml");
  EXPECT_TRUE(s.ok()) << topology::FormatDiagnostics(s.errors());
  return s.ok() ? *s : Scenario();
}

// Every diagnostic, one per line, without the trailing newline.
std::string ParseError(const std::string& text) {
  topology::Checked<Scenario> s = ParseScenario(Complete(text), "t.yaml");
  std::string all = topology::FormatDiagnostics(s.errors());
  if (!all.empty()) all.pop_back();
  return all;
}

std::vector<std::string> Strings(const topology::Diagnostics& diagnostics) {
  std::vector<std::string> out;
  for (const topology::Diagnostic& d : diagnostics) out.push_back(d.ToString());
  return out;
}

TEST(ScenarioHeaderTest, ReadsTheHeader) {
  topology::Checked<Scenario> s = ParseScenario(
      "id: x\nsummary: s\nfaults: [evict, crash]\nneeds: [power-loss]\n"
      "steps:\n  - op: getattr\n",
      "x.yaml", "x");
  ASSERT_TRUE(s.ok()) << topology::FormatDiagnostics(s.errors());
  EXPECT_EQ(s->info.id, "x");
  EXPECT_EQ(s->info.file, "x.yaml");
  EXPECT_EQ(s->info.summary, "s");
  EXPECT_THAT(s->info.faults, ElementsAre(FaultKind::kEvict, FaultKind::kCrash));
  EXPECT_TRUE(s->info.Needs(topology::Need::kPowerLoss));
  EXPECT_FALSE(s->info.Needs(topology::Need::kTwoClients));
}

TEST(ScenarioHeaderTest, ReportsEveryProblem) {
  topology::Checked<Scenario> s = ParseScenario(
      "id: y\nfaults: [evict, explode, evict]\nneeds: [gpu]\ncolour: red\n", "x.yaml", "x");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(
      Strings(s.errors()),
      ElementsAre(
          "x.yaml:1:1: summary: missing required key",
          "x.yaml:1:1: steps: needs steps: a non-empty list",
          "x.yaml:1:5: id: id 'y' does not match the file name 'x.yaml'",
          "x.yaml:2:17: faults[1]: unknown fault kind 'explode' (expected one of: crash, reboot, "
          "evict, client-evict, upgrade)",
          "x.yaml:2:26: faults[2]: listed twice",
          "x.yaml:3:9: needs[0]: unknown need 'gpu' (expected one of: power-loss, two-clients, "
          "raw-nfs, server-handles, upper, open-files, open-state)",
          "x.yaml:4:1: colour: unknown key (expected one of: id, summary, faults, needs, fixture, "
          "steps)"));
}

constexpr char kSample[] = R"(id: sample
summary: s
faults: [evict, crash]
needs: []
fixture:
  entries:
    - {file: d/a, size: 100, mode: 0600}
    - {hardlink: b, to: d/a}
steps:
  - {op: lookup, path: d/a, save: H}
  - {op: write, var: H, offset: 4, data: "new", stable: unstable}
  - {fault: E}
  - {op: rename, path: d, name: a, path2: "", name2: z}
  - {op: rename, path: z, path2: d/y}
  - {op: link, var: H, path2: d/l}
  - {op: getattr, mutate: {var: H, how: flip-magic}}
  - {op: getattr, raw: "4f56"}
  - {op: readdir, path: d, max_entries: 2, save: L}
  - {fault: crash}
  - {op: readdir, path: d, resume: L, save: L, client: A}
  - {op: lookup, path: d, name: x, client: B, check: may}
  - {op: create, path: "n{i}", repeat: 3, how: exclusive, verifier: "0102030405060708", mode: 0640}
)";

TEST(ScenarioTest, ParsesStepsIntoOps) {
  Scenario s = Parse(kSample);
  EXPECT_EQ(s.info.id, "sample");
  ASSERT_EQ(s.steps.size(), 13u);
  const ops::Op& lookup = s.steps[0].op;
  EXPECT_EQ(lookup.kind, ops::Kind::kLookup);
  EXPECT_EQ(lookup.target.path, "d");
  EXPECT_EQ(lookup.name, "a");
  EXPECT_EQ(lookup.save, "H");
  const ops::Op& write = s.steps[1].op;
  EXPECT_EQ(write.target.var, "H");
  EXPECT_EQ(write.offset, 4u);
  EXPECT_EQ(write.data, "new");
  EXPECT_EQ(write.stable, ops::Stable::kUnstable);
  EXPECT_TRUE(s.steps[2].is_fault && s.steps[2].fault_e);
  const ops::Op& rename1 = s.steps[3].op;
  EXPECT_EQ(rename1.target.path, "d");
  EXPECT_EQ(rename1.name, "a");
  EXPECT_EQ(rename1.target2.path, "");
  EXPECT_EQ(rename1.name2, "z");
  const ops::Op& rename2 = s.steps[4].op;
  EXPECT_EQ(rename2.target.path, "");
  EXPECT_EQ(rename2.name, "z");
  EXPECT_EQ(rename2.target2.path, "d");
  EXPECT_EQ(rename2.name2, "y");
  EXPECT_EQ(s.steps[5].op.target.var, "H");
  EXPECT_EQ(s.steps[5].op.name2, "l");
  EXPECT_EQ(s.steps[6].op.target.mutate, "flip-magic");
  EXPECT_EQ(s.steps[7].op.target.raw, std::string("OV"));
  EXPECT_EQ(s.steps[8].op.max_entries, 2u);
  EXPECT_EQ(s.steps[9].fault, FaultKind::kCrash);
  EXPECT_EQ(s.steps[10].op.resume, "L");
  EXPECT_EQ(s.steps[11].client, "B");
  EXPECT_TRUE(s.steps[11].op.may);
  EXPECT_EQ(s.steps[12].op.how, ops::CreateHow::kExclusive);
  EXPECT_EQ(s.steps[12].op.verifier[7], 8);
  EXPECT_EQ(s.steps[12].op.mode, 0640u);
  EXPECT_THAT(s.clients, ElementsAre("A", "B"));
  EXPECT_EQ(s.fixture["entries"][0]["mode"], 0600);
}

TEST(ScenarioTest, ExpandsFaultsRepeatsAndSeqs) {
  Scenario s = Parse(kSample);
  ovl::Result<Expansion> crash = Expand(s, FaultKind::kCrash, 9);
  ASSERT_TRUE(crash.ok()) << crash.status().message();
  std::vector<std::string> shape;
  for (const Step& step : crash->steps) {
    shape.push_back(step.type == Step::Type::kFault
                        ? std::string(topology::NameOf(topology::kFaultKindNames, step.fault))
                        : ops::KindName(step.op.kind) + "#" + std::to_string(step.op.seq) + "/" +
                              std::to_string(step.op.step));
  }
  EXPECT_THAT(
      shape, ElementsAre("lookup#1/1", "write#2/2", "crash", "rename#3/4", "rename#4/5", "link#5/6",
                         "getattr#6/7", "getattr#7/8", "readdir#8/9", "crash", "readdir#9/11",
                         "lookup#10/12", "create#11/13", "create#12/13", "create#13/13"));
  EXPECT_EQ(crash->steps.back().op.name, "n2");
  EXPECT_EQ(crash->fixture.seed, 9u);
  EXPECT_EQ(crash->steps[11].client, "B");
  ovl::Result<Expansion> none = Expand(s, std::nullopt, 9);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->steps.size(), crash->steps.size() - 1);  // {fault: E} vanishes, crash stays
}

TEST(ScenarioTest, DataSizeIsSeeded) {
  Scenario s = Parse(
      "id: w\nsteps:\n  - {op: create, path: f, save: F}\n"
      "  - {op: write, var: F, data_size: 1000}\n");
  ovl::Result<Expansion> a = Expand(s, std::nullopt, 1);
  ovl::Result<Expansion> b = Expand(s, std::nullopt, 1);
  ovl::Result<Expansion> c = Expand(s, std::nullopt, 2);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->steps[1].op.data.size(), 1000u);
  EXPECT_EQ(a->steps[1].op.data, b->steps[1].op.data);
  EXPECT_NE(a->steps[1].op.data, c->steps[1].op.data);
  EXPECT_EQ(a->steps[0].op.kind, ops::Kind::kCreate);
}

TEST(ScenarioTest, ReportsEveryErrorWithItsPosition) {
  const std::string error = ParseError(
      "id: bad\ncolour: red\nsteps:\n"
      "  - {op: frobnicate}\n"
      "  - {op: read, var: H}\n"
      "  - {op: read, path: a, data: x}\n"
      "  - {fault: meteor}\n"
      "  - {op: write, path: a}\n"
      "  - {op: getattr, mutate: {var: H, how: shuffle}}\n"
      "  - {op: readdir, path: d, resume: L}\n"
      "  - {op: create, path: x, how: exclusive}\n"
      "  - {op: getattr, path: a, var: H}\n");
  EXPECT_THAT(error, HasSubstr("t.yaml:2:1: colour: unknown key"));
  EXPECT_THAT(error, HasSubstr("t.yaml:4:10: steps[0].op: needs op"));
  EXPECT_THAT(error, HasSubstr("t.yaml:5:5: steps[1]: variable H is not held by client A"));
  EXPECT_THAT(error, HasSubstr("key \"data\" does not apply to read"));
  EXPECT_THAT(error, HasSubstr("t.yaml:7:13: steps[3].fault: fault must be E or one of"));
  EXPECT_THAT(error, HasSubstr("write needs data or data_size"));
  EXPECT_THAT(error, HasSubstr("unknown mutation \"shuffle\""));
  EXPECT_THAT(error, HasSubstr("resume L names no earlier readdir save"));
  EXPECT_THAT(error, HasSubstr("an exclusive create needs verifier"));
  EXPECT_THAT(error, HasSubstr("give one of path, var, raw, mutate"));
}

TEST(ScenarioTest, SweepStepsNameTheirHandleAndMasks) {
  Scenario s = Parse(
      "id: w\nsteps:\n  - {op: lookup, path: d, save: D}\n  - {op: lookup, path: d/a, save: H}\n"
      "  - {op: getattr, sweep: {var: H}}\n"
      "  - {op: read, sweep: {var: H, masks: [0x01, 2, 0xff]}, count: 10}\n"
      "  - {op: lookup, sweep: {var: D}, name: a}\n  - {op: getattr, var: H}\n");
  ovl::Result<Expansion> e = Expand(s, std::nullopt, 1);
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->steps.size(), 6u);
  EXPECT_EQ(e->steps[1].type, Step::Type::kOp);
  EXPECT_EQ(e->steps[2].type, Step::Type::kSweep);
  EXPECT_EQ(e->steps[2].op.target.var, "H");
  EXPECT_EQ(e->steps[2].sweep_masks, ops::DefaultSweepMasks());
  EXPECT_EQ(e->steps[3].sweep_masks, std::vector<uint8_t>({0x01, 0x02, 0xff}));
  EXPECT_EQ(e->steps[3].op.count, 10u);
  EXPECT_EQ(e->steps[4].type, Step::Type::kSweep);
  EXPECT_EQ(e->steps[4].op.target.var, "D");
  EXPECT_EQ(e->steps[4].op.name, "a");
  EXPECT_EQ(e->steps[5].type, Step::Type::kOp);
  EXPECT_EQ(e->steps[5].op.seq, 6u);
  EXPECT_TRUE(e->steps[5].sweep_masks.empty());

  const std::string error = ParseError(
      "id: w\nsteps:\n  - {op: lookup, path: a, save: H}\n"
      "  - {op: write, sweep: {var: H}, data: x}\n"
      "  - {op: getattr, sweep: {var: H, masks: [0]}}\n"
      "  - {op: getattr, sweep: {var: H, masks: [1, 1]}}\n"
      "  - {op: getattr, sweep: {var: H, masks: [1,2,3,4,5,6,7,8,9]}}\n"
      "  - {op: getattr, sweep: {var: H}, path: a}\n"
      "  - {op: lookup, sweep: {var: H}}\n"
      "  - {op: getattr, sweep: {var: G}}\n"
      "  - {op: getattr, sweep: {var: H, how: x}}\n"
      "  - {op: getattr, sweep: {var: H}, name: a}\n"
      "  - {fault: evict, during_next: 5}\n"
      "  - {op: getattr, sweep: {var: H}}\n");
  EXPECT_THAT(error,
              HasSubstr("t.yaml:4:24: steps[1].sweep: key \"sweep\" does not apply to write"));
  EXPECT_THAT(error,
              HasSubstr("t.yaml:5:26: steps[2].sweep: sweep.masks must be 1 to 8 different"));
  EXPECT_THAT(error, HasSubstr("t.yaml:6:26: steps[3].sweep: sweep.masks"));
  EXPECT_THAT(error, HasSubstr("t.yaml:7:26: steps[4].sweep: sweep.masks"));
  EXPECT_THAT(error, HasSubstr("steps[5].path: a sweep names its handle in sweep.var: no path"));
  EXPECT_THAT(error, HasSubstr("steps[6]: a lookup sweep needs a name"));
  EXPECT_THAT(error, HasSubstr("steps[7]: variable G is not held by client A"));
  EXPECT_THAT(error, HasSubstr("steps[8].sweep: sweep must be {var: V}"));
  EXPECT_THAT(error, HasSubstr("steps[9].name: this op takes no name"));
  EXPECT_THAT(error, HasSubstr("steps[10]: during_next needs an op (not a sweep"));
}

TEST(ScenarioTest, OfflineStepsExpandWithTheirStop) {
  const Scenario s = Parse(
      "id: x\nsummary: s\nfaults: [reboot, crash]\nsteps:\n"
      "  - {op: lookup, path: d, save: D}\n"
      "  - {offline: rename-lower, path: d, path2: e, stop: E}\n"
      "  - {offline: copy-layers}\n"
      "  - {op: getattr, var: D}\n");
  ASSERT_EQ(s.steps.size(), 4u);
  EXPECT_THAT(s.clients, ElementsAre("A"));
  for (FaultKind fault : {FaultKind::kReboot, FaultKind::kCrash}) {
    ovl::Result<Expansion> e = Expand(s, fault, 1);
    ASSERT_TRUE(e.ok());
    ASSERT_EQ(e->steps.size(), 4u);
    EXPECT_EQ(e->steps[1].type, Step::Type::kOffline);
    EXPECT_EQ(e->steps[1].offline, (ops::OfflineEdit{ops::OfflineEdit::Kind::kRenameLower, "d", "e",
                                                     fault == FaultKind::kCrash}));
    EXPECT_EQ(e->steps[2].offline.kind, ops::OfflineEdit::Kind::kCopyLayers);
    EXPECT_FALSE(e->steps[2].offline.crash);  // clean by default
    EXPECT_EQ(e->steps[3].op.seq, 2u);
  }
}

TEST(ScenarioTest, OfflineStepErrors) {
  const std::string error = ParseError(
      "id: x\nsteps:\n"
      "  - {offline: melt-lower, path: d}\n"
      "  - {offline: rename-lower, path: d}\n"
      "  - {offline: remove-lower, path: ../d, stop: later}\n"
      "  - {offline: copy-layers, path: d, client: B}\n"
      "  - {fault: crash, during_next: 5}\n"
      "  - {offline: link-lower, path: d/a, path2: d/b}\n");
  EXPECT_THAT(error, HasSubstr("t.yaml:3:15: steps[0].offline: offline must be one of"));
  EXPECT_THAT(error, HasSubstr("steps[1]: rename-lower needs path2"));
  EXPECT_THAT(error, HasSubstr("steps[2].path: remove-lower needs path"));
  EXPECT_THAT(error, HasSubstr("steps[2].stop: stop must be clean, crash or E"));
  EXPECT_THAT(error, HasSubstr("steps[3].path: copy-layers takes no path"));
  EXPECT_THAT(error, HasSubstr("steps[3].client: unknown key"));
  EXPECT_THAT(error, HasSubstr("steps[4]: during_next needs an op"));
}

TEST(ScenarioTest, VariablesBelongToOneClient) {
  EXPECT_THAT(
      ParseError("id: x\nsummary: s\nfaults: []\nsteps:\n  - {op: lookup, path: a, save: H}\n"
                 "  - {op: getattr, var: H, client: B}\n"),
      HasSubstr("variable H is not held by client B"));
  EXPECT_THAT(
      ParseError("id: x\nsummary: s\nfaults: []\nsteps:\n  - {op: lookup, path: a, save: L}\n"
                 "  - {op: readdir, path: \"\", resume: L}\n"),
      HasSubstr("resume L names no earlier readdir save"));
  EXPECT_EQ(ParseError("id: x\nsummary: s\nfaults: []\nsteps:\n  - {op: create, path: \"f{i}\", "
                       "save: \"H{i}\", repeat: 2}\n"
                       "  - {op: getattr, var: H1}\n"),
            "");
}

TEST(ScenarioTest, RejectsBrokenFilesAndFixtures) {
  EXPECT_THAT(ParseError("id: x\nsummary: s\nfaults: []\nsteps: [\n"), HasSubstr("t.yaml:"));
  EXPECT_THAT(ParseError("id: x\nsummary: s\nfaults: []\nsteps: []\n"), HasSubstr("needs steps"));
  EXPECT_THAT(ParseError("id: x\nfixture: {entries: [{file: /a}]}\nsteps:\n  - {op: getattr}\n"),
              HasSubstr("t.yaml:2:10: fixture: entries[0]: bad path"));
  EXPECT_THAT(ParseError("id: x\nsummary: s\nfaults: []\nsteps:\n  - {op: remove, var: D}\n"),
              HasSubstr("needs path"));
}

// Found by tests/fuzz/scenario_fuzz (docs/fuzzing.md): keys that are not plain strings (here null
// keys of empty flow entries) are reported, and looking them up while the step's keys are
// being walked must not add them to the map under the walk (a use-after-free under ASan).
TEST(ScenarioTest, StepKeysThatAreNotStringsAreErrors) {
  EXPECT_THAT(ParseError("steps:\n- {op: write,,,a}\n"),
              HasSubstr("key \"\" does not apply to write"));
  EXPECT_THAT(ParseError("id: x\nsummary: s\nfaults: []\nsteps:\n  - {fault: E, ~: 1, [k]: 2}\n"),
              HasSubstr("unknown key"));
}

}  // namespace
}  // namespace ovl::scenario
