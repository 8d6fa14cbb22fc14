// Libvirt domain XML for a harness VM: direct kernel boot, virtio disks, a serial console logged
// to a file, virtio-serial channels to unix sockets, and qemu UDP socket links on 127.0.0.1
// (never a bridge, never a host address); or, for a VM on another host, volumes of a storage pool,
// a pty console and channels whose sockets libvirt places there. Pure: unit-tested without libvirt.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ovl::backend::libvirt {

// A disk: a file of the host (`path`), or a volume of a storage pool of the VM's host (`pool`
// non-empty: no path of any host appears in the XML).
struct DiskConfig {
  std::string path;    // file, or the volume's name when `pool` is set
  std::string format;  // "qcow2" or "raw"
  bool readonly = false;
  std::string pool{};
};

// A virtio-serial port named `name` in the guest, a unix socket `socket` on the host (libvirt
// binds it; empty: libvirt places it on the VM's host, for virDomainOpenChannel).
struct ChannelConfig {
  std::string name;
  std::string socket;
};

// One end of a point-to-point link: this VM sends to 127.0.0.1:remote_port from
// 127.0.0.1:local_port.
struct NicConfig {
  std::string mac;
  uint16_t local_port = 0;
  uint16_t remote_port = 0;
};

struct DomainConfig {
  std::string name;
  bool kvm = false;  // domain type 'kvm', else 'qemu' (TCG)
  uint64_t memory_mib = 1024;
  uint64_t vcpus = 1;
  std::string kernel, initrd, cmdline;  // no initrd: the kernel mounts the root itself
  std::vector<DiskConfig> disks;        // vda, vdb, ... in order
  // The serial console, appended across restarts; empty: a pty, read through
  // virDomainOpenConsole.
  std::string console_log;
  std::vector<ChannelConfig> channels;
  std::vector<NicConfig> nics;
  std::string metadata;  // elements of <metadata> (who made the domain: backend.h)
};

// The <domain> document for `config`.
std::string DomainXml(const DomainConfig& config);

// The guest's name of disk `index` of DomainConfig::disks: "vda", "vdb", ...
std::string VirtioDiskName(size_t index);

}  // namespace ovl::backend::libvirt
