// `harness explore TOPOLOGY`: generated cases (explore/generator.h) run on every server of the
// topology until a time budget is spent, each judged by the model like a catalogue case. The
// first failure of each negative control, and of each finding rule on the other servers, is
// shrunk (a candidate counts when its first MUST finding has the same rule, on the same kind of
// operation) (explore/shrink.h), every candidate
// run again on that server, and the smallest case is written as a scenario file into
// <run>/explore/ and replayed once, so the run's report shows it with its verdict. Where the
// servers answered a step differently, the report lists the step side by side
// (explore/differential.h). docs/explore.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "explore/generator.h"
#include "runner/run_request.h"

namespace ovl::runner {

struct ExploreOptions {
  std::chrono::milliseconds budget{std::chrono::minutes(10)};  // running generated cases
  uint64_t max_cases = 0;  // generated cases at most; 0: as many as the budget allows
  // Per failure shrunk, on top of `budget`; the shrink says when it stopped early.
  std::chrono::milliseconds shrink_budget{std::chrono::minutes(5)};
  // Failures shrunk at most: the first of each server that must fail, the first of each rule on
  // a server that must pass.
  uint64_t max_shrinks = 20;
  // Run the topology's catalogue cases first, in the same run (the mutation score of the
  // catalogue and the generated cases together, docs/planted-bugs.md).
  bool catalogue = false;
  explore::GeneratorOptions generator;
  std::vector<std::string> servers;  // only these servers of the topology; empty: all
};

// Runs the exploration in a run directory of its own (results.json, report.html,
// history.jsonl as `harness run` writes them, plus explore/). Returns the exit code of a run:
// 0 when every case was as expected, 1 a correctness failure, 3 infrastructure.
int ExploreTopology(const RunRequest& request, const ExploreOptions& options);

}  // namespace ovl::runner
