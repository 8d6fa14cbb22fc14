#include "backend/libvirt/vm.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "base/file_text.h"
#include "image/command.h"

namespace ovl::backend::libvirt {
namespace {

namespace stdfs = std::filesystem;
using json = nlohmann::json;

constexpr milliseconds kPingInterval{1000};
constexpr milliseconds kDiskToolTimeout{120'000};
// Margin on top of a command's own timeout for the reply to come back over the channel.
constexpr milliseconds kReplySlack{5'000};

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

uint64_t TreeBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(dir, ec);
       !ec && it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

// What `path` holds from byte `from` on ("" when it cannot be read).
std::string TextFrom(const std::string& path, uintmax_t from) {
  std::ifstream in(path, std::ios::binary);
  if (!in.seekg(static_cast<std::streamoff>(from))) return "";
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// "a b c", for messages.
std::string Spaced(const std::vector<std::string>& argv) {
  std::string what;
  for (const auto& a : argv) what += (what.empty() ? "" : " ") + a;
  return what;
}

}  // namespace

Result<std::unique_ptr<Vm>> Vm::Start(Hypervisor* hv, VmSpec spec) {
  std::unique_ptr<Vm> vm(new Vm(hv, std::move(spec)));
  OVL_RETURN_IF_ERROR(vm->MakeDisks());
  OVL_RETURN_IF_ERROR(vm->Boot());
  return vm;
}

Vm::~Vm() {
  control_.Close();
  if (created_ && hv_->IsActive(spec_.domain)) (void)hv_->Destroy(spec_.domain);
  CloseStreams();
  if (spec_.pool) {
    auto volumes = spec_.pool->List(spec_.domain + "-");
    for (const std::string& v : volumes.ok() ? *volumes : std::vector<std::string>{}) {
      (void)spec_.pool->Delete(v);
    }
  }
  std::error_code ec;
  stdfs::remove_all(spec_.state_dir, ec);
  stdfs::remove_all(spec_.socket_dir, ec);
}

std::string LayerDiskName(size_t n) {
  return VirtioDiskName(3 + n);
}

Status Vm::MakeDisks() {
  if (!spec_.layer_disks.empty() && spec_.data_disk_bytes == 0) {
    return Status::Error(EINVAL, spec_.node + ": layer disks need the data disk before them");
  }
  std::error_code ec;
  for (const auto& d :
       {spec_.state_dir, spec_.socket_dir, stdfs::path(spec_.console_log).parent_path().string()}) {
    stdfs::create_directories(d, ec);
    if (ec) return Status::Error(ec.value(), "create " + d + ": " + ec.message());
  }
  // Who owns these files: `harness clean` removes them once this process is gone.
  std::ofstream(spec_.state_dir + "/owner") << ::getpid() << "\n" << spec_.socket_dir << "\n";
  const std::string log = spec_.state_dir + "/tools.log";
  // A remote host's root overlay is made there, on its own copy of the base (UploadDisks).
  if (!spec_.pool) {
    OVL_RETURN_IF_ERROR(image::RunCommand({"qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw",
                                           "-b", spec_.base_image, spec_.state_dir + "/root.qcow2"},
                                          log, kDiskToolTimeout));
  }
  const uint64_t payload = TreeBytes(spec_.payload_dir) + 32 * 1024 * 1024;
  OVL_RETURN_IF_ERROR(image::MakeExt4(spec_.payload_dir, spec_.state_dir + "/payload.img", payload,
                                      "ovl-payload", log));
  if (spec_.data_disk_bytes > 0) {
    const std::string empty = spec_.state_dir + "/empty";
    stdfs::create_directories(empty, ec);
    OVL_RETURN_IF_ERROR(image::MakeExt4(empty, spec_.state_dir + "/data.img", spec_.data_disk_bytes,
                                        "ovl-data", log));
  }
  disks_ = {{spec_.state_dir + "/root.qcow2", "qcow2", false},
            {spec_.state_dir + "/payload.img", "raw", true}};
  if (spec_.data_disk_bytes > 0) disks_.push_back({spec_.state_dir + "/data.img", "raw", false});
  for (const std::string& disk : spec_.layer_disks) disks_.push_back({disk, "raw", false});
  return spec_.pool ? UploadDisks(&disks_) : Status::Ok();
}

Status Vm::UploadDisks(std::vector<DiskConfig>* disks) {
  std::error_code ec;
  for (DiskConfig& d : *disks) {
    const std::string volume = spec_.domain + "-" + stdfs::path(d.path).filename().string();
    if (d.format == "qcow2") {
      OVL_RETURN_IF_ERROR(
          spec_.pool->CreateOverlay(volume, spec_.base_image, spec_.base_image_bytes).status());
    } else {
      OVL_RETURN_IF_ERROR(spec_.pool->Upload(volume, d.path).status());
    }
    stdfs::remove(d.path, ec);
    d.path = volume;
    d.pool = spec_.pool->name();
  }
  return Status::Ok();
}

Status Vm::OpenStreams(const std::vector<ChannelConfig>& channels) {
  OVL_ASSIGN_OR_RETURN(auto console, hv_->OpenConsole(spec_.domain));
  OVL_ASSIGN_OR_RETURN(console_, ConsoleCopy::Start(std::move(console), spec_.console_log));
  for (const ChannelConfig& ch : channels) {
    OVL_ASSIGN_OR_RETURN(auto stream, hv_->OpenChannel(spec_.domain, ch.name));
    OVL_ASSIGN_OR_RETURN(auto proxy,
                         ChannelProxy::Start(std::move(stream),
                                             spec_.socket_dir + "/" + ch.name.substr(4) + ".sock"));
    channels_.push_back(std::move(proxy));
  }
  return Status::Ok();
}

void Vm::CloseStreams() {
  channels_.clear();
  console_.reset();
}

Status Vm::Boot() {
  DomainConfig c;
  c.name = spec_.domain;
  c.kvm = spec_.kvm;
  c.memory_mib = spec_.memory_mib;
  c.vcpus = spec_.vcpus;
  c.kernel = spec_.kernel.vmlinuz;
  c.initrd = spec_.kernel.initrd;
  // panic=0: a panicking guest stops (on_reboot would restart it forever); WaitReady sees the
  // panic on the console. loglevel=5: warnings and worse reach the console while booting (init.sh
  // lets info through once the guest is up), each line prefixed with its syslog priority, so that
  // the kernel's lines can be told from userspace's (backend/kernel_log.h).
  c.cmdline =
      "root=/dev/vda rw init=/sbin/ovl-init console=ttyS0 panic=0 quiet loglevel=5 "
      "console_msg_format=syslog";
  if (!spec_.cmdline_extra.empty()) c.cmdline += " " + spec_.cmdline_extra;
  c.disks = disks_;
  c.metadata = spec_.metadata;
  const bool remote = spec_.pool.has_value();
  // A remote host cannot see our files: the console is a pty and the channel sockets are placed
  // by libvirt there, both read through streams (OpenStreams).
  if (!remote) c.console_log = spec_.console_log;
  c.channels = {{"ovl.control", remote ? "" : spec_.socket_dir + "/control.sock"}};
  if (spec_.agent_channel) c.channels.push_back({"ovl.agent", remote ? "" : AgentSocket()});
  c.nics = spec_.nics;
  std::error_code ec;
  for (const auto& ch : c.channels) stdfs::remove(ch.socket, ec);
  const auto start = Clock::now();
  control_.Close();
  CloseStreams();
  OVL_RETURN_IF_ERROR(hv_->Create(DomainXml(c), remote));
  created_ = true;
  Status st = Status::Ok();
  if (remote) {
    st = OpenStreams(c.channels);
    if (st.ok()) st = hv_->Resume(spec_.domain);
  }
  if (st.ok()) {
    st = control_.Connect(spec_.socket_dir + "/control.sock", start + milliseconds(30'000));
  }
  if (st.ok()) st = WaitReady(start, "");
  if (!st.ok()) {
    (void)hv_->Destroy(spec_.domain);
    return st;
  }
  return Status::Ok();
}

Status Vm::WaitReady(Clock::time_point start, const std::string& old_boot_id) {
  const auto deadline = start + spec_.boot_timeout;
  // One ping per interval, bounded by the boot deadline. Pings sent before the guest opened its
  // port wait in the socket; their late replies carry old ids and are skipped.
  while (Clock::now() < deadline) {
    const uint64_t id = next_id_++;
    OVL_RETURN_IF_ERROR(control_.WriteLine(json{{"id", id}, {"cmd", "ping"}}.dump()));
    const auto until = std::min(deadline, Clock::now() + kPingInterval);
    for (;;) {
      auto line = control_.ReadLine(until);
      if (!line.ok()) {
        if (line.status().code() == ETIMEDOUT) break;
        return Failed(EIO, "control channel of " + spec_.node +
                               " broke while booting: " + line.status().ToString());
      }
      json reply = json::parse(*line, nullptr, false);
      if (reply.is_discarded() || !reply.value("ok", false)) continue;
      const std::string boot_id = reply.value("boot_id", "");
      if (boot_id.empty() || boot_id == old_boot_id) continue;
      boot_id_ = boot_id;
      boot_seconds_.push_back(SecondsSince(start));
      return Status::Ok();
    }
    if (!hv_->IsActive(spec_.domain))
      return Failed(EIO, "VM " + spec_.node + " stopped while booting");
    if (ConsoleTail(40).find("Kernel panic") != std::string::npos) {
      return Failed(EIO, "VM " + spec_.node + " panicked while booting");
    }
  }
  return Failed(ETIMEDOUT, "VM " + spec_.node + " did not boot within " +
                               std::to_string(spec_.boot_timeout.count() / 1000) + " s");
}

Status Vm::Failed(int code, const std::string& what) const {
  // A host that went away explains every failure of its VMs.
  const std::string lost =
      hv_->Alive() ? "" : "lost the connection to libvirt host " + hv_->uri() + ": ";
  return Status::Error(
      code, lost + what + "; console (" + spec_.console_log + ") tail:\n" + ConsoleTail());
}

Result<json> Vm::Call(json request, milliseconds timeout) {
  std::lock_guard<std::mutex> g(mu_);
  const uint64_t id = next_id_++;
  request["id"] = id;
  const std::string cmd = request.value("cmd", "?");
  if (Status sent = control_.WriteLine(request.dump()); !sent.ok()) {
    return Failed(sent.code(), spec_.node + ": " + cmd + ": " + sent.ToString());
  }
  const auto deadline = Clock::now() + timeout;
  // Bounded by the deadline; replies to abandoned requests are skipped. Waits in slices of a
  // second, so that a host that went away ends the wait at once.
  for (;;) {
    auto line = control_.ReadLine(std::min(deadline, Clock::now() + kPingInterval));
    if (!line.ok() && line.status().code() == ETIMEDOUT && Clock::now() < deadline &&
        hv_->Alive()) {
      continue;
    }
    if (!line.ok()) {
      return Failed(line.status().code(),
                    spec_.node + ": " + cmd + ": " + line.status().ToString());
    }
    json reply = json::parse(*line, nullptr, false);
    if (!reply.is_discarded() && reply.value("id", json()) == id) return reply;
  }
}

Result<ExecReply> Vm::Run(const std::vector<std::string>& argv, milliseconds timeout) {
  OVL_ASSIGN_OR_RETURN(json reply,
                       Call({{"cmd", "exec"}, {"argv", argv}, {"timeout_ms", timeout.count()}},
                            timeout + kReplySlack));
  const std::string output = reply.value("output", "");
  if (!reply.value("ok", false)) {
    return Failed(ETIMEDOUT, spec_.node + ": " + Spaced(argv) + ": " +
                                 reply.value("error", "failed") + "; output:\n" + output);
  }
  return ExecReply{reply.value("rc", -1), output};
}

Result<ExecReply> Vm::Exec(const std::vector<std::string>& argv, milliseconds timeout) {
  OVL_ASSIGN_OR_RETURN(ExecReply r, Run(argv, timeout));
  if (r.rc != 0) {
    return Failed(EIO, spec_.node + ": " + Spaced(argv) + " exited " + std::to_string(r.rc) +
                           "; output:\n" + r.output);
  }
  return r;
}

Status Vm::PowerCycle() {
  control_.Close();
  if (hv_->IsActive(spec_.domain)) OVL_RETURN_IF_ERROR(hv_->Destroy(spec_.domain));
  CloseStreams();
  created_ = false;
  return Boot();
}

Status Vm::RebootWith(const std::vector<std::string>& argv) {
  const std::string old = boot_id_;
  const auto start = Clock::now();
  OVL_RETURN_IF_ERROR(Exec(argv, milliseconds(120'000)).status());
  std::lock_guard<std::mutex> g(mu_);
  return WaitReady(start, old);
}

Status Vm::RestartInto(const image::KernelFiles& kernel, const std::vector<std::string>& argv) {
  std::error_code ec;
  const uintmax_t console_mark = stdfs::file_size(spec_.console_log, ec);
  OVL_RETURN_IF_ERROR(Exec(argv, milliseconds(120'000)).status());
  control_.Close();
  // The guest powers itself off once its disks are clean; a guest that does not is cut off
  // (it has synced and unmounted by then, so nothing acknowledged is lost). Without ACPI in the
  // guest, qemu does not end at the kernel's "reboot: Power down", and what the halted guest
  // prints afterwards (a soft lockup of its starved CPU under TCG) is not the server's doing:
  // the VM is cut off as soon as the kernel says it is done.
  const auto deadline = Clock::now() + milliseconds(60'000);
  while (hv_->IsActive(spec_.domain) && Clock::now() < deadline &&
         TextFrom(spec_.console_log, ec ? 0 : console_mark).find("reboot: Power down") ==
             std::string::npos) {
    std::this_thread::sleep_for(milliseconds(200));
  }
  if (hv_->IsActive(spec_.domain)) OVL_RETURN_IF_ERROR(hv_->Destroy(spec_.domain));
  CloseStreams();
  created_ = false;
  spec_.kernel = kernel;
  return Boot();
}

std::string Vm::AgentSocket() const {
  return spec_.socket_dir + "/agent.sock";
}

std::string Vm::ConsoleTail(size_t lines) const {
  return TailOfFile(spec_.console_log, lines);
}

}  // namespace ovl::backend::libvirt
