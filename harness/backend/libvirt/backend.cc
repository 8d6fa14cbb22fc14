#include "backend/libvirt/backend.h"

#include <signal.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "backend/libvirt/daemons.h"
#include "backend/libvirt/guest_scripts.h"

namespace ovl::backend::libvirt {
namespace {

namespace stdfs = std::filesystem;
using json = nlohmann::json;

constexpr milliseconds kProbeTimeout{30'000};

std::string RandomTag() {
  std::random_device rd;
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", rd());
  return buf;
}

std::string HostKernel() {
  utsname u{};
  ::uname(&u);
  return u.release;
}

// The owner pid recorded in a VM state dir, or 0.
pid_t OwnerOf(const std::string& state_dir, std::string* socket_dir) {
  std::ifstream in(state_dir + "/owner");
  pid_t pid = 0;
  in >> pid >> *socket_dir;
  return pid;
}

bool Alive(pid_t pid) {
  return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

}  // namespace

Result<std::shared_ptr<LibvirtBackend>> LibvirtBackend::Open(const LibvirtOptions& options) {
  std::shared_ptr<LibvirtBackend> b(new LibvirtBackend());
  b->options_ = options;
  b->cache_dir_ = options.settings.cache_dir.empty() ? image::kDefaultCacheDir
                                                     : options.settings.cache_dir.string();
  // libvirtd and qemu open disks and consoles from their own working directory, not ours.
  std::error_code ec;
  b->cache_dir_ = stdfs::absolute(b->cache_dir_, ec).lexically_normal().string();
  if (!b->options_.run_dir.empty()) {
    b->options_.run_dir = stdfs::absolute(options.run_dir, ec).lexically_normal().string();
  }
  b->run_tag_ = RandomTag();
  std::ostream& err = *options.err;
  stdfs::create_directories(b->cache_dir_ + "/vms", ec);
  if (ec) return Status::Error(ec.value(), "create " + b->cache_dir_ + "/vms: " + ec.message());
  OVL_RETURN_IF_ERROR(EnsureDaemons(options.settings.uri, b->cache_dir_ + "/daemons.log", err));
  OVL_ASSIGN_OR_RETURN(b->hv_, Hypervisor::Open(options.settings.uri));
  b->versions_ = b->hv_->Versions();
  OVL_ASSIGN_OR_RETURN(image::Recipe recipe, image::MakeRecipe(options.settings.image));
  OVL_ASSIGN_OR_RETURN(b->image_, image::EnsureImage(recipe, b->cache_dir_, false, err));
  OVL_RETURN_IF_ERROR(b->ChooseAccel());
  err << "harness: libvirt " << options.settings.uri << " (" << b->versions_ << "), "
      << b->accel_note_ << "\n"
      << std::flush;
  return b;
}

LibvirtBackend::~LibvirtBackend() = default;

Result<VmSpec> LibvirtBackend::NewVmSpec(const std::string& node, const std::string& series) {
  const image::KernelFiles* k = image_.Kernel(series);
  if (k == nullptr) {
    return Status::Error(EINVAL, "the guest image " + image_.hash + " has no kernel " + series);
  }
  VmSpec s;
  s.node = node;
  s.domain = std::string(kDomainPrefix) + run_tag_ + "-" + node;
  s.kvm = kvm_;
  s.memory_mib = options_.settings.memory / topology::kMiB;
  s.vcpus = options_.settings.vcpus;
  s.kernel = *k;
  s.base_image = image_.rootfs;
  s.state_dir = cache_dir_ + "/vms/" + s.domain;
  s.socket_dir = std::string(kSocketRoot) + "/" + s.domain;
  s.console_log = options_.run_dir + "/vm/" + node + "/console.log";
  s.payload_dir = s.state_dir + "/payload";
  s.boot_timeout = options_.settings.boot_timeout;
  std::error_code ec;
  stdfs::create_directories(s.payload_dir, ec);
  if (ec) return Status::Error(ec.value(), "create " + s.payload_dir + ": " + ec.message());
  return s;
}

Status LibvirtBackend::ChooseAccel() {
  switch (options_.settings.accel) {
    case topology::Accel::kTcg:
      accel_note_ = "tcg (as the topology says)";
      return Status::Ok();
    case topology::Accel::kKvm:
      kvm_ = true;
      accel_note_ = "kvm (as the topology says)";
      return Status::Ok();
    case topology::Accel::kAuto:
      break;
  }
  if (::access("/dev/kvm", R_OK | W_OK) != 0) {
    accel_note_ = "tcg (auto: no usable /dev/kvm)";
    return Status::Ok();
  }
  if (!hv_->OffersKvm()) {
    accel_note_ = "tcg (auto: libvirt offers no kvm domains)";
    return Status::Ok();
  }
  const std::string series = image_.kernels.empty() ? "" : image_.kernels.front().series;
  const json key = {{"host_kernel", HostKernel()},
                    {"versions", versions_},
                    {"image", image_.hash},
                    {"guest_kernel", series}};
  const std::string cache = cache_dir_ + "/kvm-probe.json";
  {
    std::ifstream in(cache);
    json cached = json::parse(in, nullptr, false);
    if (!cached.is_discarded() && cached.value("key", json()) == key) {
      kvm_ = cached.value("kvm", false);
      accel_note_ = cached.value("note", "") + " (cached probe, " + cache + ")";
      return Status::Ok();
    }
  }
  *options_.err << "harness: probing KVM with a short boot of the " << series << " guest kernel\n"
                << std::flush;
  OVL_ASSIGN_OR_RETURN(kvm_, ProbeKvm(series));
  accel_note_ = kvm_ ? "kvm (auto: a probe VM booted under KVM)"
                     : "tcg (auto: /dev/kvm exists but a probe VM did not boot under KVM within " +
                           std::to_string(kProbeTimeout.count() / 1000) + " s)";
  std::ofstream(cache) << json{{"key", key}, {"kvm", kvm_}, {"note", accel_note_}}.dump(2) << "\n";
  return Status::Ok();
}

Result<bool> LibvirtBackend::ProbeKvm(const std::string& series) {
  OVL_ASSIGN_OR_RETURN(VmSpec spec, NewVmSpec("kvm-probe", series));
  spec.kvm = true;
  spec.boot_timeout = kProbeTimeout;
  spec.console_log = spec.state_dir + "/console.log";
  std::error_code ec;
  stdfs::copy_file(options_.guestd, spec.payload_dir + "/ovl-guestd", ec);
  if (ec) return Status::Error(ec.value(), "copy " + options_.guestd + ": " + ec.message());
  // No role: only the path to ovl-guestd answering, which is what a boot must reach.
  for (const auto& [name, text] :
       {std::pair<std::string, std::string>{"init.sh", InitScript()},
        {"role.sh", "#!/bin/sh\n"},
        {"role.env", RoleEnv({{"NAME", "kvm-probe"}, {"ROLE", "probe"}})}}) {
    std::ofstream(spec.payload_dir + "/" + name) << text;
    stdfs::permissions(spec.payload_dir + "/" + name, stdfs::perms(0755), ec);
  }
  auto vm = Vm::Start(hv_.get(), spec);
  return vm.ok();
}

Status CleanLeftovers(const std::string& cache_dir, const std::string& uri, std::ostream& out) {
  std::error_code ec;
  std::unique_ptr<Hypervisor> hv;
  auto opened = Hypervisor::Open(uri);
  if (opened.ok()) hv = std::move(*opened);
  std::vector<std::string> live_domains;
  for (const auto& e : stdfs::directory_iterator(cache_dir + "/vms", ec)) {
    const std::string domain = e.path().filename();
    std::string socket_dir;
    const pid_t owner = OwnerOf(e.path(), &socket_dir);
    if (Alive(owner) && owner != ::getpid()) {
      live_domains.push_back(domain);
      continue;
    }
    if (hv && hv->IsActive(domain) && hv->Destroy(domain).ok())
      out << "destroyed domain " << domain << "\n";
    if (socket_dir.rfind(kSocketRoot, 0) == 0) stdfs::remove_all(socket_dir, ec);
    stdfs::remove_all(e.path(), ec);
    out << "removed " << e.path().string() << "\n";
  }
  if (hv) {
    OVL_ASSIGN_OR_RETURN(auto domains, hv->ListDomains(kDomainPrefix));
    for (const auto& d : domains) {
      if (std::find(live_domains.begin(), live_domains.end(), d) != live_domains.end()) continue;
      if (hv->Destroy(d).ok()) out << "destroyed domain " << d << "\n";
    }
  } else {
    out << "libvirt at " << uri << " not reachable (" << opened.status().ToString()
        << "): no domains checked\n";
  }
  return Status::Ok();
}

}  // namespace ovl::backend::libvirt
