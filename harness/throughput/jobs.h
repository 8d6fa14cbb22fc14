// Throughput jobs as data: workloads/throughput/<job>.yaml defines each job of
// topology::kJobKindNames (what it issues, its request size, its per-client working set, its
// client count and duration bounds), and workloads/throughput/under-faults.yaml the run that
// measures throughput around faults. A topology's `workloads.throughput` entry overrides the
// working set, clients and duration of a job (Resolve); WorkingSet and RequestFor turn the
// resolved job into the lower layer the clients share and each client's load request.
//
// Job file keys (unknown keys are errors, reported as file:line:column):
//   job: seq-read                  the job, as the file is named
//   summary: "..."
//   unit: MB/s | ops/s             the figure the job is judged by
//   pattern: sequential | random | mix | phases       (sequence.h)
//   request_size: 1M               bytes per READ/WRITE
//   stable: unstable | data_sync | file_sync          WRITE stability (default unstable)
//   fresh_file: false              data jobs: the load creates its file (default false)
//   working_set: {size: 64M}       data jobs: bytes per client
//   working_set: {files: 1000, file_size: 4K, symlinks: 10}    metadata jobs, per client
//   clients: 1
//   duration: {default: 10s, min: 200ms, max: 240s}  (a load's timed part must answer within
//                                  agent::protocol::kLoadReplyTimeout, 300 s)
//   max_ops: 100000000             per client
//   mix: {read: 100}               weights by operation (load_spec.h names)
//   phases: [create, lookup, remove]                  pattern: phases only
//
// under-faults.yaml: {job: metadata-mix, faults: [crash, reboot, evict], timeline: 100ms}: on
// every server, when the topology lists that job, it runs once more with the faults injected
// at equal spacing, its timeline in buckets of `timeline`.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "ops/fixture.h"
#include "throughput/load_spec.h"
#include "topology/diagnostics.h"
#include "topology/topology.h"

namespace ovl::throughput {

struct JobDef {
  topology::JobKind kind = topology::JobKind::kSeqRead;
  std::string file;  // where it was read
  std::string summary;
  std::string unit;  // "MB/s" or "ops/s"
  Pattern pattern = Pattern::kSequential;
  uint64_t request_size = 4096;
  ops::Stable stable = ops::Stable::kUnstable;
  bool fresh_file = false;
  uint64_t size = 0;  // data jobs: bytes per client; metadata jobs: bytes per file
  uint64_t files = 0;
  uint64_t symlinks = 0;
  uint64_t clients = 1;
  milliseconds duration{10'000};
  milliseconds min_duration{200};
  milliseconds max_duration{600'000};
  uint64_t max_ops = 100'000'000;
  std::vector<MixEntry> mix;
  std::vector<LoadOp> phases;

  std::string name() const;
};

struct FaultRunDef {
  topology::JobKind job = topology::JobKind::kMetadataMix;
  std::vector<topology::FaultKind> faults;
  milliseconds timeline{100};
};

struct JobCatalogue {
  std::vector<JobDef> jobs;  // one per JobKind, in kJobKindNames order
  FaultRunDef under_faults;

  // Never null for a catalogue LoadJobCatalogue returned.
  const JobDef* Find(topology::JobKind kind) const;
};

// Parses one job file's text; `file` labels the diagnostics.
topology::Checked<JobDef> ParseJobDef(std::string_view text, const std::string& file);
topology::Checked<FaultRunDef> ParseFaultRunDef(std::string_view text, const std::string& file);
// Reads <dir>/<job>.yaml for every job and <dir>/under-faults.yaml; every diagnostic when a file
// is missing, unreadable or wrong. A run reads them once, through workload/workloads.h.
topology::Checked<JobCatalogue> LoadJobCatalogue(const std::filesystem::path& dir);

// A job as it runs: the definition with the topology entry applied.
struct ResolvedJob {
  JobDef def;
  uint64_t size = 0;  // as JobDef::size
  uint64_t files = 0;
  uint64_t clients = 1;
  milliseconds duration{0};
  topology::LoadEngine engine = topology::LoadEngine::kAgent;
};

// The topology entry's size (data jobs), files (metadata jobs), clients and duration replace the
// definition's, except where the entry holds the topology's own default (the key was left out,
// or set to that value): then the definition's value stands. The duration is then clamped into
// the definition's [min, max].
ResolvedJob Resolve(const JobDef& def, const topology::ThroughputJob& entry);

// The directory of client `i` ("tput/c3"), relative to the export root.
std::string ClientDir(uint64_t i);
// One lower layer holding every client's directory: data jobs a file "data" of `size` bytes
// (none with fresh_file: the load creates it); metadata jobs `files` files of `size` bytes and
// `symlinks` symlinks to the first file; phases jobs an empty directory.
ops::Fixture WorkingSet(const ResolvedJob& job, uint64_t seed);
// Client `i`'s request: its directory, the job, `seed` + i.
LoadRequest RequestFor(const ResolvedJob& job, uint64_t i, uint64_t seed, milliseconds timeline,
                       bool ok_runs);

}  // namespace ovl::throughput
