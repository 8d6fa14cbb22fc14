#include "backend/libvirt/hypervisor.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

namespace ovl::backend::libvirt {
namespace {

void SilentErrors(void*, virErrorPtr) {}

Status LibvirtError(int code, const std::string& what) {
  const char* msg = virGetLastErrorMessage();
  return Status::Error(code, what + ": " + (msg ? msg : "unknown libvirt error"));
}

struct DomainDeleter {
  void operator()(virDomainPtr d) const { virDomainFree(d); }
};
using DomainRef = std::unique_ptr<virDomain, DomainDeleter>;

std::string VersionString(unsigned long v) {
  return std::to_string(v / 1000000) + "." + std::to_string(v / 1000 % 1000) + "." +
         std::to_string(v % 1000);
}

}  // namespace

struct Hypervisor::Impl {
  virConnectPtr conn = nullptr;
};

Hypervisor::Hypervisor(std::unique_ptr<Impl> impl, std::string uri)
    : impl_(std::move(impl)), uri_(std::move(uri)) {}

Hypervisor::~Hypervisor() {
  if (impl_->conn) virConnectClose(impl_->conn);
}

Result<std::unique_ptr<Hypervisor>> Hypervisor::Open(const std::string& uri) {
  virSetErrorFunc(nullptr, SilentErrors);
  auto impl = std::make_unique<Impl>();
  impl->conn = virConnectOpen(uri.c_str());
  if (!impl->conn) return LibvirtError(ECONNREFUSED, "connect to libvirt at " + uri);
  return std::unique_ptr<Hypervisor>(new Hypervisor(std::move(impl), uri));
}

Status Hypervisor::Create(const std::string& xml) {
  DomainRef d(virDomainCreateXML(impl_->conn, xml.c_str(), VIR_DOMAIN_START_AUTODESTROY));
  if (!d) return LibvirtError(EIO, "create domain");
  return Status::Ok();
}

Status Hypervisor::Destroy(const std::string& name) {
  DomainRef d(virDomainLookupByName(impl_->conn, name.c_str()));
  if (!d) return Status::Error(ENOENT, "no domain " + name);
  if (virDomainDestroy(d.get()) != 0) return LibvirtError(EIO, "destroy domain " + name);
  return Status::Ok();
}

bool Hypervisor::IsActive(const std::string& name) {
  DomainRef d(virDomainLookupByName(impl_->conn, name.c_str()));
  return d && virDomainIsActive(d.get()) == 1;
}

Result<std::vector<std::string>> Hypervisor::ListDomains(const std::string& prefix) {
  virDomainPtr* domains = nullptr;
  const int n = virConnectListAllDomains(impl_->conn, &domains, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
  if (n < 0) return LibvirtError(EIO, "list domains");
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) {
    const char* name = virDomainGetName(domains[i]);
    if (name && std::string(name).rfind(prefix, 0) == 0) names.emplace_back(name);
    virDomainFree(domains[i]);
  }
  free(domains);
  return names;
}

bool Hypervisor::OffersKvm() {
  char* caps = virConnectGetDomainCapabilities(impl_->conn, nullptr, "x86_64", nullptr, "kvm", 0);
  if (!caps) return false;
  free(caps);
  return true;
}

std::string Hypervisor::Versions() {
  unsigned long lib = 0, hv = 0;
  std::string out = "libvirt ";
  out += virConnectGetLibVersion(impl_->conn, &lib) == 0 ? VersionString(lib) : "?";
  out += ", QEMU ";
  out += virConnectGetVersion(impl_->conn, &hv) == 0 ? VersionString(hv) : "?";
  return out;
}

}  // namespace ovl::backend::libvirt
