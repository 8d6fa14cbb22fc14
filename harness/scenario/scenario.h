// Scenarios as data: workloads/scenarios/<id>.yaml holds a header (id, summary, faults, needs:
// the topology::ScenarioInfo that topology validation and the plan use), a `fixture`
// (ops/fixture.h) and `steps`. This module is the one parser of that file; it also expands a
// scenario, for one fault kind, into the flat list of operations and faults a runner executes in
// order. Reading the files from disk is workload/workloads.h's job.
//
// A step is one operation, in the ops vocabulary (ops/ops.h), or a fault marker:
//
//   - {op: lookup, path: d/a, save: H}        look d/a up, hold its handle as H
//   - {op: write, var: H, offset: 0, data: "new", stable: unstable}
//   - {op: read, var: H, count: 4096}         (count defaults to 1 MiB)
//   - {op: rename, path: d, name: f, path2: e, name2: g}   or  {op: rename, path: d/f, path2: e/g}
//   - {op: getattr, raw: "4f56..."}           literal handle bytes (hex)
//   - {op: getattr, mutate: {var: H, how: flip-magic}}    H corrupted (ops::MutateHandle)
//   - {op: read, sweep: {var: H, masks: [0x01, 0xff]}}    H corrupted every way ops::SweepHandle
//                                             makes, one read each (getattr, read; lookup
//                                             with a name, H a directory); masks default
//                                             to ops::DefaultSweepMasks
//   - {op: readdir, path: d, max_entries: 2, save: L}      first page; position kept as L
//   - {op: readdir, path: d, resume: L, save: L}           the next page of the same listing
//   - {op: create, path: n{i}, repeat: 200}   200 creates, {i} = 0..199 in names and vars
//   - {op: open, path: d/a, fd: F}           keep d/a open as F until {op: close, fd: F};
//                                             getattr and read take fd: F (needs open-files)
//   - {fault: E}                              the case's fault (evict, reboot or crash); dropped
//                                             in a case without one
//   - {fault: crash}                          that fault in every case
//   - {fault: E, during_next: 20}             strike 20 ms after the next op is sent, while it
//                                             is in flight (its outcome may be unknown)
//   - {offline: rename-lower, path: d, path2: e, stop: crash}
//                                             stop the server (clean by default; crash; E: a
//                                             crash in the crash case, else clean), edit its
//                                             layers on disk (ops/offline.h), start it again
//
// Object ops (getattr, setattr, read, write, commit, readlink, readdir) name their object by
// `path`, `var`, `raw` or `mutate`. Entry ops (lookup, create, mkdir, symlink, remove, rmdir)
// name a directory (`path` or `var`) plus `name`, or just the entry's `path`. rename and link
// name their destination the same way with `path2`/`var2`/`name2`. Other keys: client (A by
// default; B makes a second client), check: may (the model's verdict on this step is
// advisory), offset, count, data or data_size (seeded bytes), stable (unstable | data_sync |
// file_sync), size, mode (octal, 0644), how (unchecked | guarded | exclusive), verifier (16
// hex digits), to (symlink target), cookie, max_entries.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "ops/fixture.h"
#include "ops/offline.h"
#include "ops/ops.h"
#include "topology/catalogue.h"
#include "topology/diagnostics.h"
#include "topology/names.h"

namespace ovl::scenario {

using topology::FaultKind;

// One entry of `steps` as written.
struct StepSpec {
  int line = 0;  // 1-based line in the scenario file
  // A fault marker: `fault_e` (the case's fault) or a fixed `fault`.
  bool is_fault = false;
  bool fault_e = false;
  FaultKind fault = FaultKind::kEvict;
  uint32_t during_next_ms = 0;  // see Step
  std::string client = "A";     // the op's client; for client-evict, whose caches
  ops::Op op;                   // an operation (seq unset); may hold "{i}" when repeat > 1
  uint32_t repeat = 1;
  // Not empty: a sweep step, of op.target.var's handle with these masks.
  std::vector<uint8_t> sweep_masks;
  uint64_t data_size = 0;  // write data made by Expand from the seed (op.data empty)
  // An offline edit (`offline:`); offline_stop_e: `stop: E`, decided by Expand.
  std::optional<ops::OfflineEdit> offline;
  bool offline_stop_e = false;
};

struct Scenario {
  topology::ScenarioInfo info;  // the header; info.file labels diagnostics
  nlohmann::json fixture;       // the `fixture` map as JSON (ops/fixture.h form); null when absent
  std::vector<StepSpec> steps;
  std::vector<std::string> clients;  // logical clients, in order of first use ("A", "B")
};

// Parses a scenario file's text, header and body; `file` labels the diagnostics (every problem,
// each at its file:line:column and key path, e.g. steps[3].op). When `expected_id` is not empty
// the id must equal it (the file's stem, so a scenario is found where its id says). Checks every
// step, that the fixture parses, and that each var, var2, mutate.var and resume is saved by an
// earlier step of the same client (variables live in one client's agent). Adds the need `upper`
// when a step changes the namespace or data (ops::Modifies).
topology::Checked<Scenario> ParseScenario(std::string_view text, const std::string& file,
                                          std::string_view expected_id = "");

// One thing a runner does, in order.
struct Step {
  // kSweep: the op is sent once per corruption of the handle held in op.target.var, which only
  // the agent's earlier results tell (ops::SweepHandle); each is an op of its own, with a raw
  // target and its SweepPoint. The runner numbers the ops it sends on from here.
  enum class Type { kOp, kFault, kSweep, kOffline };
  Type type = Type::kOp;
  // kOp, kSweep: seq numbered 1, 2, ... in order; op.step = index of its StepSpec + 1
  ops::Op op;
  FaultKind fault = FaultKind::kEvict;  // kFault
  std::string client;  // kOp: op.client; kFault: the client whose caches client-evict drops
  int line = 0;        // where the step is written
  // kFault: 0 = between the previous op's completion and the next op. Otherwise the runner
  // sends the next op, waits this many ms and strikes while it is in flight, so a fault can
  // land inside one operation (a copy-up); that op may then complete as unknown.
  uint32_t during_next_ms = 0;
  std::vector<uint8_t> sweep_masks;  // kSweep
  ops::OfflineEdit offline;          // kOffline: stop the server, apply this edit, start it again
};

struct Expansion {
  ops::Fixture fixture;  // content seeded by `seed` unless the fixture names its own
  std::vector<Step> steps;
};

// The case of `s` with `fault` (nullopt: a case without a fault, so `{fault: E}` steps vanish):
// every `{fault: E}` becomes `fault`, an offline `stop: E` a crash when `fault` is kCrash (else a
// clean stop), `repeat` is unrolled, data_size bytes are drawn from
// `seed`. Fails only when the fixture does not parse with that seed.
ovl::Result<Expansion> Expand(const Scenario& s, std::optional<FaultKind> fault, uint64_t seed);

}  // namespace ovl::scenario
