// One harness VM: its disks (a qcow2 overlay on the cached base image, a payload disk, an
// optional data disk), its transient libvirt domain, and its control channel to ovl-guestd
// (guest/guestd.h). Everything it made is gone when it is destroyed.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "backend/libvirt/channel.h"
#include "backend/libvirt/domain_xml.h"
#include "backend/libvirt/hypervisor.h"
#include "backend/libvirt/storage.h"
#include "backend/libvirt/stream_pump.h"
#include "backend/node.h"
#include "base/status.h"
#include "image/image.h"

namespace ovl::backend::libvirt {

using std::chrono::milliseconds;

struct VmSpec {
  std::string node;    // topology name ("knfsd", "kclient-2")
  std::string domain;  // libvirt domain name (project prefix, run tag, node)
  bool kvm = false;
  uint64_t memory_mib = 1024;
  uint64_t vcpus = 1;
  image::KernelFiles kernel;
  std::string base_image;         // raw ext4 base of the root overlay
  uint64_t base_image_bytes = 0;  // its size
  std::string state_dir;          // disks live here (created; removed with the VM)
  std::string socket_dir;         // channel sockets (short path; created; removed with the VM)
  std::string console_log;        // serial console, appended across boots
  std::string payload_dir;        // staged tree that becomes the payload disk (vdb)
  uint64_t data_disk_bytes = 0;   // > 0: an empty ext4 data disk (vdc) that outlives crashes
  // Raw disk images made by the caller under state_dir, attached after the data disk (which they
  // need; LayerDiskName says what the guest calls them): a server's layer filesystems.
  std::vector<std::string> layer_disks;
  bool agent_channel = false;  // a second port "ovl.agent" for harness-agent
  std::vector<NicConfig> nics;
  milliseconds boot_timeout{180'000};
  std::string cmdline_extra;
  std::string metadata;  // DomainConfig::metadata
  // Set for a VM on another host than the harness's: its disks are made here under state_dir,
  // then uploaded into volumes "<domain>-..." of this pool (base_image and kernel are paths on
  // that host); its console and channels are libvirt streams, copied to console_log and served
  // on socket_dir here (stream_pump.h).
  std::optional<StoragePool> pool;
};

// What a command run in the guest gave: its exit code and output (ServerNode::RunScript's).
using ExecReply = ScriptRun;

// The guest's name of VmSpec::layer_disks[n]: after vda root, vdb payload and vdc data, "vdd"...
std::string LayerDiskName(size_t n);

class Vm {
 public:
  // Makes the disks and boots the VM until ovl-guestd answers (bounded by boot_timeout). A VM
  // that does not come up is destroyed; the error holds the console tail.
  static Result<std::unique_ptr<Vm>> Start(Hypervisor* hv, VmSpec spec);
  ~Vm();  // destroys the domain, removes disks, sockets and state
  Vm(const Vm&) = delete;
  Vm& operator=(const Vm&) = delete;

  const VmSpec& spec() const { return spec_; }
  // Seconds each boot took, from domain creation (or reboot) to ovl-guestd's first answer.
  const std::vector<double>& boot_seconds() const { return boot_seconds_; }

  // Sends one guestd request (an "id" is added) and waits up to `timeout` for its reply.
  Result<nlohmann::json> Call(nlohmann::json request, milliseconds timeout);
  // Runs `argv` in the guest; an error when it cannot run, times out or exits non-zero (with
  // its output and the console tail).
  Result<ExecReply> Exec(const std::vector<std::string>& argv, milliseconds timeout);
  // Exec, but any exit code is a reply: an error only when `argv` cannot run or times out.
  Result<ExecReply> Run(const std::vector<std::string>& argv, milliseconds timeout);
  // Power cut: virDomainDestroy (the guest's page cache is lost), then a fresh boot on the same
  // disks.
  Status PowerCycle();
  // Runs `argv` (which must arrange a guest reboot) and waits for the next boot.
  Status RebootWith(const std::vector<std::string>& argv);
  // Runs `argv` (which must arrange a clean guest power-off), waits for the domain to stop
  // (destroying it after a bound), and boots `kernel` on the same disks.
  Status RestartInto(const image::KernelFiles& kernel, const std::vector<std::string>& argv);
  // The path of the host end of the "ovl.agent" channel.
  std::string AgentSocket() const;
  // The last `lines` lines of the serial console.
  std::string ConsoleTail(size_t lines = 25) const;

 private:
  Vm(Hypervisor* hv, VmSpec spec) : hv_(hv), spec_(std::move(spec)) {}
  Status MakeDisks();
  Status Boot();
  // Pings until a guest with a boot id other than `old_boot_id` answers, the domain stops,
  // the console shows a panic, or `deadline` passes.
  Status WaitReady(Clock::time_point start, const std::string& old_boot_id);
  Status Failed(int code, const std::string& what) const;
  // Remote VMs: uploads the disks MakeDisks made into volumes of spec_.pool.
  Status UploadDisks(std::vector<DiskConfig>* disks);
  // Remote VMs: the console and channel streams of the domain just created (paused).
  Status OpenStreams(const std::vector<ChannelConfig>& channels);
  // Remote VMs: ends the streams of a domain that is gone.
  void CloseStreams();

  Hypervisor* hv_;
  VmSpec spec_;
  std::mutex mu_;  // one request at a time on the control channel
  LineChannel control_;
  uint64_t next_id_ = 1;
  std::string boot_id_;
  bool created_ = false;
  std::vector<double> boot_seconds_;
  std::vector<DiskConfig> disks_;  // as the domain XML names them
  std::unique_ptr<ConsoleCopy> console_;
  std::vector<std::unique_ptr<ChannelProxy>> channels_;
};

}  // namespace ovl::backend::libvirt
