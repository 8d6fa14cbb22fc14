#include "runner/run_dir.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/file_text.h"

namespace ovl::runner {
namespace {

std::string UtcNow(const char* format) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

// First line of a command's output, or `fallback` when it cannot run.
std::string FirstLine(const std::string& command, const std::string& fallback) {
  FILE* p = popen((command + " 2>/dev/null").c_str(), "r");
  if (!p) return fallback;
  char buf[512] = {};
  bool got = fgets(buf, sizeof buf, p) != nullptr;
  int rc = pclose(p);
  std::string line = got ? buf : "";
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return (rc == 0 && !line.empty()) ? line : fallback;
}

std::string Fnv1a64Hex(const std::string& data) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  char buf[17];
  snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace

Result<RunDir> MakeRunDir(const std::string& results_root, const std::string& topology_name,
                          uint64_t seed) {
  RunDir d;
  d.started = UtcNow("%Y-%m-%dT%H:%M:%SZ");
  const std::string base =
      UtcNow("%Y%m%dT%H%M%SZ") + "-" + topology_name + "-s" + std::to_string(seed);
  std::error_code ec;
  std::filesystem::create_directories(results_root, ec);
  // Two runs in one second get distinct directories.
  for (int n = 0; n < 100; ++n) {
    d.id = n == 0 ? base : base + "." + std::to_string(n);
    d.path = results_root + "/" + d.id;
    if (std::filesystem::create_directory(d.path, ec)) break;
    if (ec) return Status::Error(ec.value(), "create " + d.path + ": " + ec.message());
  }
  for (const char* sub : {"/logs", "/servers"}) {
    std::filesystem::create_directories(d.path + sub, ec);
    if (ec) return Status::Error(ec.value(), "create " + d.path + sub + ": " + ec.message());
  }
  return d;
}

nlohmann::json Manifest(const RunDir& dir, const std::string& topology_file, uint64_t seed,
                        const std::string& source_dir, const std::string& command_line) {
  std::ifstream in(topology_file, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  utsname u{};
  uname(&u);
  const std::string git = "git -C '" + source_dir + "' ";
  std::string commit = FirstLine(git + "rev-parse HEAD", "unknown");
  if (commit != "unknown" &&
      !FirstLine(git + "status --porcelain --untracked-files=no | head -1", "").empty()) {
    commit += "-dirty";
  }
  return {{"run_id", dir.id},
          {"started", dir.started},
          {"command", command_line},
          {"topology", {{"file", topology_file}, {"fnv1a64", Fnv1a64Hex(content)}}},
          {"seed", seed},
          {"host",
           {{"kernel", std::string(u.release)},
            {"machine", std::string(u.machine)},
            {"nodename", std::string(u.nodename)}}},
          {"versions",
           {{"libvirt", FirstLine("libvirtd --version", "not installed")},
            {"qemu", FirstLine("qemu-system-x86_64 --version", "not installed")},
            {"project_commit", commit}}}};
}

Result<OpenedRun> OpenRun(const std::string& results_root, const std::string& topology_name,
                          const std::string& topology_file, uint64_t seed,
                          const std::string& source_dir) {
  OpenedRun run;
  OVL_ASSIGN_OR_RETURN(run.dir, MakeRunDir(results_root, topology_name, seed));
  const std::string command = "harness run " + topology_file + " --seed " + std::to_string(seed);
  run.manifest = Manifest(run.dir, topology_file, seed, source_dir, command);
  OVL_RETURN_IF_ERROR(WriteFileAtomic(run.dir.path + "/manifest.json", run.manifest.dump(2)));
  run.history = std::make_unique<ops::HistoryWriter>(run.dir.path + "/history.jsonl");
  OVL_RETURN_IF_ERROR(run.history->status());
  return run;
}

Status WriteFileAtomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  Status st = WriteFileText(tmp, text);
  if (st.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) {
    st = Status::FromErrno("rename " + tmp + " to " + path);
  }
  if (!st.ok()) unlink(tmp.c_str());
  return st;
}

}  // namespace ovl::runner
