// The libvirt connection, through libvirt's C API. Domains are created transient with
// VIR_DOMAIN_START_AUTODESTROY, so libvirtd destroys them when this connection closes, whatever
// way the harness exits. Thread-safe (libvirt connections are).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace ovl::backend::libvirt {

class Hypervisor {
 public:
  // Connects to `uri` (qemu:///system, qemu+ssh://host/system, ...). Libvirt's own error
  // printing is silenced: errors come back as Status.
  static Result<std::unique_ptr<Hypervisor>> Open(const std::string& uri);
  ~Hypervisor();  // closes the connection: its autodestroy domains go with it
  Hypervisor(const Hypervisor&) = delete;
  Hypervisor& operator=(const Hypervisor&) = delete;

  const std::string& uri() const { return uri_; }
  // Starts a transient, autodestroy domain from `xml`.
  Status Create(const std::string& xml);
  // Powers off (virDomainDestroy) the domain `name`; ENOENT when there is none.
  Status Destroy(const std::string& name);
  // True while domain `name` runs.
  bool IsActive(const std::string& name);
  // Names of the running domains that start with `prefix`.
  Result<std::vector<std::string>> ListDomains(const std::string& prefix);
  // True when the hypervisor offers domain type 'kvm' for x86_64.
  bool OffersKvm();
  // "libvirt 9.0.0, QEMU 7.2.22".
  std::string Versions();

 private:
  struct Impl;
  explicit Hypervisor(std::unique_ptr<Impl> impl, std::string uri);
  std::unique_ptr<Impl> impl_;
  std::string uri_;
};

}  // namespace ovl::backend::libvirt
