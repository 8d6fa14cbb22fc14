// results/<run-id>/: made at the start of a run, with manifest.json describing exactly what ran
// where (topology hash, seed, host kernel, tool versions, project commit).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"
#include "ops/history_file.h"

namespace ovl::runner {

struct RunDir {
  std::string id;       // <UTC time>-<topology>-s<seed>
  std::string path;     // <results>/<id>
  std::string started;  // ISO 8601 UTC
};

// Creates <results_root>/<id> with logs/ and servers/ below it.
Result<RunDir> MakeRunDir(const std::string& results_root, const std::string& topology_name,
                          uint64_t seed);

// The manifest: `topology_file`'s content hash, the seed, uname, versions of libvirt and qemu
// (or "not installed"), the project commit (git, at `source_dir`), the command line.
nlohmann::json Manifest(const RunDir& dir, const std::string& topology_file, uint64_t seed,
                        const std::string& source_dir, const std::string& command_line);

// A run's directory, its manifest and its history file, opened before anything starts.
struct OpenedRun {
  RunDir dir;
  nlohmann::json manifest;                      // as written to <dir>/manifest.json
  std::unique_ptr<ops::HistoryWriter> history;  // <dir>/history.jsonl
};

// Makes the run directory, writes manifest.json (see Manifest; `topology_file` as given on the
// command line) and creates history.jsonl. The error names what could not be made.
Result<OpenedRun> OpenRun(const std::string& results_root, const std::string& topology_name,
                          const std::string& topology_file, uint64_t seed,
                          const std::string& source_dir);

// Writes `text` to `path` atomically (`path`.tmp, then rename). An error names the file and
// carries the errno of the call that failed; no temp file is left behind.
Status WriteFileAtomic(const std::string& path, const std::string& text);

}  // namespace ovl::runner
