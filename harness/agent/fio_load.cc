#include "agent/fio_load.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include "base/fd.h"
#include "base/file_text.h"

extern char** environ;

namespace ovl::agent {
namespace {

namespace stdfs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using throughput::LoadOp;
using throughput::LoadReport;
using throughput::LoadRequest;
using throughput::OpCount;
using throughput::Pattern;

Status Invalid(const std::string& what) {
  return Status::Error(EINVAL, "fio output: " + what);
}

bool Writes(const LoadRequest& r) {
  return !r.job.mix.empty() && r.job.mix.front().op == LoadOp::kWrite;
}

// Not timed: the file the job needs, in the state it needs (see fio_load.h).
Status PrepareFile(const LoadRequest& r, const std::string& path) {
  if (r.job.fresh_file) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Status::Error(errno, "remove " + path + ": " + std::strerror(errno));
    }
    return Status::Ok();
  }
  Fd fd(::open(path.c_str(), Writes(r) ? O_RDWR : O_RDONLY));
  if (!fd.valid()) return Status::Error(errno, "open " + path + ": " + std::strerror(errno));
  if (!Writes(r)) return Status::Ok();
  std::vector<char> first(r.job.request_size);
  const ssize_t got = ::pread(fd.get(), first.data(), first.size(), 0);
  if (got < 0 || ::pwrite(fd.get(), first.data(), static_cast<size_t>(got), 0) != got ||
      ::fsync(fd.get()) != 0) {
    return Status::Error(errno, "copy-up write of " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

// Runs fio to completion (killed after `limit`); its stdout and stderr go to `log`.
Status RunFio(const std::vector<std::string>& args, const std::string& log, Clock::duration limit) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Status::Error(rc, std::string("start fio: ") + std::strerror(rc));
  const Clock::time_point deadline = Clock::now() + limit;
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) return Status::Error(errno, "wait for fio");
    if (Clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return Status::Error(ETIMEDOUT, "fio outlived its duration by " +
                                          std::to_string(kFioGrace.count()) + " s: killed");
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  const std::string how = WIFEXITED(status) ? "exited " + std::to_string(WEXITSTATUS(status))
                                            : "died of signal " + std::to_string(WTERMSIG(status));
  return Status::Error(EIO, "fio " + how + ": " + TailOfFile(log, 5));
}

// Adds the completion-latency bins of one direction ("read", "write" or "sync").
void AddLatencies(const json& dir, throughput::LatencyHistogram* latency) {
  const json* lat = dir.contains("clat_ns")  ? &dir["clat_ns"]
                    : dir.contains("lat_ns") ? &dir["lat_ns"]
                                             : nullptr;
  if (lat == nullptr || !lat->contains("bins")) return;
  for (const auto& [ns, count] : (*lat)["bins"].items()) {
    latency->Record(std::stoull(ns), count.get<uint64_t>());
  }
}

// "msec, iops, direction, block size, offset[, priority]" lines; each the average over the
// bucket that ends at msec.
Status AddTimeline(std::string_view log, milliseconds bucket, LoadReport* r) {
  std::istringstream in{std::string(log)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    uint64_t ms = 0;
    uint64_t iops = 0;
    if (std::sscanf(line.c_str(), "%lu, %lu", &ms, &iops) != 2) {
      return Invalid("IOPS log line \"" + line + "\"");
    }
    const uint64_t width = static_cast<uint64_t>(bucket.count());
    const size_t index = static_cast<size_t>((ms + width / 2) / width);
    if (index == 0) continue;
    if (r->timeline.size() < index) r->timeline.resize(index, 0);
    r->timeline[index - 1] += static_cast<uint64_t>(std::llround(iops * width / 1000.0));
  }
  return Status::Ok();
}

}  // namespace

std::vector<std::string> FioArgs(const LoadRequest& r, const std::string& path,
                                 const std::string& out_dir) {
  const bool random = r.job.pattern == Pattern::kRandom;
  const bool writes = Writes(r);
  std::vector<std::string> a = {
      "fio",
      "--name=" + r.job.name,
      "--filename=" + path,
      "--size=" + std::to_string(r.job.size),
      "--bs=" + std::to_string(r.job.request_size),
      std::string("--rw=") + (random ? "rand" : "") + (writes ? "write" : "read"),
      "--ioengine=psync",
      "--direct=1",
      "--time_based=1",
      "--runtime=" + std::to_string(r.duration.count()) + "ms",
      "--number_ios=" + std::to_string(r.job.max_ops),
      "--randseed=" + std::to_string(r.seed),
      "--norandommap=1",
      "--output-format=json+",
      "--output=" + out_dir + "/out.json",
      "--write_iops_log=" + out_dir + "/fio",
      "--log_avg_msec=" + std::to_string(r.timeline.count()),
  };
  if (writes) {
    switch (r.job.stable) {
      case ops::Stable::kFileSync:
        a.push_back("--sync=sync");
        break;
      case ops::Stable::kDataSync:
        a.push_back("--sync=dsync");
        break;
      case ops::Stable::kUnstable:
        a.push_back("--fsync=" +
                    std::to_string(std::max<uint64_t>(1, r.job.size / r.job.request_size)));
        break;
    }
  }
  return a;
}

Result<LoadReport> ReportFromFio(const json& output, std::string_view iops_log,
                                 milliseconds bucket) {
  if (!output.is_object() || !output.contains("jobs") || !output["jobs"].is_array() ||
      output["jobs"].size() != 1) {
    return Invalid("not the json+ of one job");
  }
  const json& job = output["jobs"][0];
  LoadReport r;
  r.timeline_bucket = bucket;
  try {
    if (const int error = job.at("error").get<int>(); error != 0) {
      return Status::Error(EIO,
                           "fio stopped on an I/O error: " + std::string(std::strerror(error)));
    }
    double ms = 0;
    for (const char* dir : {"read", "write", "sync"}) {
      if (!job.contains(dir)) continue;
      const json& d = job[dir];
      const uint64_t n = d.at("total_ios").get<uint64_t>();
      if (n == 0) continue;
      r.ops += n;
      OpCount& op = r.by_op[std::string(dir) == "sync" ? "commit" : dir];
      op.ok += n;
      AddLatencies(d, &op.latency);
      if (d.contains("io_bytes")) r.bytes += d["io_bytes"].get<uint64_t>();
      if (d.contains("runtime")) ms = std::max(ms, d["runtime"].get<double>());
      AddLatencies(d, &r.latency);
    }
    if (ms <= 0) ms = job.at("job_runtime").get<double>();
    r.seconds = ms / 1000.0;
  } catch (const std::exception& e) {
    return Invalid(e.what());
  }
  OVL_RETURN_IF_ERROR(AddTimeline(iops_log, bucket, &r));
  return r;
}

namespace {

class FioLoad : public PreparedLoad {
 public:
  FioLoad(LoadRequest request, std::string path)
      : request_(std::move(request)), path_(std::move(path)) {}
  Result<LoadReport> Run() override;

