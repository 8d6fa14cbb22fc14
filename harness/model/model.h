// The oracle: replays a history (ops/history.h) against a model of the union filesystem and
// says, per test case, whether every result was one the model allows. Pure: history in,
// verdicts out; nothing here starts a process, touches a server or opens a file (the
// model_no_io_check test of harness/model/CMakeLists.txt holds the library to that).
//
// Each case starts from its fixture's merged view (the "case" event). Every completed operation
// is checked against what the model allows in the current state; each expectation is a MUST (a
// violation fails the case) or a MAY (reported, not failed). An operation whose outcome is
// unknown (a crash cut it off) forks the model into "it happened" and "it did not"; later
// results must fit at least one candidate, and candidates they do not fit are dropped. A
// restart (crash or reboot) may lose uncommitted UNSTABLE writes, so a file then has more than
// one possible content until reads narrow it down; everything acknowledged as durable
// (namespace operations, FILE_SYNC/DATA_SYNC writes, committed data) must survive. Eviction
// changes nothing.
//
// Verdicts (model/verdict.h): the model gives only PASS, FAIL and UNRESOLVED; what a FAIL means
// given the topology's expectations (XFAIL, XPASS) is the runner's (runner/verdict.h).
// UNRESOLVED when the history says the case ended unresolved (or does not say how it ended),
// when a fault could not be injected, or when the candidates outgrow the limit; else FAIL on any
// MUST finding; else PASS.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/verdict.h"
#include "ops/history.h"

namespace ovl::model {

struct Finding {
  bool must = true;   // MUST (fails the case) or MAY (reported only)
  uint64_t seq = 0;   // the operation; 0 for findings about the case (a failed check event)
  uint32_t step = 0;  // the scenario step it came from (ops::Op::step); 0 = none
  std::string client;
  std::string op;    // DescribeOp of the operation
  std::string rule;  // "stale-handle", "data", "handle-changed", "readdir-gap", ...
  std::string expected;
  std::string got;
  uint64_t seed = 0;  // the case's seed, so a report line can be replayed
};

// "MUST stale-handle: seq 12 step 9 client A getattr var=H: expected STALE: every name of a is
// gone; got ok, fileid 77 (seed 42)".
std::string FormatFinding(const Finding& f);

// What the ops of corrupted-handle sweeps (ops::Target::sweep) got in one case.
struct SweepCounts {
  uint64_t sent = 0;
  // By answer: an error name ("BADHANDLE", "STALE", ...), "same-object" (a success the model
  // allowed), "wrong-object" (a success that broke corrupt-handle), "no-answer".
  std::map<std::string, uint64_t> outcomes;
  uint64_t violations = 0;  // ops with a MUST finding
};

struct CaseVerdict {
  std::string case_id;
  std::string scenario, variant, server, fault;  // from the case event
  uint64_t seed = 0;
  Verdict verdict = Verdict::kPass;  // kPass, kFail or kUnresolved
  // FAIL: the first MUST finding, formatted; UNRESOLVED: why.
  std::string reason;
  std::vector<Finding> findings;  // in history order, at most JudgeOptions::max_findings
  uint64_t findings_dropped = 0;  // beyond max_findings
  uint64_t ops = 0;               // operations judged
  size_t max_candidates = 1;      // the most states the model had to keep at once
  SweepCounts sweep;
  // The server kernel's lines of the case's "kernel" events (model/kernel_log.h: its findings
  // are in `findings`), the first kMaxCaseKernelLines of them, for the report; and how many
  // there were in all, those the capture dropped included.
  std::vector<std::string> kernel_lines;
  uint64_t kernel_lines_total = 0;
};

inline constexpr size_t kMaxCaseKernelLines = 50;

struct JudgeOptions {
  size_t max_candidates = 64;  // per client partition; beyond it the case is UNRESOLVED
  size_t max_findings = 100;
};

// Judges every case of `history`, in the order their case events appear.
std::vector<CaseVerdict> Judge(const std::vector<ops::Event>& history,
                               const JudgeOptions& options = {});

}  // namespace ovl::model
