#include "backend/libvirt/hypervisor.h"

#include <functional>

#include "backend/libvirt/hypervisor_impl.h"

namespace ovl::backend::libvirt {
namespace {

void SilentErrors(void*, virErrorPtr) {}

std::string VersionString(unsigned long v) {
  return std::to_string(v / 1000000) + "." + std::to_string(v / 1000 % 1000) + "." +
         std::to_string(v % 1000);
}

Result<DomainRef> LookupDomain(virConnectPtr conn, const std::string& name) {
  DomainRef d(virDomainLookupByName(conn, name.c_str()));
  if (!d) return LibvirtError(ENOENT, "look up domain " + name);
  return d;
}

// `take(domain)` for every running domain, as virConnectListAllDomains gives them.
Status ForEachActiveDomain(virConnectPtr conn, const std::function<void(virDomainPtr)>& take) {
  virDomainPtr* domains = nullptr;
  const int n = virConnectListAllDomains(conn, &domains, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
  if (n < 0) return LibvirtError(EIO, "list domains");
  for (int i = 0; i < n; ++i) {
    take(domains[i]);
    virDomainFree(domains[i]);
  }
  free(domains);
  return Status::Ok();
}

}  // namespace

Hypervisor::Hypervisor(std::unique_ptr<Impl> impl, std::string uri)
    : impl_(std::move(impl)), uri_(std::move(uri)) {}

Hypervisor::~Hypervisor() {
  if (impl_->conn) virConnectClose(impl_->conn);
}

Result<std::unique_ptr<Hypervisor>> Hypervisor::Open(const std::string& uri) {
  virSetErrorFunc(nullptr, SilentErrors);
  EnsureEventLoop();
  auto impl = std::make_unique<Impl>();
  impl->conn = virConnectOpen(uri.c_str());
  if (!impl->conn) return LibvirtError(ECONNREFUSED, "connect to libvirt at " + uri);
  // A host that stops answering (5 s probes, 6 missed) closes the connection: its calls then
  // fail instead of waiting forever, and its cases come out UNRESOLVED.
  (void)virConnectSetKeepAlive(impl->conn, 5, 6);
  return std::unique_ptr<Hypervisor>(new Hypervisor(std::move(impl), uri));
}

Status Hypervisor::Create(const std::string& xml, bool paused) {
  const unsigned flags = VIR_DOMAIN_START_AUTODESTROY | (paused ? VIR_DOMAIN_START_PAUSED : 0);
  DomainRef d(virDomainCreateXML(impl_->conn, xml.c_str(), flags));
  if (!d) return LibvirtError(EIO, "create domain");
  return Status::Ok();
}

Status Hypervisor::Resume(const std::string& name) {
  OVL_ASSIGN_OR_RETURN(DomainRef d, LookupDomain(impl_->conn, name));
  if (virDomainResume(d.get()) != 0) return LibvirtError(EIO, "resume domain " + name);
  return Status::Ok();
}

Result<std::unique_ptr<Stream>> Hypervisor::NewStream(const std::string& what, bool blocking) {
  virStreamPtr st = virStreamNew(impl_->conn, blocking ? 0 : VIR_STREAM_NONBLOCK);
  if (!st) return LibvirtError(EIO, "new stream for " + what);
  return std::make_unique<Stream>(st, what + " (" + uri_ + ")");
}

Result<std::unique_ptr<Stream>> Hypervisor::OpenConsole(const std::string& name) {
  OVL_ASSIGN_OR_RETURN(DomainRef d, LookupDomain(impl_->conn, name));
  OVL_ASSIGN_OR_RETURN(auto st, NewStream("console of " + name, false));
  if (virDomainOpenConsole(d.get(), nullptr, st->get(), VIR_DOMAIN_CONSOLE_FORCE) != 0) {
    return LibvirtError(EIO, "open the console of " + name);
  }
  return st;
}

Result<std::unique_ptr<Stream>> Hypervisor::OpenChannel(const std::string& name,
                                                        const std::string& channel) {
  OVL_ASSIGN_OR_RETURN(DomainRef d, LookupDomain(impl_->conn, name));
  OVL_ASSIGN_OR_RETURN(auto st, NewStream("channel " + channel + " of " + name, false));
  if (virDomainOpenChannel(d.get(), channel.c_str(), st->get(), VIR_DOMAIN_CHANNEL_FORCE) != 0) {
    return LibvirtError(EIO, "open channel " + channel + " of " + name);
  }
  return st;
}

Result<std::vector<std::string>> Hypervisor::ActiveDomainXmls() {
  std::vector<std::string> xmls;
  OVL_RETURN_IF_ERROR(ForEachActiveDomain(
      impl_->conn, [&](virDomainPtr d) { xmls.push_back(Take(virDomainGetXMLDesc(d, 0))); }));
  return xmls;
}

Result<std::string> Hypervisor::Metadata(const std::string& name, const std::string& ns_uri) {
  OVL_ASSIGN_OR_RETURN(DomainRef d, LookupDomain(impl_->conn, name));
  return Take(virDomainGetMetadata(d.get(), VIR_DOMAIN_METADATA_ELEMENT, ns_uri.c_str(), 0));
}

std::string Hypervisor::Hostname() {
  const std::string name = Take(virConnectGetHostname(impl_->conn));
  return name.empty() ? "?" : name;
}

unsigned Hypervisor::Cpus() {
  virNodeInfo info{};
  if (virNodeGetInfo(impl_->conn, &info) != 0 || info.cpus == 0) return 1;
  return info.cpus;
}

bool Hypervisor::Alive() {
  return virConnectIsAlive(impl_->conn) == 1;
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
  std::vector<std::string> names;
  OVL_RETURN_IF_ERROR(ForEachActiveDomain(impl_->conn, [&](virDomainPtr d) {
    const char* name = virDomainGetName(d);
    if (name && std::string(name).rfind(prefix, 0) == 0) names.emplace_back(name);
  }));
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
