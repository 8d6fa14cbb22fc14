// The libvirt backend's shared state for one run on one libvirt host: the connection (whose
// closing destroys every domain of the run there), the guest image as that host sees it, the
// acceleration chosen there, and where VM files go. A host that is not the harness's own
// (RemoteUri) gets everything through the connection: a storage pool holding the image and the
// disks, consoles and channels as streams (docs/vms.md, "Several hosts"). Nodes (vm_nodes.h)
// hold it through a shared_ptr, so it outlives them all.
#pragma once

#include <iostream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "backend/libvirt/hypervisor.h"
#include "backend/libvirt/storage.h"
#include "backend/libvirt/vm.h"
#include "base/status.h"
#include "image/image.h"
#include "topology/topology.h"

namespace ovl::backend::libvirt {

// Every domain the project makes is named "ovlnfs-<run tag>-<node>".
inline constexpr const char* kDomainPrefix = "ovlnfs-";
// Channel sockets live under here (unix socket paths must stay short).
inline constexpr const char* kSocketRoot = "/run/ovlnfs-harness";

// The libvirt metadata namespace of every domain the harness makes (RunMetadata).
inline constexpr const char* kMetadataNs = "urn:ovlnfs-harness:run:1";

// Who made a domain or volume: the run's tag, the harness host (its name and boot id) and the
// harness process. `harness clean` removes what belongs to runs that are gone by this.
struct RunOwner {
  std::string tag;
  std::string harness_host;
  std::string harness_boot;
  long pid = 0;

  // This process's run with `tag`.
  static RunOwner Self(const std::string& tag);
  // The <metadata> element of a domain, in namespace kMetadataNs.
  std::string ToXml() const;
  // Parsed back from ToXml's element (nullopt when it is not one).
  static std::optional<RunOwner> FromXml(const std::string& xml);
  std::string ToJson() const;
  static std::optional<RunOwner> FromJson(const std::string& text);
  // True when the run is known to be gone: made on this host by a process that is not alive any
  // more (or before this host's last boot). A run of another harness host is never judged gone.
  bool Gone() const;
};

struct LibvirtOptions {
  topology::LibvirtSettings settings;
  topology::LibvirtHost host{.name = "default", .uri = "qemu:///system", .pos = {}};
  std::string run_dir;  // results/<run>: consoles land in <run_dir>/vm/<node>/console.log
  // Host binaries every payload carries.
  std::string ovlnfsd;
  std::string agent;
  std::string guestd;
  std::ostream* err = &std::cerr;  // progress: daemons started, image build, acceleration
};

class LibvirtBackend {
 public:
  // Starts the daemons when needed (daemons.h), connects to settings.uri, builds or finds the
  // guest image, and settles the acceleration: tcg or kvm as the topology says; for auto, KVM
  // when /dev/kvm exists, libvirt offers it and a probe VM boots under it within 30 s, else TCG
  // (the probe's result is cached per host kernel, QEMU and guest kernel).
  static Result<std::shared_ptr<LibvirtBackend>> Open(const LibvirtOptions& options);
  ~LibvirtBackend();  // removes the run's own volumes of a remote host

  // True when the host is not the harness host: VM files go through the connection.
  bool remote() const { return pool_.has_value(); }
  const topology::LibvirtHost& host() const { return options_.host; }
  // The host's name and CPU count as libvirt reports them.
  const std::string& hostname() const { return hostname_; }
  unsigned cpus() const { return cpus_; }
  // The host's kernel release ("" when libvirt does not say: a remote host).
  const std::string& host_kernel() const { return host_kernel_; }
  // True for domain type 'kvm', false for 'qemu' (TCG).
  bool kvm() const { return kvm_; }
  // "tcg: a KVM probe VM did not boot within 30 s" and the like, for the manifest.
  const std::string& accel_note() const { return accel_note_; }
  // "libvirt 9.0.0, QEMU 7.2.22", for the manifest.
  const std::string& versions() const { return versions_; }
  const image::GuestImage& image() const { return image_; }
  const LibvirtOptions& options() const { return options_; }
  const std::string& cache_dir() const { return cache_dir_; }
  Hypervisor* hypervisor() { return hv_.get(); }

  // The spec of a VM for `node` booting kernel `series`, with its disks and sockets placed and
  // its payload dir created (empty) for the caller to fill. EINVAL for a series the image lacks.
  Result<VmSpec> NewVmSpec(const std::string& node, const std::string& series);
  // Kernel files of the harness host as the VM's host sees them: themselves on the harness
  // host; uploaded into volumes "<domain>-<role>-vmlinuz" and "-initrd" (which go with the VM)
  // on a remote one.
  Result<image::KernelFiles> PlaceKernel(const VmSpec& spec, const std::string& role,
                                         const image::KernelFiles& local);

 private:
  LibvirtBackend() = default;
  Status ChooseAccel();
  Result<bool> ProbeKvm(const std::string& series);
  // Remote hosts: the pool, and the guest image uploaded into it once per image hash.
  Status PlaceImage();

  LibvirtOptions options_;
  std::optional<StoragePool> pool_;
  std::string hostname_;
  std::string host_kernel_;
  unsigned cpus_ = 1;
  uint64_t base_bytes_ = 0;
  std::string cache_dir_;
  std::string run_tag_;
  std::unique_ptr<Hypervisor> hv_;
  image::GuestImage image_;
  bool kvm_ = false;
  std::string accel_note_;
  std::string versions_;
};

// Removes what runs that are gone (RunOwner::Gone) left: the VM disks and sockets listed under
// <cache_dir>/vms, the project's domains (kDomainPrefix) on the host at `host.uri` and, on a
// remote host, their volumes in `host.pool`. Domains and volumes of live runs or of other harness
// hosts are left, and said so. Says what it removed on `out`.
Status CleanLeftovers(const std::string& cache_dir, const topology::LibvirtHost& host,
                      std::ostream& out);

}  // namespace ovl::backend::libvirt
