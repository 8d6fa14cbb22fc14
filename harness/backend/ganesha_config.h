// The ganesha.conf of an nfs-ganesha server with FSAL_VFS exporting one directory: on the local
// backend (GaneshaDaemon, local_ganesha.h) and in a VM (role ganesha, backend/libvirt).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace ovl::backend {

struct GaneshaConfig {
  std::string bind_addr;  // empty: every address (a VM's links)
  uint16_t nfs_port = 2049;
  std::optional<uint16_t> mount_port;  // absent: ganesha's own choice, found through rpcbind
  // NFSv4.x beside NFSv3, with these lease and grace times; without it NFSv3 only and no grace
  // period (a restarted server answers at once).
  bool nfs4 = false;
  std::chrono::seconds lease{10};
  std::chrono::seconds grace{10};
  std::string recovery_root;  // NFSv4 client records (ganesha keeps them even for NFSv3 only)
  std::string export_dir;     // the exported directory (NFSv3 MNT takes this path)
  std::string pseudo_path = "/export";  // its path in the NFSv4 pseudo file system
};

// The config text: No_Root_Squash, AUTH_SYS, TCP only, no NLM, RQUOTA or Kerberos.
std::string GaneshaConfigText(const GaneshaConfig& config);

}  // namespace ovl::backend
