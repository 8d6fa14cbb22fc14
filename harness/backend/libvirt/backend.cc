#include "backend/libvirt/backend.h"

#include <signal.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "backend/libvirt/daemons.h"
#include "backend/libvirt/guest_scripts.h"
#include "base/file_text.h"
#include "base/markup.h"

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

std::string LocalHostname() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

std::string LocalBootId() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

// The value of attribute `name` in an XML start tag `xml` ("" when absent).
std::string Attribute(const std::string& xml, const std::string& name) {
  for (const char quote : {'\'', '"'}) {
    const std::string key = " " + name + "=" + quote;
    const size_t at = xml.find(key);
    if (at == std::string::npos) continue;
    const size_t from = at + key.size();
    const size_t to = xml.find(quote, from);
    if (to != std::string::npos) return xml.substr(from, to - from);
  }
  return "";
}

// Volumes of the guest image `hash` in a remote host's pool ("ovlnfs-image-<hash>-...").
std::string ImageVolume(const std::string& hash, const std::string& what) {
  return "ovlnfs-image-" + hash + "-" + what;
}

// The volume recording who made a run's volumes on a remote host.
std::string LedgerVolume(const std::string& tag) {
  return std::string(kDomainPrefix) + tag + ".run";
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

RunOwner RunOwner::Self(const std::string& tag) {
  return RunOwner{tag, LocalHostname(), LocalBootId(), static_cast<long>(::getpid())};
}

std::string RunOwner::ToXml() const {
  return "<ovlnfs:run xmlns:ovlnfs='" + std::string(kMetadataNs) + "' tag='" + EscapeMarkup(tag) +
         "' harness_host='" + EscapeMarkup(harness_host) + "' harness_boot='" +
         EscapeMarkup(harness_boot) + "' pid='" + std::to_string(pid) + "'/>";
}

std::optional<RunOwner> RunOwner::FromXml(const std::string& xml) {
  RunOwner o{Attribute(xml, "tag"), Attribute(xml, "harness_host"), Attribute(xml, "harness_boot"),
             std::atol(Attribute(xml, "pid").c_str())};
  if (o.tag.empty() || o.harness_host.empty()) return std::nullopt;
  return o;
}

std::string RunOwner::ToJson() const {
  return json{
      {"tag", tag}, {"harness_host", harness_host}, {"harness_boot", harness_boot}, {"pid", pid}}
      .dump();
}

std::optional<RunOwner> RunOwner::FromJson(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  RunOwner o{j.value("tag", ""), j.value("harness_host", ""), j.value("harness_boot", ""),
             j.value("pid", 0L)};
  if (o.tag.empty() || o.harness_host.empty()) return std::nullopt;
  return o;
}

bool RunOwner::Gone() const {
  if (harness_host != LocalHostname()) return false;
  if (harness_boot != LocalBootId()) return true;
  return !Alive(static_cast<pid_t>(pid)) || pid == ::getpid();
}

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
  const std::string& uri = options.host.uri;
  OVL_RETURN_IF_ERROR(EnsureDaemons(uri, b->cache_dir_ + "/daemons.log", err));
  OVL_ASSIGN_OR_RETURN(b->hv_, Hypervisor::Open(uri));
  b->versions_ = b->hv_->Versions();
  b->hostname_ = b->hv_->Hostname();
  b->cpus_ = b->hv_->Cpus();
  OVL_ASSIGN_OR_RETURN(image::Recipe recipe, image::MakeRecipe(options.settings.image));
  OVL_ASSIGN_OR_RETURN(b->image_, image::EnsureImage(recipe, b->cache_dir_, false, err));
  b->base_bytes_ = stdfs::file_size(b->image_.rootfs, ec);
  if (RemoteUri(uri)) {
    OVL_RETURN_IF_ERROR(b->PlaceImage());
  } else {
    b->host_kernel_ = HostKernel();
  }
  OVL_RETURN_IF_ERROR(b->ChooseAccel());
  err << "harness: libvirt host " << options.host.name << " " << uri << " (" << b->hostname_ << ", "
      << b->versions_ << ", " << b->cpus_ << " CPUs), " << b->accel_note_ << "\n"
      << std::flush;
  return b;
}

