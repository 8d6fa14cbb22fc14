#include "runner/case_kernel_log.h"

namespace ovl::runner {

void CaseKernelLog::Record(Recorder& rec) {
  Result<backend::KernelLines> lines =
      log_.ok() ? (*log_)->Read() : Result<backend::KernelLines>(log_.status());
  if (!lines.ok() && lines.status().code() == kErrNotSupp) return;
  nlohmann::json info = {{"node", node_}, {"lines", nlohmann::json::array()}, {"dropped", 0}};
  if (lines.ok()) {
    info["lines"] = lines->lines;
    info["dropped"] = lines->dropped;
  } else {
    info["error"] = lines.status().ToString();
  }
  rec.Append(ops::Event::Type::kKernel, std::move(info));
}

}  // namespace ovl::runner
