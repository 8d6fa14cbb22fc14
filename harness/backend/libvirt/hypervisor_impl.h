// Private to the libvirt backend's .cc files: the raw connection behind a Hypervisor, and the
// error conversion they share.
#pragma once

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "backend/libvirt/hypervisor.h"

namespace ovl::backend::libvirt {

struct Hypervisor::Impl {
  virConnectPtr conn = nullptr;
};

// `what` and libvirt's last error message of this thread.
inline Status LibvirtError(int code, const std::string& what) {
  const char* msg = virGetLastErrorMessage();
  return Status::Error(code, what + ": " + (msg ? msg : "unknown libvirt error"));
}

// A string libvirt allocated, freed ("" for null).
inline std::string Take(char* text) {
  std::string out = text ? text : "";
  free(text);
  return out;
}

struct DomainDeleter {
  void operator()(virDomainPtr d) const { virDomainFree(d); }
};
using DomainRef = std::unique_ptr<virDomain, DomainDeleter>;

}  // namespace ovl::backend::libvirt