LibvirtBackend::~LibvirtBackend() {
  if (!pool_) return;
  // Each VM removed its own volumes; what a failed start left goes here, then the ledger.
  auto left = pool_->List(std::string(kDomainPrefix) + run_tag_ + "-");
  for (const std::string& v : left.ok() ? *left : std::vector<std::string>{}) {
    (void)pool_->Delete(v);
  }
  (void)pool_->Delete(LedgerVolume(run_tag_));
}

Status LibvirtBackend::PlaceImage() {
  const topology::LibvirtHost& h = options_.host;
  *options_.err << "harness: host " << h.name << ": storage pool " << h.pool << " at "
                << h.pool_path << "\n"
                << std::flush;
  OVL_ASSIGN_OR_RETURN(StoragePool pool, StoragePool::Ensure(hv_.get(), h.pool, h.pool_path));
  pool_ = pool;
  // The ledger first: a run's volumes are never without the record of who made them.
  const std::string ledger = cache_dir_ + "/vms/" + LedgerVolume(run_tag_);
  OVL_RETURN_IF_ERROR(WriteFileText(ledger, RunOwner::Self(run_tag_).ToJson() + "\n"));
  Result<std::string> up = pool_->Upload(LedgerVolume(run_tag_), ledger);
  std::error_code ec;
  stdfs::remove(ledger, ec);
  OVL_RETURN_IF_ERROR(up.status());
  // The image is uploaded once per host and image hash: the marker volume is written last, so an
  // interrupted upload is redone, never used.
  const std::string marker = ImageVolume(image_.hash, "complete");
  if (!pool_->Path(marker).ok()) {
    OVL_ASSIGN_OR_RETURN(auto partial, pool_->List(ImageVolume(image_.hash, "")));
    for (const std::string& v : partial) OVL_RETURN_IF_ERROR(pool_->Delete(v));
    *options_.err << "harness: host " << h.name << ": uploading the guest image " << image_.hash
                  << " (once per host)\n"
                  << std::flush;
    OVL_RETURN_IF_ERROR(
        pool_->Upload(ImageVolume(image_.hash, "rootfs.raw"), image_.rootfs).status());
    for (const image::KernelFiles& k : image_.kernels) {
      OVL_RETURN_IF_ERROR(
          pool_->Upload(ImageVolume(image_.hash, k.release + "-vmlinuz"), k.vmlinuz).status());
      if (!k.initrd.empty()) {
        OVL_RETURN_IF_ERROR(
            pool_->Upload(ImageVolume(image_.hash, k.release + "-initrd"), k.initrd).status());
      }
    }
    const std::string done = cache_dir_ + "/vms/" + marker;
    OVL_RETURN_IF_ERROR(WriteFileText(done, image_.hash + "\n"));
    up = pool_->Upload(marker, done);
    stdfs::remove(done, ec);
    OVL_RETURN_IF_ERROR(up.status());
  }
  OVL_ASSIGN_OR_RETURN(image_.rootfs, pool_->Path(ImageVolume(image_.hash, "rootfs.raw")));
  for (image::KernelFiles& k : image_.kernels) {
    OVL_ASSIGN_OR_RETURN(k.vmlinuz, pool_->Path(ImageVolume(image_.hash, k.release + "-vmlinuz")));
    if (!k.initrd.empty()) {
      OVL_ASSIGN_OR_RETURN(k.initrd, pool_->Path(ImageVolume(image_.hash, k.release + "-initrd")));
    }
  }
  return Status::Ok();
}

Result<image::KernelFiles> LibvirtBackend::PlaceKernel(const VmSpec& spec, const std::string& role,
                                                       const image::KernelFiles& local) {
  if (!pool_) return local;
  image::KernelFiles placed = local;
  const std::string prefix = spec.domain + "-" + role;
  OVL_ASSIGN_OR_RETURN(placed.vmlinuz, pool_->Upload(prefix + "-vmlinuz", local.vmlinuz));
  if (!local.initrd.empty()) {
    OVL_ASSIGN_OR_RETURN(placed.initrd, pool_->Upload(prefix + "-initrd", local.initrd));
  }
  return placed;
}

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
  s.base_image_bytes = base_bytes_;
  s.metadata = RunOwner::Self(run_tag_).ToXml();
  s.pool = pool_;
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
  if (!remote() && ::access("/dev/kvm", R_OK | W_OK) != 0) {
    accel_note_ = "tcg (auto: no usable /dev/kvm)";
    return Status::Ok();
  }
  if (!hv_->OffersKvm()) {
    accel_note_ = "tcg (auto: libvirt offers no kvm domains)";
    return Status::Ok();
  }
  const std::string series = image_.kernels.empty() ? "" : image_.kernels.front().series;
  const json key = {{"host", hostname_},           {"uri", options_.host.uri},
                    {"host_kernel", host_kernel_}, {"versions", versions_},
                    {"image", image_.hash},        {"guest_kernel", series}};
  // One probe per host: on a remote host, KVM is that host's.
  const std::string cache = cache_dir_ + (remote() ? "/kvm-probe-" + hostname_ + ".json"
                                                   : std::string("/kvm-probe.json"));
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

