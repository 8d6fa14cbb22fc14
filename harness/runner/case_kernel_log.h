// The kernel log of a case's server (backend/kernel_log.h): marked as the case starts, before
// the server is set up, and recorded as the case's "kernel" event (ops/history.h) once the
// server is torn down, so that what its kernel printed while mounting, serving, taking faults
// and unmounting belongs to the case. The model judges the lines (model/kernel_log.h).
#pragma once

#include <memory>
#include <string>

#include "backend/node.h"
#include "runner/recorder.h"

namespace ovl::runner {

class CaseKernelLog {
 public:
  // Marks the kernel log of `server`, named `node` in the event.
  CaseKernelLog(backend::ServerNode& server, std::string node)
      : node_(std::move(node)), log_(server.OpenKernelLog()) {}

  // Records what the kernel printed since the mark, or why it could not be read; nothing when
  // the server has no kernel log the harness can read (kErrNotSupp).
  void Record(Recorder& rec);

 private:
  std::string node_;
  Result<std::unique_ptr<backend::KernelLog>> log_;
};

}  // namespace ovl::runner
