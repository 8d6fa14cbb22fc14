#include "backend/libvirt/vm_nodes.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <variant>

#include "backend/ganesha_config.h"
#include "backend/layer_fs.h"
#include "backend/libvirt/guest_scripts.h"
#include "backend/offline_disk.h"
#include "base/file_text.h"
#include "ops/fixture_json.h"

namespace ovl::backend::libvirt {
namespace {

namespace stdfs = std::filesystem;
using json = nlohmann::json;
using std::chrono::seconds;

constexpr milliseconds kRoleTimeout{120'000};  // serve/unserve/mount under TCG
constexpr milliseconds kShortTimeout{60'000};
constexpr milliseconds kRequestTimeout{120'000};  // one agent op (a hard mount may wait)
constexpr uint64_t kDataDiskBytes = 4 * topology::kGiB;
constexpr const char* kRole = "/payload/role.sh";
constexpr const char* kLayersDir = "/data/layers";  // role.sh's L
constexpr int kRoleRefused = 95;                    // role.sh's REFUSED

std::string Mac(size_t index, bool server_end) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "52:54:00:%02x:%02zx:%02zx", server_end ? 1 : 2,
                (index >> 8) & 0xff, index & 0xff);
  return buf;
}

std::string NetEntry(size_t index, bool server_end) {
  return Mac(index, server_end) + "=" + LinkAddress(index, server_end) + "/30";
}

Status Copy(const std::string& from, const std::string& to, bool recursive = false) {
  std::error_code ec;
  stdfs::create_directories(stdfs::path(to).parent_path(), ec);
  stdfs::copy(from, to,
              recursive ? stdfs::copy_options::recursive | stdfs::copy_options::copy_symlinks
                        : stdfs::copy_options::overwrite_existing,
              ec);
  if (ec) return Status::Error(ec.value(), "copy " + from + " to payload: " + ec.message());
  return Status::Ok();
}

// The files that boot `kernel`: a Debian series from the image, or a supplied bzImage whose
// modules are copied onto the payload of `vs` (it must have virtio and ext4 built in: no
// initrd), placed on the VM's host under `role` ("own", "upgrade").
Result<image::KernelFiles> StageKernel(LibvirtBackend& b, const topology::KernelSpec& kernel,
                                       const VmSpec& vs, const std::string& role) {
  if (kernel.series.empty()) {
    const std::string release = kernel.modules.filename();
    OVL_RETURN_IF_ERROR(Copy(kernel.modules, vs.payload_dir + "/modules/" + release, true));
    return b.PlaceKernel(vs, role, image::KernelFiles{"", release, kernel.bzimage, ""});
  }
  const image::KernelFiles* k = b.image().Kernel(kernel.series);
  if (k == nullptr) {
    return Status::Error(EINVAL,
                         "the guest image " + b.image().hash + " has no kernel " + kernel.series);
  }
  return *k;
}

// The spec of a node booting `kernel` (6.1 when unset).
Result<VmSpec> NewSpec(LibvirtBackend& b, const std::string& node,
                       const std::optional<topology::KernelSpec>& kernel) {
  if (kernel && kernel->series.empty()) {
    OVL_ASSIGN_OR_RETURN(VmSpec s, b.NewVmSpec(node, b.image().kernels.front().series));
    Result<image::KernelFiles> files = StageKernel(b, *kernel, s, "own");
    if (!files.ok()) {
      std::error_code ec;
      stdfs::remove_all(s.state_dir, ec);
      return files.status();
    }
    s.kernel = *files;
    return s;
  }
  return b.NewVmSpec(node, kernel ? kernel->series : "6.1");
}

// The layer setup's own filesystems as disks of the server VM (after vda root, vdb payload, vdc
// data), formatted here; `*layer_disks` gets role.sh's LAYER_DISKS ("lower1=vdd upper=vde").
// Lower layer 0 of a nested setup is the nested mount, on the data disk.
Status MakeLayerDisks(const topology::ServerSpec& spec, VmSpec* vs, std::string* layer_disks) {
  std::vector<std::pair<std::string, topology::LayerFs>> own;
  for (size_t i = 0; i < spec.lower_fs.size(); ++i) {
    if (spec.nested && i == 0) continue;
    own.emplace_back("lower" + std::to_string(i), spec.lower_fs[i]);
  }
  own.emplace_back("upper", spec.upper_fs);
  for (const auto& [layer, fs] : own) {
    if (fs == topology::LayerFs::kSame || fs == topology::LayerFs::kNone) continue;
    const std::string image = vs->state_dir + "/" + layer + ".img";
    OVL_RETURN_IF_ERROR(MakeLayerFsImage(fs, image, vs->state_dir + "/" + layer + ".mkfs.log"));
    *layer_disks +=
        (layer_disks->empty() ? "" : " ") + layer + "=" + LayerDiskName(vs->layer_disks.size());
    vs->layer_disks.push_back(image);
  }
  return Status::Ok();
}

// Writes the scripts and `files` (name -> text) and copies the binaries into the VM's payload dir.
Status StagePayload(const LibvirtBackend& b, const VmSpec& spec,
                    const std::map<std::string, std::string>& env,
                    const std::map<std::string, std::string>& files) {
  const auto& o = b.options();
  OVL_RETURN_IF_ERROR(Copy(o.guestd, spec.payload_dir + "/ovl-guestd"));
  OVL_RETURN_IF_ERROR(Copy(o.agent, spec.payload_dir + "/harness-agent"));
  OVL_RETURN_IF_ERROR(Copy(o.ovlnfsd, spec.payload_dir + "/ovlnfsd"));
  std::error_code ec;
  for (const auto& [name, text] : std::map<std::string, std::string>{
           {"init.sh", InitScript()}, {"role.sh", RoleScript()}, {"role.env", RoleEnv(env)}}) {
    OVL_RETURN_IF_ERROR(WriteFileText(spec.payload_dir + "/" + name, text, 0755));
  }
  for (const auto& [name, text] : files) {
    OVL_RETURN_IF_ERROR(WriteFileText(spec.payload_dir + "/" + name, text));
  }
  return Status::Ok();
}

// Stages the payload and boots the VM. Its state directory goes whatever fails: here when
// staging does, with the Vm (its destructor) once Vm::Start has it.
Result<std::unique_ptr<Vm>> StageAndStart(LibvirtBackend& b, const VmSpec& spec,
                                          const std::map<std::string, std::string>& env,
                                          const std::map<std::string, std::string>& files = {}) {
  if (Status st = StagePayload(b, spec, env, files); !st.ok()) {
    std::error_code ec;
    stdfs::remove_all(spec.state_dir, ec);
    return st;
  }
  return Vm::Start(b.hypervisor(), spec);
}

void ReportBoot(const LibvirtBackend& b, const Vm& vm) {
  const auto& boots = vm.boot_seconds();
  if (boots.empty()) return;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", boots.back());
  // One write: VMs may boot in parallel.
  *b.options().err << ("harness: VM " + vm.spec().node + " (" + vm.spec().kernel.release + ", " +
                       (vm.spec().kvm ? "kvm" : "tcg") + ") boot " + std::to_string(boots.size()) +
                       " took " + buf + " s\n")
                   << std::flush;
  std::ofstream(stdfs::path(vm.spec().console_log).parent_path() / "boots.json")
      << json{{"node", vm.spec().node},
              {"kernel", vm.spec().kernel.release},
              {"accel", vm.spec().kvm ? "kvm" : "tcg"},
              {"boot_seconds", boots}}
             .dump()
      << "\n";
}

class VmServer final : public ServerNode {
 public:
  // `upgrade`: the files of spec.kernel_upgrade, staged on the VM's payload (nullopt: none).
  VmServer(std::shared_ptr<LibvirtBackend> b, topology::ServerSpec spec, std::unique_ptr<Vm> vm,
           std::optional<image::KernelFiles> upgrade)
      : b_(std::move(b)),
        spec_(std::move(spec)),
        vm_(std::move(vm)),
        own_kernel_(vm_->spec().kernel),
        upgrade_kernel_(std::move(upgrade)) {}

  std::string Unsupported() override { return ""; }

  Status Setup(const ops::Fixture& fixture, const std::string&) override {
    OVL_RETURN_IF_ERROR(Teardown(false));
    // A case that upgraded the kernel leaves the VM on the other one; every case starts on the
    // server's own kernel.
    if (vm_->spec().kernel.release != own_kernel_.release) {
      OVL_RETURN_IF_ERROR(vm_->RestartInto(own_kernel_, {kRole, "halt"}));
      ReportBoot(*b_, *vm_);
    }
    const int layers = std::max(fixture.layers, static_cast<int>(spec_.layers));
    OVL_RETURN_IF_ERROR(Role({"wipe", std::to_string(layers)}));
    lowers_.clear();
    for (int i = 0; i < fixture.layers; ++i) {
      lowers_.push_back(kLayersDir + std::string("/lower") + std::to_string(i));
    }
    // Nested: the fixture's layer 0 is the nested mount's bottom layer (role.sh mount_nested).
    if (spec_.nested && !lowers_.empty()) lowers_[0] = kLayersDir + std::string("/nested-bottom");
    OVL_ASSIGN_OR_RETURN(json r, vm_->Call({{"cmd", "materialize"},
                                            {"fixture", ops::FixtureToJson(fixture)},
                                            {"lowers", lowers_}},
                                           kRoleTimeout));
    if (!r.value("ok", false)) {
      return Status::Error(EIO, spec_.name + ": materialize: " + r.value("error", r.dump()));
    }
    return Serve();
  }

  Status Crash() override {
    OVL_RETURN_IF_ERROR(vm_->PowerCycle());
    ReportBoot(*b_, *vm_);
    return serving_ ? Serve() : Status::Ok();
  }

  Status Reboot() override {
    OVL_RETURN_IF_ERROR(vm_->RebootWith({kRole, "reboot"}));
    ReportBoot(*b_, *vm_);
    return serving_ ? Serve() : Status::Ok();
  }

  Status Evict() override { return Role({"evict"}); }

  Status Upgrade() override {
    if (!upgrade_kernel_) return ServerNode::Upgrade();
    const bool on_own = vm_->spec().kernel.release == own_kernel_.release;
    OVL_RETURN_IF_ERROR(vm_->RestartInto(on_own ? *upgrade_kernel_ : own_kernel_, {kRole, "halt"}));
    ReportBoot(*b_, *vm_);
    return serving_ ? Serve() : Status::Ok();
  }

  // Stopped by a power cut (crash) or role.sh unserve (clean), edited by ovl-guestd (copy-layers:
  // by role.sh, onto a new filesystem), served again.
  Status Offline(const ops::OfflineEdit& edit) override {
    OVL_RETURN_IF_ERROR(RefuseNestedLowerEdit(spec_.nested, edit));
    if (edit.crash) {
      OVL_RETURN_IF_ERROR(vm_->PowerCycle());
      ReportBoot(*b_, *vm_);
    } else {
      OVL_RETURN_IF_ERROR(Role({"unserve"}));
    }
    if (edit.kind == ops::OfflineEdit::Kind::kCopyLayers) return ServeACopy();
    OVL_ASSIGN_OR_RETURN(json r, vm_->Call(OfflineEditRequest(edit, lowers_), kRoleTimeout));
    if (!r.value("ok", false)) {
      return Status::Error(r.value("errno", EIO),
                           spec_.name + ": offline-edit: " + r.value("error", r.dump()));
    }
    return Serve();
  }

  Status Teardown(bool keep) override {
    if (serving_) OVL_RETURN_IF_ERROR(Role({"unserve"}));
    serving_ = false;
    // The layers are on the VM's disk, which goes with the VM; `keep` leaves them until then.
    if (!keep) OVL_RETURN_IF_ERROR(Role({"wipe", "0"}));
    return Status::Ok();
  }

  // Checked inside the guest, on the layers the fixture was materialised into.
  Status VerifyLowerLayers(const ops::Fixture& fixture) override {
    OVL_ASSIGN_OR_RETURN(json r, vm_->Call({{"cmd", "verify-lowers"},
                                            {"fixture", ops::FixtureToJson(fixture)},
                                            {"lowers", lowers_}},
                                           kRoleTimeout));
    if (r.value("ok", false)) return Status::Ok();
    return Status::Error(r.value("errno", EIO), spec_.name + ": " + r.value("error", r.dump()));
  }

  agent::protocol::Connect ConnectRequest() const override {
    return {agent::protocol::SyscallsAccess{"/mnt/" + spec_.name}};
  }

  std::string LogTail() const override {
    std::string out = "console tail (" + vm_->spec().console_log + "):\n" + vm_->ConsoleTail(20);
    const bool ganesha = spec_.variant == topology::Variant::kGanesha;
    if (ganesha || !ExportsAMount()) {
      const std::string name = ganesha ? "ganesha" : "ovlnfsd";
      auto log = vm_->Exec({"tail", "-n", "20", "/run/" + name + ".log"}, milliseconds(10'000));
      if (log.ok()) out += name + " log tail:\n" + log->output;
    }
    return out;
  }

  Result<ScriptRun> RunScript(const std::string& script, milliseconds timeout) override {
    return vm_->Run({"sh", "-c", script}, timeout);
  }

  // The guest kernel's messages reach the serial console (vm.cc boots it with
  // console_msg_format=syslog; init.sh lets info messages through once the guest is up), which
  // is appended to one file across every boot of the VM.
  Result<std::unique_ptr<KernelLog>> OpenKernelLog() override {
    return OpenConsoleLog(vm_->spec().console_log);
  }

 private:
  // knfsd and ganesha export a mount that role.sh serve made (ovlnfsd serves the layers itself).
  bool ExportsAMount() const {
    return spec_.variant == topology::Variant::kKnfsd ||
           spec_.variant == topology::Variant::kKnfsdFuse ||
           spec_.variant == topology::Variant::kGanesha;
  }

  Status Role(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {kRole};
    argv.insert(argv.end(), args.begin(), args.end());
    return vm_->Exec(argv, kRoleTimeout).status();
  }

  // copy-layers: role.sh copies the layers to a new ext4 filesystem, which is served from now on
  // (until the next Setup). A server refusing the copy rejects the setup: UNSUPPORTED, as on the
  // local backend.
  Status ServeACopy() {
    OVL_ASSIGN_OR_RETURN(ExecReply copied, vm_->Run({kRole, "copy-layers"}, kRoleTimeout));
    if (copied.rc == kRoleRefused)
      return Status::Error(kErrNotSupp, "copy-layers: " + copied.output);
    if (copied.rc != 0) {
      return Status::Error(EIO, spec_.name + ": role.sh copy-layers exited " +
                                    std::to_string(copied.rc) + "; output:\n" + copied.output);
    }
    Status up = Serve();
    if (up.ok() || up.code() == kErrNotSupp) return up;
    return Status::Error(kErrNotSupp,
                         "serving the layers copied to a new filesystem: " + up.ToString());
  }

  // Mounts the layers and serves them. knfsd: UNSUPPORTED when the mount cannot encode file
  // handles (checked before exportfs, which would refuse it less precisely).
  Status Serve() {
    OVL_ASSIGN_OR_RETURN(ExecReply served, vm_->Run({kRole, "serve"}, kRoleTimeout));
    if (served.rc == kRoleRefused) {
      // Options or layers the kernel (or ovlnfsd) refuses: this setup cannot run, for its reason.
      (void)Teardown(false);
      return Status::Error(kErrNotSupp, "the server refuses this layer setup (overlay options " +
                                            spec_.overlay.MountOptions() + "): " + served.output);
    }
    if (served.rc != 0) {
      return Status::Error(EIO, spec_.name + ": role.sh serve exited " + std::to_string(served.rc) +
                                    "; output:\n" + served.output);
    }
    serving_ = true;
    if (!ExportsAMount()) return Status::Ok();
    OVL_ASSIGN_OR_RETURN(
        json r, vm_->Call({{"cmd", "handle-check"}, {"path", spec_.export_path}}, kShortTimeout));
    if (!r.value("ok", false)) {
      const int err = r.value("errno", 0);
      (void)Teardown(false);
      const std::string why =
          r.value("error", r.dump()) + " (overlay options " + spec_.overlay.MountOptions() + ")";
      return Status::Error(err == EOPNOTSUPP ? kErrNotSupp : EIO, why);
    }
    return Role({"export"});
  }

  std::shared_ptr<LibvirtBackend> b_;
  topology::ServerSpec spec_;
  std::unique_ptr<Vm> vm_;
  image::KernelFiles own_kernel_;                     // spec.kernel's files
  std::optional<image::KernelFiles> upgrade_kernel_;  // spec.kernel_upgrade's files
  std::vector<std::string> lowers_;                   // in the guest
  bool serving_ = false;
};

class VmAgent final : public AgentNode {
 public:
  VmAgent(std::shared_ptr<LibvirtBackend> b, std::string name, std::unique_ptr<Vm> vm,
          std::map<std::string, std::pair<std::string, std::string>> mounts,
          topology::ClientSpec spec)
      : b_(std::move(b)),
        name_(std::move(name)),
        vm_(std::move(vm)),
        mounts_(std::move(mounts)),
        spec_(std::move(spec)) {}

  ~VmAgent() override {
    if (agent_.WriteLine(agent::protocol::EncodeRequest(agent::protocol::Quit{})).ok()) {
      (void)agent_.ReadLine(Clock::now() + seconds(5));
    }
  }

  Status Connect() { return agent_.Connect(vm_->AgentSocket(), Clock::now() + seconds(30)); }

  const std::string& name() const override { return name_; }

  Result<agent::protocol::Reply> Request(const agent::protocol::Request& request) override {
    if (const auto* connect = std::get_if<agent::protocol::Connect>(&request)) {
      if (const auto* mount = std::get_if<agent::protocol::SyscallsAccess>(&connect->access)) {
        OVL_RETURN_IF_ERROR(MountFor(mount->root));
      }
    }
    // Replies to requests that timed out arrive late, in order: skip them first.
    while (stale_ > 0) {
      auto old = agent_.ReadLine(Clock::now() + agent::protocol::kLoadReplyTimeout);
      if (!old.ok())
        return Status::Error(old.status().code(),
                             name_ + ": agent still busy with an earlier request");
      --stale_;
    }
    OVL_RETURN_IF_ERROR(agent_.WriteLine(agent::protocol::EncodeRequest(request)));
    const milliseconds timeout = agent::protocol::ReplyTimeout(request, kRequestTimeout);
    auto line =
        AwaitReply([&](Clock::time_point deadline) { return agent_.ReadLine(deadline); }, timeout);
    if (!line.ok()) {
      if (line.status().code() == ETIMEDOUT) ++stale_;
      return Status::Error(line.status().code(), name_ + ": no agent reply within " +
                                                     std::to_string(timeout.count() / 1000) +
                                                     " s to " +
                                                     std::string(agent::protocol::CmdOf(request)));
    }
    Result<agent::protocol::Reply> reply = agent::protocol::DecodeReply(*line);
    if (!reply.ok()) return Status::Error(EPROTO, name_ + ": " + reply.status().message());
    return reply;
  }

  Status EvictClientCaches() override {
    return vm_->Exec({kRole, "evict"}, kShortTimeout).status();
  }

  std::string LogTail() const override {
    std::string out = "console tail (" + vm_->spec().console_log + "):\n" + vm_->ConsoleTail(20);
    auto log = vm_->Exec({"tail", "-n", "20", "/run/agent.log"}, milliseconds(10'000));
    if (log.ok()) out += "harness-agent log tail:\n" + log->output;
    return out;
  }

 private:
  // A fresh NFS mount of the server behind `root` ("/mnt/<server>[@v<version>]", ForNfsVersion)
  // with the version it names, or the client's first; other roots are the agent's business.
  Status MountFor(const std::string& root) {
    std::optional<MountRoot> mount = ParseMountRoot(root);
    if (!mount) return Status::Ok();
    auto it = mounts_.find(mount->server);
    if (it == mounts_.end()) return Status::Ok();
    const auto& [address, export_path] = it->second;
    std::string version = mount->nfs_version;
    if (version.empty() && !spec_.nfs_versions.empty()) version = spec_.nfs_versions.front();
    const std::string options = version.empty() ? spec_.mount_options : spec_.MountOptions(version);
    return vm_->Exec({kRole, "mount", mount->dir, address, export_path, options}, kRoleTimeout)
        .status();
  }

  std::shared_ptr<LibvirtBackend> b_;
  std::string name_;
  std::unique_ptr<Vm> vm_;
  std::map<std::string, std::pair<std::string, std::string>> mounts_;  // server -> addr, export
  topology::ClientSpec spec_;
  LineChannel agent_;
  int stale_ = 0;
};

}  // namespace

json OfflineEditRequest(const ops::OfflineEdit& edit, const std::vector<std::string>& lowers) {
  return {{"cmd", "offline-edit"},
          {"edit", ops::OfflineEditToJson(edit)},
          {"lowers", lowers},
          {"upper", kLayersDir + std::string("/upper")},
          {"work", kLayersDir + std::string("/work")}};
}

std::string LinkAddress(size_t index, bool server_end) {
  const size_t base = index * 4;
  return "10.200." + std::to_string((base >> 8) & 0xff) + "." +
         std::to_string((base & 0xff) + (server_end ? 1 : 2));
}

Result<std::unique_ptr<ServerNode>> StartVmServer(std::shared_ptr<LibvirtBackend> backend,
                                                  const topology::ServerSpec& spec,
                                                  const std::vector<plan::Link>& links) {
  std::string role;
  std::string flags;
  switch (spec.variant) {
    case topology::Variant::kKnfsd:
      role = "knfsd";
      break;
    case topology::Variant::kKnfsdFuse:
      role = "knfsd-fuse";
      break;
    case topology::Variant::kGanesha:
      role = "ganesha";
      break;
    case topology::Variant::kReference:
      role = "reference";
      if (spec.plant) flags = "--plant " + std::string(PlantName(*spec.plant));
      break;
    case topology::Variant::kReferenceVolatile:
      role = "reference";
      flags = "--handles volatile";
      break;
    case topology::Variant::kReferenceNoindex:
      role = "reference";
      flags = "--no-index";
      break;
    default:
      return Status::Error(
          EINVAL, spec.name + ": variant " +
                      std::string(topology::NameOf(topology::kVariantNames, spec.variant)) +
                      " does not run in a VM");
  }
  std::map<std::string, std::string> files;
  if (spec.variant == topology::Variant::kGanesha) {
    // NFSv3 and v4.x on the guest's links; its client records on the data disk (role.sh boot).
    GaneshaConfig config;
    config.nfs4 = true;
    config.lease = spec.nfs4.lease;
    config.grace = spec.nfs4.grace;
    config.recovery_root = "/data/ganesha-recovery";
    config.export_dir = config.pseudo_path = spec.export_path;
    files["ganesha.conf"] = GaneshaConfigText(config);
  }
  OVL_ASSIGN_OR_RETURN(VmSpec vs, NewSpec(*backend, spec.name, spec.kernel));
  vs.data_disk_bytes = kDataDiskBytes;
  std::optional<image::KernelFiles> upgrade;
  std::string layer_disks;
  Status staged = MakeLayerDisks(spec, &vs, &layer_disks);
  if (staged.ok() && spec.kernel_upgrade) {
    Result<image::KernelFiles> files = StageKernel(*backend, *spec.kernel_upgrade, vs, "upgrade");
    if (files.ok()) upgrade = *files;
    staged = files.status();
  }
  if (!staged.ok()) {
    std::error_code ec;
    stdfs::remove_all(vs.state_dir, ec);
    return staged;
  }
  std::string net;
  for (size_t i = 0; i < links.size(); ++i) {
    if (links[i].server != spec.name) continue;
    vs.nics.push_back({Mac(i, true), links[i].server_port, links[i].client_port});
    net += (net.empty() ? "" : " ") + NetEntry(i, true);
  }
  OVL_ASSIGN_OR_RETURN(auto vm,
                       StageAndStart(*backend, vs,
                                     {{"NAME", spec.name},
                                      {"ROLE", role},
                                      {"NET", net},
                                      {"EXPORT", spec.export_path},
                                      {"OVL_OPTS", spec.overlay.MountOptions()},
                                      {"LAYER_DISKS", layer_disks},
                                      {"NO_UPPER", spec.has_upper() ? "" : "1"},
                                      {"NESTED", spec.nested ? "1" : ""},
                                      {"OVLNFSD_FLAGS", flags},
                                      {"THREADS", std::to_string(spec.threads)},
                                      {"NFS4_LEASE", std::to_string(spec.nfs4.lease.count())},
                                      {"NFS4_GRACE", std::to_string(spec.nfs4.grace.count())}},
                                     files));
  ReportBoot(*backend, *vm);
  return std::unique_ptr<ServerNode>(
      std::make_unique<VmServer>(backend, spec, std::move(vm), std::move(upgrade)));
}

Result<std::unique_ptr<AgentNode>> StartVmAgent(std::shared_ptr<LibvirtBackend> backend,
                                                const topology::ClientSpec& spec,
                                                const std::string& instance,
                                                const std::vector<topology::ServerSpec>& servers,
                                                const std::vector<plan::Link>& links) {
  if (spec.access != topology::Access::kKernelMount) {
    return Status::Error(EINVAL, instance + ": only kernel-mount clients run in a VM");
  }
  OVL_ASSIGN_OR_RETURN(VmSpec vs, NewSpec(*backend, instance, spec.kernel));
  vs.agent_channel = true;
  std::string net;
  std::map<std::string, std::pair<std::string, std::string>> mounts;
  for (size_t i = 0; i < links.size(); ++i) {
    if (links[i].client != instance) continue;
    vs.nics.push_back({Mac(i, false), links[i].client_port, links[i].server_port});
    net += (net.empty() ? "" : " ") + NetEntry(i, false);
    std::string export_path = "/export";
    for (const auto& s : servers) {
      if (s.name == links[i].server) export_path = s.export_path;
    }
    mounts[links[i].server] = {LinkAddress(i, true), export_path};
  }
  OVL_ASSIGN_OR_RETURN(
      auto vm, StageAndStart(*backend, vs, {{"NAME", instance}, {"ROLE", "client"}, {"NET", net}}));
  ReportBoot(*backend, *vm);
  auto agent = std::make_unique<VmAgent>(backend, instance, std::move(vm), std::move(mounts), spec);
  OVL_RETURN_IF_ERROR(agent->Connect());
  return std::unique_ptr<AgentNode>(std::move(agent));
}

}  // namespace ovl::backend::libvirt
