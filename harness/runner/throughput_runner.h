// The throughput phase of a run: every throughput job of the plan on every server that is
// expected to pass (ovlnfsd, nfs-ganesha, kernel-overlay on this host; ovlnfsd and knfsd in VMs,
// loaded by harness-agents in their kernel-mount client VMs) and on the physical reference (the
// same working set in a plain directory, reached with local syscalls: no overlay, no NFS), one
// after the other on the same fixture. Each job gets fresh layers holding its working set and
// its own harness-agent clients (libnfs for NFS servers, syscalls otherwise), all loading at
// once (agent/load.h). Then, on each server, the job named in workloads/throughput/
// under-faults.yaml runs again while those faults strike the server at equal spacing, for the
// timeline around each fault and the time to the first successful operation after it.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backend/local_nodes.h"
#include "backend/node.h"
#include "plan/plan.h"
#include "runner/results.h"
#include "throughput/jobs.h"
#include "topology/topology.h"

namespace ovl::runner {

// What the throughput phase runs against.
struct ThroughputTarget {
  std::string server;                                   // the server's name, or "physical"
  std::string variant;                                  // the server's variant, or "physical"
  backend::ServerNode* node = nullptr;                  // null for the physical reference
  topology::Access access = topology::Access::kLibnfs;  // how its clients reach it
  // A VM server's clients: the kernel-mount client VMs the plan links to it (a job uses as many
  // as it asks for, up to these). Empty: harness-agents are started on this host.
  std::vector<backend::AgentNode*> clients;
};

// The servers of `plan` that take part: expected to pass, with a node in `servers` (local, or a
// VM with client VMs in `agents`); then the physical reference, on this host.
std::vector<ThroughputTarget> ThroughputTargets(
    const plan::Plan& plan,
    const std::map<std::string, std::unique_ptr<backend::ServerNode>>& servers,
    const std::map<std::string, std::unique_ptr<backend::AgentNode>>& agents);

struct ThroughputContext {
  std::vector<topology::ThroughputJob> jobs;            // the plan's, in order
  const throughput::JobCatalogue* catalogue = nullptr;  // the job definitions, parsed
  std::vector<ThroughputTarget> targets;
  backend::LocalPaths paths;  // to start agents
  std::string log_dir;        // agents' logs
  std::string work_dir;       // layers go under <work_dir>/<server>/<job>
  uint64_t seed = 0;
  uint64_t rounds = 1;  // --repeat: each job this many times over (repeats of one measurement)
  bool keep = false;    // keep the layers
  const std::atomic<bool>* interrupted = nullptr;    // stop between jobs once set
  std::function<void(const std::string&)> progress;  // a line per job finished (may be empty)
};

struct ThroughputResults {
  std::vector<JobThroughput> jobs;
  std::vector<TimelinePoint> timeline;
  std::vector<FaultRecovery> recovery;
};

ThroughputResults RunThroughput(const ThroughputContext& ctx);

}  // namespace ovl::runner
