// A generated case as a document: the scenario file's own keys (docs/scenarios.md), held as JSON
// values so that the generator can write it and the shrinker can cut and simplify it without a
// model of every step kind. Its YAML text is an ordinary catalogue scenario: written into a run
// directory, replayed by `harness run TOPOLOGY --scenario FILE`, or copied into
// workloads/scenarios/ as a regression test. Pure: no I/O.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "scenario/scenario.h"

namespace ovl::explore {

// ordered_json keeps a step's keys in the order they were set ("op" first), as a person writes
// them, so the file reads like the catalogue's.
using Json = nlohmann::ordered_json;

struct CaseDoc {
  std::string id;                     // [a-z0-9-]+: the scenario id, and the file's stem
  std::string summary;                // one line
  std::vector<std::string> comments;  // lines of the comment block above the fixture
  // The fixture's `layers` (1 or more) and its entries, each a map in the fixture's own form
  // ({file: d/a, size: 10}, {hardlink: d/b, to: d/a}, {dir: e, layer: 1}, ...).
  int layers = 1;
  std::vector<Json> entries;
  // Each a map in the step's own form ({op: lookup, path: d/a, save: H}, {fault: crash}).
  std::vector<Json> steps;
};

// The scenario file of `doc`: header (`faults: []`: every fault is a fixed step, so one case per
// server), fixture and steps, one flow map per line. Needs are left to the parser, which adds
// `upper` and `open-files`; `two-clients` and `raw-nfs` are written when a step asks for them.
std::string ToYaml(const CaseDoc& doc);

// ParseScenario of ToYaml(doc), labelled `file`: the scenario the runner executes, or every
// problem (a candidate of the shrinker that lost a variable's save, a hard link's file).
topology::Checked<scenario::Scenario> Parse(const CaseDoc& doc, const std::string& file);

// The number of operations and faults of `doc` (its steps; a repeat counts once).
size_t StepCount(const CaseDoc& doc);

// Removes, in order, every step that uses a variable (var, var2, mutate.var, sweep.var, resume)
// no earlier kept step of its client saved, and every hard-link entry whose file is gone, so a
// document cut by the shrinker stays a valid scenario when it can.
void DropDangling(CaseDoc* doc);

}  // namespace ovl::explore
