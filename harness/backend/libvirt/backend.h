// The libvirt backend's shared state for one run: the libvirt connection (whose closing
// destroys every domain of the run), the guest image, the acceleration chosen, and where VM
// files go. Nodes (vm_nodes.h) hold it through a shared_ptr, so it outlives them all.
#pragma once

#include <iostream>
#include <memory>
#include <ostream>
#include <string>

#include "backend/libvirt/hypervisor.h"
#include "backend/libvirt/vm.h"
#include "base/status.h"
#include "image/image.h"
#include "topology/topology.h"

namespace ovl::backend::libvirt {

// Every domain the project makes is named "ovlnfs-<run tag>-<node>".
inline constexpr const char* kDomainPrefix = "ovlnfs-";
// Channel sockets live under here (unix socket paths must stay short).
inline constexpr const char* kSocketRoot = "/run/ovlnfs-harness";

struct LibvirtOptions {
  topology::LibvirtSettings settings;
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
  ~LibvirtBackend();

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

 private:
  LibvirtBackend() = default;
  Status ChooseAccel();
  Result<bool> ProbeKvm(const std::string& series);

  LibvirtOptions options_;
  std::string cache_dir_;
  std::string run_tag_;
  std::unique_ptr<Hypervisor> hv_;
  image::GuestImage image_;
  bool kvm_ = false;
  std::string accel_note_;
  std::string versions_;
};

// Removes the VM disks and sockets (listed under <cache_dir>/vms) left by runs whose harness
// process is gone, and destroys every running project domain (kDomainPrefix) not owned by a
// live run of this cache dir; says what it removed on `out`.
Status CleanLeftovers(const std::string& cache_dir, const std::string& uri, std::ostream& out);

}  // namespace ovl::backend::libvirt
