#include "topology/names.h"

namespace ovl::topology {
namespace {

// Order follows the Variant enum.
constexpr std::array<VariantInfo, 7> kVariantInfo{{
    {.variant = Variant::kReference,
     .summary = "ovlnfsd, the reference userspace NFSv3 and NFSv4.1/4.2 overlay server",
     .control_reason = "",
     .serves_nfs = true,
     .kernel_overlay = false,
     .has_threads = true,
     .libvirt_only = false,
     .local_only = false},
    {.variant = Variant::kReferenceVolatile,
     .summary = "ovlnfsd with per-boot volatile handles (negative control)",
     .control_reason = "its handles do not survive a restart, so reboot and crash cases must fail",
     .serves_nfs = true,
     .kernel_overlay = false,
     .has_threads = true,
     .libvirt_only = false,
     .local_only = false},
    {.variant = Variant::kReferenceNoindex,
     .summary = "ovlnfsd without the persistent index (negative control)",
     .control_reason = "without the index, handles of copied-up or renamed files cannot be "
                       "decoded after eviction",
     .serves_nfs = true,
     .kernel_overlay = false,
     .has_threads = true,
     .libvirt_only = false,
     .local_only = false},
    {.variant = Variant::kKernelOverlay,
     .summary = "host kernel overlayfs via name_to_handle_at/open_by_handle_at, no NFS",
     .control_reason = "",
     .serves_nfs = false,
     .kernel_overlay = true,
     .has_threads = false,
     .libvirt_only = false,
     .local_only = true},
    {.variant = Variant::kKnfsd,
     .summary = "Linux knfsd exporting kernel overlayfs, in a VM",
     .control_reason = "",
     .serves_nfs = true,
     .kernel_overlay = true,
     .has_threads = true,
     .libvirt_only = true,
     .local_only = false},
    {.variant = Variant::kKnfsdFuse,
     .summary = "Linux knfsd exporting a fuse-overlayfs mount, in a VM (negative control)",
     .control_reason = "fuse node ids do not persist across a restart, so held handles go stale",
     .serves_nfs = true,
     .kernel_overlay = false,
     .has_threads = true,
     .libvirt_only = true,
     .local_only = false},
    {.variant = Variant::kGanesha,
     .summary = "nfs-ganesha FSAL_VFS exporting kernel overlayfs",
     .control_reason = "",
     .serves_nfs = true,
     .kernel_overlay = true,
     .has_threads = true,
     .libvirt_only = false,
     .local_only = false},
}};

}  // namespace

const VariantInfo& InfoOf(Variant variant) {
  return kVariantInfo[static_cast<size_t>(variant)];
}

std::string_view SummaryOf(Backend backend) {
  switch (backend) {
    case Backend::kLocal:
      return "child processes on this host, over loopback";
    case Backend::kLibvirt:
      return "libvirt VMs joined by point-to-point UDP socket links on 127.0.0.1";
  }
  return "";
}

std::string_view SummaryOf(Access access) {
  switch (access) {
    case Access::kLibnfs:
      return "userspace raw NFSv3 (libnfs): holds raw server handles";
    case Access::kKernelMount:
      return "Linux kernel NFS mount in a client VM, handles via open_by_handle_at";
    case Access::kLocalSyscalls:
      return "host syscalls on a kernel overlayfs mount, handles via open_by_handle_at";
  }
  return "";
}

std::string FormatDuration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  constexpr std::array<std::pair<int64_t, std::string_view>, 4> kUnits{
      {{3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}}};
  for (const auto& [per, unit] : kUnits) {
    if (ms >= per) {
      out += std::to_string(ms / per) + std::string(unit);
      ms %= per;
    }
  }
  return out;
}

std::string FormatSize(uint64_t bytes) {
  constexpr std::array<std::pair<uint64_t, char>, 3> kUnits{
      {{1ull << 30, 'G'}, {1ull << 20, 'M'}, {1ull << 10, 'K'}}};
  for (const auto& [per, unit] : kUnits) {
    if (bytes != 0 && bytes % per == 0) return std::to_string(bytes / per) + unit;
  }
  return std::to_string(bytes);
}

}  // namespace ovl::topology
