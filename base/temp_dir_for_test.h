// TempDir: a fresh directory under /tmp for one test, open as a directory fd, removed with its
// contents on destruction. Test-only (uses gtest assertions).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

#include "base/fd.h"

namespace ovl {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/ovl_fs_test.XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
      return;
    }
    path_ = tmpl;
    fd_ = Fd(open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    EXPECT_TRUE(fd_.valid()) << "open " << path_ << ": " << std::strerror(errno);
  }
  ~TempDir() {
    fd_.Reset();
    // Best effort: a leftover directory under /tmp must not fail the test.
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Absolute path of the directory.
  const std::string& path() const { return path_; }
  // An O_RDONLY directory fd, valid for the object's lifetime.
  int fd() const { return fd_.get(); }

 private:
  std::string path_;
  Fd fd_;
};

}  // namespace ovl
