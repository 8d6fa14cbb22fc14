// Whole-file and last-lines reads of small text files (logs, tool output).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace ovl {

// The file's bytes; nullopt when it cannot be opened or read.
std::optional<std::string> ReadFileText(const std::string& path);

// The last `lines` lines of the file, each ending in '\n'; empty when it cannot be read.
std::string TailOfFile(const std::string& path, size_t lines);

}  // namespace ovl
