// RunFioLoad: a data job's load run by fio (Debian's fio, found in PATH) on a mounted path,
// instead of the agent's own generator: kernel-mount clients in VMs and the physical reference
// (a topology's `engine: fio`). The request maps onto one fio job:
//
//   sequential/random x read/write   rw=read|write|randread|randwrite, bs=request_size,
//                                    size=size, norandommap, randseed=seed
//   every request reaches the server direct=1 (O_DIRECT: not the client's page cache), psync
//   bounds                           time_based for the duration, number_ios=max_ops
//   stable file_sync / data_sync     sync=sync / sync=dsync (O_SYNC / O_DSYNC writes)
//   stable unstable                  fsync after every working set's worth of writes (COMMIT)
//
// Before fio starts (not timed, as in RunLoad): a fresh_file job removes its file; a write job on
// an existing file writes its first request back with the bytes it holds, so the copy-up happens
// before the clock starts. fio stops at the first I/O error: the load is then an error with
// fio's message, not a report.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "agent/load.h"
#include "base/status.h"
#include "throughput/load_spec.h"
#include "throughput/stats.h"

namespace ovl::agent {

// fio's command line for `request` on the file `path`, writing its json+ output and its IOPS
// log (averaged per timeline bucket) into `out_dir`.
std::vector<std::string> FioArgs(const throughput::LoadRequest& request, const std::string& path,
                                 const std::string& out_dir);

// The report of one fio run from its json+ output and its IOPS log: ops (reads, writes and
// fsyncs), bytes and seconds of the run, latencies from its completion-latency bins, successful
// operations per `bucket` from the log. EINVAL naming what is missing when `output` is not one
// fio job's json+; EIO with fio's error when the job failed.
Result<throughput::LoadReport> ReportFromFio(const nlohmann::json& output,
                                             std::string_view iops_log,
                                             std::chrono::milliseconds bucket);

// Step 1 of `request` with fio on the directory `root` (the client's mount or local
// directory): the file prepared as above. Its Run starts fio, bounded: fio is killed when it
// outlives the duration by more than kFioGrace (a load must answer within 300 s,
// agent::protocol::kLoadReplyTimeout; durations are <= 240 s).
inline constexpr std::chrono::seconds kFioGrace{10};
Result<std::unique_ptr<PreparedLoad>> PrepareFioLoad(throughput::LoadRequest request,
                                                     const std::string& root);

}  // namespace ovl::agent