 private:
  const LoadRequest request_;
  const std::string path_;
};

}  // namespace

Result<std::unique_ptr<PreparedLoad>> PrepareFioLoad(LoadRequest request, const std::string& root) {
  std::string path = root + "/" + request.job.dir + "/" + request.job.file;
  OVL_RETURN_IF_ERROR(PrepareFile(request, path));
  return std::unique_ptr<PreparedLoad>(new FioLoad(std::move(request), std::move(path)));
}

Result<LoadReport> FioLoad::Run() {
  char tmpl[] = "/tmp/ovl-fio-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    return Status::Error(errno, "mkdtemp: " + std::string(std::strerror(errno)));
  }
  const std::string out_dir = tmpl;
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      stdfs::remove_all(dir, ec);
    }
  } cleanup{out_dir};
  const auto start = Clock::now();
  OVL_RETURN_IF_ERROR(RunFio(FioArgs(request_, path_, out_dir), out_dir + "/fio.log",
                             request_.duration + kFioGrace));
  json output;
  try {
    output = json::parse(ReadFileText(out_dir + "/out.json").value_or(""));
  } catch (const std::exception& e) {
    return Invalid(std::string("out.json: ") + e.what());
  }
  // fio names the log after the job's index: <prefix>_iops.1.log.
  OVL_ASSIGN_OR_RETURN(LoadReport report,
                       ReportFromFio(output, ReadFileText(out_dir + "/fio_iops.1.log").value_or(""),
                                     request_.timeline));
  report.start_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch()).count();
  return report;
}

}  // namespace ovl::agent
