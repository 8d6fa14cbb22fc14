// Running host tools (mmdebstrap, mkfs.ext4, qemu-img, libvirtd) to completion, bounded in time,
// with their output kept in a log so a failure can show its end.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/status.h"

namespace ovl::image {

using std::chrono::milliseconds;

// Runs `argv` to completion, appending its stdout and stderr to `log_path`. An error when it
// cannot start, exits non-zero, or outlives `timeout` (then it is killed); the message names the
// command and holds the end of its output.
Status RunCommand(const std::vector<std::string>& argv, const std::string& log_path,
                  milliseconds timeout);

// Runs `argv` to completion and returns its stdout (stderr goes to `log_path`); errors as above.
Result<std::string> CaptureCommand(const std::vector<std::string>& argv,
                                   const std::string& log_path, milliseconds timeout);

// True when `name` is an executable in PATH (or a path to one).
bool HaveTool(const std::string& name);

}  // namespace ovl::image
