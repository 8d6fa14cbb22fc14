// What one load-generating client runs: the procedures a throughput job issues, the layout of
// its working set, and the bounds of the run. The runner sends a LoadRequest to a harness-agent
// ({"cmd":"load",...}, see agent/agent.h); the agent issues the operations through the same
// executor (libnfs or syscalls) the scenarios use and answers with a LoadReport (stats.h).
//
// JSON form of a request (every key required unless marked):
//   {"cmd":"load", "seed":1, "duration_ms":10000,
//    "timeline_ms":1000,         optional: width of a timeline bucket (default 1000)
//    "ok_runs":false,            optional: also report the milliseconds with a successful op
//    "engine":"agent",           optional: "fio" runs a data job with fio (agent/fio_load.h)
//    "hold":false,               optional: set up now, run the timed part on {"cmd":"start"}
//    "job":{"name":"seq-read", "pattern":"sequential", "dir":"tput/c0", "file":"data",
//           "fresh_file":false, "size":67108864, "files":0, "symlinks":0,
//           "request_size":1048576, "stable":"unstable", "max_ops":100000000,
//           "mix":[{"op":"read","weight":100}], "phases":[]}}
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "ops/ops.h"
#include "topology/names.h"

namespace ovl::throughput {

using std::chrono::milliseconds;

// One procedure of a load. Those with an ops.h counterpart go through Executor::Execute; ACCESS,
// FSSTAT and READDIR (names only) through Executor::RunProbe.
enum class LoadOp {
  kGetattr,
  kLookup,
  kRead,
  kWrite,
  kCommit,
  kAccess,
  kSetattr,
  kReaddirplus,
  kReaddir,
  kReadlink,
  kCreate,
  kRemove,
  kFsstat,
};
inline constexpr std::array<topology::Named<LoadOp>, 13> kLoadOpNames{{
    {"getattr", LoadOp::kGetattr},
    {"lookup", LoadOp::kLookup},
    {"read", LoadOp::kRead},
    {"write", LoadOp::kWrite},
    {"commit", LoadOp::kCommit},
    {"access", LoadOp::kAccess},
    {"setattr", LoadOp::kSetattr},
    {"readdirplus", LoadOp::kReaddirplus},
    {"readdir", LoadOp::kReaddir},
    {"readlink", LoadOp::kReadlink},
    {"create", LoadOp::kCreate},
    {"remove", LoadOp::kRemove},
    {"fsstat", LoadOp::kFsstat},
}};
std::string LoadOpName(LoadOp op);

// How a job picks its next operation (sequence.h).
enum class Pattern {
  kSequential,  // the mix's data op at offsets 0, r, 2r, ... wrapping at `size`
  kRandom,      // the mix's data op at random r-aligned offsets below `size`
  kMix,         // a weighted draw from the mix on random files of the working set
  kPhases,      // mdtest: each phase (create, lookup, remove) over `files` names, in a loop
};
inline constexpr std::array<topology::Named<Pattern>, 4> kPatternNames{{
    {"sequential", Pattern::kSequential},
    {"random", Pattern::kRandom},
    {"mix", Pattern::kMix},
    {"phases", Pattern::kPhases},
}};

struct MixEntry {
  LoadOp op = LoadOp::kGetattr;
  uint32_t weight = 0;  // relative; the weights of a mix need not sum to 100
  bool operator==(const MixEntry&) const = default;
};

// Names in a client's working directory: data jobs use `file`; metadata jobs the files
// FileName(0..files-1), symlinks LinkName(0..symlinks-1), and create their own names.
std::string FileName(uint64_t i);  // "f000042"
std::string LinkName(uint64_t i);  // "l000042"

struct LoadSpec {
  std::string name;  // the job, for reports
  Pattern pattern = Pattern::kSequential;
  std::string dir;          // the client's working directory, '/'-separated from the export root
  std::string file;         // data jobs: the file in `dir`
  bool fresh_file = false;  // data jobs: the load creates `file` (truncated) instead of finding it
  // Data jobs: the bytes of `file` in use. Mix jobs: the size of each file (READ and WRITE go
  // to request-aligned offsets below it).
  uint64_t size = 0;
  uint64_t files = 0;                           // metadata jobs: files in `dir`
  uint64_t symlinks = 0;                        // metadata jobs: symlinks in `dir` (READLINK)
  uint64_t request_size = 4096;                 // bytes per READ or WRITE
  ops::Stable stable = ops::Stable::kUnstable;  // of every WRITE
  uint64_t max_ops = 0;                         // bound on operations
  std::vector<MixEntry> mix;                    // kSequential/kRandom: one data op; kMix: weights
  std::vector<LoadOp> phases;                   // kPhases

  bool operator==(const LoadSpec&) const = default;
};

struct LoadRequest {
  LoadSpec job;
  uint64_t seed = 0;
  milliseconds duration{0};
  milliseconds timeline{1000};  // bucket width of LoadReport::timeline
  bool ok_runs = false;         // fill LoadReport::ok_runs
  topology::LoadEngine engine = topology::LoadEngine::kAgent;
  // Set up, answer {"ok":true,"ready":true} and hold the load until {"cmd":"start"}.
  bool hold = false;

  bool operator==(const LoadRequest&) const = default;
};

// The longest load one request may ask for, and the narrowest timeline bucket.
inline constexpr milliseconds kMaxLoadDuration{3600 * 1000};
inline constexpr milliseconds kMinTimelineBucket{10};
// The largest READ/WRITE request (the NFS servers cap transfers at 1 MiB).
inline constexpr uint64_t kMaxRequestSize = 1024 * 1024;

// The request as the agent reads it, "cmd" included.
nlohmann::json ToJson(const LoadRequest& request);
// Parses and checks a request (ignoring "cmd"): unknown keys, bad types, a data job without a
// file or size, a mix without positive weights, ... are EINVAL naming the field.
Result<LoadRequest> LoadRequestFromJson(const nlohmann::json& j);

}  // namespace ovl::throughput
