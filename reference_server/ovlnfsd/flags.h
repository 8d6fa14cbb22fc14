// The ovlnfsd command line:
//   ovlnfsd --lower DIR[:DIR...] [--upper DIR] --work DIR --listen ADDR:PORT
//           (without --upper: a lower-only export, read-only; --work still holds its identity)
//           [--export-path /PATH] [--allow CIDR]... [--read-only] [--squash root|all|none]
//           [--rpcbind] [--handles persistent|volatile] [--no-index] [--threads N]
//           [--max-connections N] [--max-per-address N] [--idle-timeout SECONDS]
//           [--plant NAME]... [--lease-seconds N] [--grace-seconds N]
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "nfs/export_policy.h"
#include "union/union_fs.h"

namespace ovl::ovlnfsd {

struct Flags {
  bool help = false;                    // -h/--help: print the usage and exit
  std::vector<std::string> lower_dirs;  // top-most first
  std::string upper_dir;                // empty: lower-only, and export_options.read_only is set
  std::string work_dir;
  std::string listen_address;  // dotted IPv4
  uint16_t listen_port = 0;    // 0: any free port
  // --export-path, --allow (replacing the default 127.0.0.0/8), --squash, --read-only.
  nfs::ExportOptions export_options;
  bool rpcbind = false;
  UnionOptions::HandleMode handle_mode = UnionOptions::HandleMode::kPersistent;
  bool use_index = true;
  Plants plants;  // --plant: deliberate mistakes for negative controls (docs/planted-bugs.md)
  int threads = 4;
  // Connection limits (rpc::ServerOptions): in all, per client address, and the idle time
  // after which a connection is closed.
  int max_connections = 1024;
  int max_per_address = 128;
  int idle_timeout_s = 360;
  // NFSv4.1 lease time, and the grace period after a start (-1: the lease time); see
  // docs/ovlnfsd.md, "NFSv4.1".
  int lease_s = 10;
  int grace_s = -1;
};

// The usage text for --help.
extern const char kUsage[];

// Parses the arguments after the program name. Options take their value as the next argument
// or after '='. On a usage error the Status (EINVAL) message is one line naming the argument,
// e.g. "--listen: expected ADDR:PORT, got 'x'".
Result<Flags> ParseFlags(const std::vector<std::string>& args);

}  // namespace ovl::ovlnfsd
