// Whole-file and last-lines reads of small text files (logs, tool output).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "base/status.h"

namespace ovl {

// The file's bytes; nullopt when it cannot be opened or read.
std::optional<std::string> ReadFileText(const std::string& path);

// Creates or truncates `path` (permissions `mode` for a new file) and writes `text` to it. The
// error names the path and carries the failing call's own errno (never a made-up EIO), so a
// missing directory reads ENOENT and a read-only one EROFS.
[[nodiscard]] Status WriteFileText(const std::string& path, const std::string& text,
                                   unsigned mode = 0644);

// The last `lines` lines of the file, each ending in '\n'; empty when it cannot be read.
std::string TailOfFile(const std::string& path, size_t lines);

}  // namespace ovl