namespace {

// Destroys the project's domains on `hv` whose runs are gone; those of live runs (`live`: by the
// cache dir's owner files) and of other harness hosts are left.
Status CleanDomains(Hypervisor& hv, const std::vector<std::string>& live, std::ostream& out) {
  OVL_ASSIGN_OR_RETURN(auto domains, hv.ListDomains(kDomainPrefix));
  for (const auto& d : domains) {
    if (std::find(live.begin(), live.end(), d) != live.end()) continue;
    auto meta = hv.Metadata(d, kMetadataNs);
    const std::optional<RunOwner> owner =
        meta.ok() ? RunOwner::FromXml(*meta) : std::optional<RunOwner>();
    if (owner && !owner->Gone()) {
      out << "left domain " << d << ": run " << owner->tag << " of " << owner->harness_host
          << " (pid " << owner->pid << ") is not known to be gone\n";
      continue;
    }
    if (hv.Destroy(d).ok()) out << "destroyed domain " << d << "\n";
  }
  return Status::Ok();
}

// Deletes the volumes of runs that are gone from a remote host's pool (their ledger says whose
// they are; volumes without a ledger are left by a run that died while deleting them).
Status CleanVolumes(Hypervisor& hv, const topology::LibvirtHost& host, std::ostream& out) {
  OVL_ASSIGN_OR_RETURN(StoragePool pool, StoragePool::Ensure(&hv, host.pool, host.pool_path));
  OVL_ASSIGN_OR_RETURN(auto volumes, pool.List(kDomainPrefix));
  std::map<std::string, std::optional<RunOwner>> runs;  // by tag
  for (const std::string& v : volumes) {
    if (v.rfind("ovlnfs-image-", 0) == 0) continue;  // the shared guest image
    const std::string tag = v.substr(std::strlen(kDomainPrefix), 8);
    if (runs.count(tag)) continue;
    auto ledger = pool.Download(LedgerVolume(tag), 4096);
    runs[tag] = ledger.ok() ? RunOwner::FromJson(*ledger) : std::nullopt;
  }
  for (const std::string& v : volumes) {
    if (v.rfind("ovlnfs-image-", 0) == 0) continue;
    const auto& owner = runs[v.substr(std::strlen(kDomainPrefix), 8)];
    if (owner && !owner->Gone()) {
      out << "left volume " << v << ": run " << owner->tag << " of " << owner->harness_host
          << " is not known to be gone\n";
      continue;
    }
    if (pool.Delete(v).ok()) out << "deleted volume " << v << " (pool " << host.pool << ")\n";
  }
  return Status::Ok();
}

}  // namespace

Status CleanLeftovers(const std::string& cache_dir, const topology::LibvirtHost& host,
                      std::ostream& out) {
  std::error_code ec;
  std::unique_ptr<Hypervisor> hv;
  auto opened = Hypervisor::Open(host.uri);
  if (opened.ok()) hv = std::move(*opened);
  std::vector<std::string> live_domains;
  for (const auto& e : stdfs::directory_iterator(cache_dir + "/vms", ec)) {
    if (!e.is_directory(ec)) continue;
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
  if (!hv) {
    out << "libvirt at " << host.uri << " not reachable (" << opened.status().ToString()
        << "): no domains checked\n";
    return Status::Ok();
  }
  OVL_RETURN_IF_ERROR(CleanDomains(*hv, live_domains, out));
  if (RemoteUri(host.uri)) OVL_RETURN_IF_ERROR(CleanVolumes(*hv, host, out));
  return Status::Ok();
}

}  // namespace ovl::backend::libvirt
