// A JSON-lines connection to a unix socket that qemu listens on (a virtio-serial channel of a
// VM). Every read and connect is bounded by a deadline.
#pragma once

#include <chrono>
#include <string>

#include "base/fd.h"
#include "base/status.h"

namespace ovl::backend::libvirt {

using Clock = std::chrono::steady_clock;

class LineChannel {
 public:
  // Connects to `path`, retrying until `deadline` (the socket appears when qemu starts).
  Status Connect(const std::string& path, Clock::time_point deadline);
  void Close();
  bool connected() const { return fd_.valid(); }
  // Writes `line` and a newline. EPIPE when the peer went away (the VM was destroyed).
  Status WriteLine(const std::string& line);
  // The next line without its newline; ETIMEDOUT at `deadline`, EPIPE at end of stream.
  Result<std::string> ReadLine(Clock::time_point deadline);

 private:
  Fd fd_;
  std::string buffer_;
  std::string path_;
};

}  // namespace ovl::backend::libvirt
