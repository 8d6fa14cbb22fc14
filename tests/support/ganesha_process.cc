#include "support/ganesha_process.h"

#include <sys/stat.h>

#include <utility>

namespace ovl::testsupport {

Result<std::unique_ptr<GaneshaProcess>> GaneshaProcess::Start(GaneshaOptions options) {
  if (std::string why = UnavailableReason(); !why.empty()) return Status::Error(ENOTSUP, why);
  OVL_ASSIGN_OR_RETURN(ScratchDir scratch, ScratchDir::Create("ganesha-test"));
  std::unique_ptr<GaneshaProcess> g(new GaneshaProcess(std::move(scratch)));
  backend::GaneshaOptions daemon;
  daemon.export_dir = options.export_dir;
  daemon.state_dir = g->scratch_.path();
  daemon.start_timeout = options.start_timeout;
  daemon.stop_timeout = options.stop_timeout;
  if (daemon.export_dir.empty()) {
    daemon.export_dir = g->scratch_.path() + "/export";
    if (mkdir(daemon.export_dir.c_str(), 0755) != 0) {
      return Status::FromErrno("mkdir " + daemon.export_dir);
    }
  }
  OVL_ASSIGN_OR_RETURN(g->daemon_, backend::GaneshaDaemon::Start(std::move(daemon)));
  return g;
}

}  // namespace ovl::testsupport
