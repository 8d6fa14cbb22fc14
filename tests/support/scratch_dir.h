// ScratchDir: a fresh directory under $TMPDIR (default /tmp), removed with its contents on
// destruction. Unlike reference_server's TempDir it reports errors as values, so fixtures used
// outside GoogleTest (the harness's ganesha variant) can own one.
#pragma once

#include <string>

#include "base/status.h"

namespace ovl::testsupport {

class ScratchDir {
 public:
  // Creates "<tmp>/<prefix>.XXXXXX".
  static Result<ScratchDir> Create(const std::string& prefix);

  ScratchDir() = default;
  ScratchDir(ScratchDir&& other) noexcept;
  ScratchDir& operator=(ScratchDir&& other) noexcept;
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir();

  // Absolute path; empty for a default-constructed or moved-from object.
  const std::string& path() const { return path_; }

 private:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}
  void Remove();

  std::string path_;
};

// Writes `contents` to `path` (created or truncated).
Status WriteFile(const std::string& path, const std::string& contents);
// The whole file; ENOENT and friends as errors.
Result<std::string> ReadFile(const std::string& path);

}  // namespace ovl::testsupport
