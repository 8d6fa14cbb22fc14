// The libvirt connection, through libvirt's C API. Domains are created transient with
// VIR_DOMAIN_START_AUTODESTROY, so libvirtd destroys them when this connection closes, whatever
// way the harness exits. Thread-safe (libvirt connections are).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/libvirt/stream.h"
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
  // Starts a transient, autodestroy domain from `xml`; `paused`: its CPUs wait for Resume, so
  // that a console stream can be open before the guest prints its first line.
  Status Create(const std::string& xml, bool paused = false);
  // Lets the CPUs of a domain created paused run.
  Status Resume(const std::string& name);
  // The serial console of a running domain as a stream (its <serial> must be a pty).
  Result<std::unique_ptr<Stream>> OpenConsole(const std::string& name);
  // The virtio-serial channel `channel` (its target name) of a running domain as a stream (its
  // <channel> must be a unix socket, which libvirt places on its own host).
  Result<std::unique_ptr<Stream>> OpenChannel(const std::string& name, const std::string& channel);
  // A new stream: blocking for a storage volume transfer (storage.h), else non-blocking (for
  // Stream::Watch).
  Result<std::unique_ptr<Stream>> NewStream(const std::string& what, bool blocking);
  // Powers off (virDomainDestroy) the domain `name`; ENOENT when there is none.
  Status Destroy(const std::string& name);
  // True while domain `name` runs.
  bool IsActive(const std::string& name);
  // Names of the running domains that start with `prefix`.
  Result<std::vector<std::string>> ListDomains(const std::string& prefix);
  // The XML of every running domain (to see which UDP ports their links use).
  Result<std::vector<std::string>> ActiveDomainXmls();
  // The metadata element of namespace `ns_uri` of domain `name` ("" when it has none).
  Result<std::string> Metadata(const std::string& name, const std::string& ns_uri);
  // The host's name as its libvirtd reports it.
  std::string Hostname();
  // The host's CPU count as libvirt reports it (1 when it does not say).
  unsigned Cpus();
  // False once the connection broke (the daemon or the transport to it went away).
  bool Alive();
  // True when the hypervisor offers domain type 'kvm' for x86_64.
  bool OffersKvm();
  // "libvirt 9.0.0, QEMU 7.2.22".
  std::string Versions();

 private:
  friend class StoragePool;
  struct Impl;
  explicit Hypervisor(std::unique_ptr<Impl> impl, std::string uri);
  std::unique_ptr<Impl> impl_;
  std::string uri_;
};

}  // namespace ovl::backend::libvirt
