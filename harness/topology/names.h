// The vocabulary of topology files: every enumerated value, its spelling in YAML and what it
// means. One table per enum so parsing, error messages ("expected one of: ...") and `harness
// list` all come from the same place.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ovl::topology {

template <typename E>
struct Named {
  std::string_view name;
  E value;
};

// The value spelled `name` in `table`, if any.
template <typename E, size_t N>
std::optional<E> FromName(const std::array<Named<E>, N>& table, std::string_view name) {
  for (const Named<E>& n : table) {
    if (n.name == name) return n.value;
  }
  return std::nullopt;
}

// The spelling of `value` in `table` ("?" if absent: tables cover their enums).
template <typename E, size_t N>
std::string_view NameOf(const std::array<Named<E>, N>& table, E value) {
  for (const Named<E>& n : table) {
    if (n.value == value) return n.name;
  }
  return "?";
}

// NameOf as a std::string, for building text and JSON.
template <typename E, size_t N>
std::string NameString(const std::array<Named<E>, N>& table, E value) {
  return std::string(NameOf(table, value));
}

// "a, b, c": the names of `table`, for error messages.
template <typename E, size_t N>
std::string JoinNames(const std::array<Named<E>, N>& table) {
  std::string out;
  for (const Named<E>& n : table) out += (out.empty() ? "" : ", ") + std::string(n.name);
  return out;
}

enum class Backend { kLocal, kLibvirt };
inline constexpr std::array<Named<Backend>, 2> kBackendNames{{
    {"local", Backend::kLocal},
    {"libvirt", Backend::kLibvirt},
}};
std::string_view SummaryOf(Backend backend);

enum class Variant {
  kReference,
  kReferenceVolatile,
  kReferenceNoindex,
  kKernelOverlay,
  kKnfsd,
  kKnfsdFuse,
  kGanesha,
};
inline constexpr std::array<Named<Variant>, 7> kVariantNames{{
    {"reference", Variant::kReference},
    {"reference-volatile", Variant::kReferenceVolatile},
    {"reference-noindex", Variant::kReferenceNoindex},
    {"kernel-overlay", Variant::kKernelOverlay},
    {"knfsd", Variant::kKnfsd},
    {"knfsd-fuse", Variant::kKnfsdFuse},
    {"ganesha", Variant::kGanesha},
}};

// What a variant is and which topology keys and placements it admits.
struct VariantInfo {
  Variant variant;
  std::string_view summary;
  // Non-empty for negative controls: why the variant must fail. A control has to declare
  // `expect: fail`, so a run where it passes everything is reported, not taken as success.
  std::string_view control_reason;
  bool serves_nfs = false;      // reached over NFS; else through host syscalls (kernel-overlay)
  bool kernel_overlay = false;  // exports a kernel overlayfs mount: accepts `overlay` options
  bool has_threads = false;     // a server process with a worker pool: accepts `threads`
  bool libvirt_only = false;    // needs a guest kernel (no nfsd on the host)
  bool local_only = false;      // runs on the host kernel itself
  // Every variant that serves NFS serves NFSv3, 4.1 and 4.2 (ClientSpec::nfs_versions).
};

const VariantInfo& InfoOf(Variant variant);

enum class Expect { kPass, kFail };
inline constexpr std::array<Named<Expect>, 2> kExpectNames{{
    {"pass", Expect::kPass},
    {"fail", Expect::kFail},
}};

enum class Access { kLibnfs, kKernelMount, kLocalSyscalls };
inline constexpr std::array<Named<Access>, 3> kAccessNames{{
    {"libnfs", Access::kLibnfs},
    {"kernel-mount", Access::kKernelMount},
    {"local-syscalls", Access::kLocalSyscalls},
}};
std::string_view SummaryOf(Access access);

// kUpgrade is a clean reboot into the server's other kernel (servers[].kernel_upgrade): judged
// as a reboot, planned only on servers that have one (plan/plan.h).
enum class FaultKind { kCrash, kReboot, kEvict, kClientEvict, kUpgrade };
inline constexpr std::array<Named<FaultKind>, 5> kFaultKindNames{{
    {"crash", FaultKind::kCrash},
    {"reboot", FaultKind::kReboot},
    {"evict", FaultKind::kEvict},
    {"client-evict", FaultKind::kClientEvict},
    {"upgrade", FaultKind::kUpgrade},
}};
// True for the faults that restart the server (it stops answering until it is back).
inline bool RestartsServer(FaultKind kind) {
  return kind == FaultKind::kCrash || kind == FaultKind::kReboot || kind == FaultKind::kUpgrade;
}
// True for client-evict: its target is a client; the others target servers.
inline bool TargetsClient(FaultKind kind) {
  return kind == FaultKind::kClientEvict;
}

enum class Accel { kAuto, kKvm, kTcg };
inline constexpr std::array<Named<Accel>, 3> kAccelNames{{
    {"auto", Accel::kAuto},
    {"kvm", Accel::kKvm},
    {"tcg", Accel::kTcg},
}};

enum class JobKind {
  kSeqRead,
  kSeqWrite,
  kRandRead4k,
  kRandWrite4k,
  kMetadataMix,
  kCreateStatUnlink,
};
inline constexpr std::array<Named<JobKind>, 6> kJobKindNames{{
    {"seq-read", JobKind::kSeqRead},
    {"seq-write", JobKind::kSeqWrite},
    {"rand-read-4k", JobKind::kRandRead4k},
    {"rand-write-4k", JobKind::kRandWrite4k},
    {"metadata-mix", JobKind::kMetadataMix},
    {"create-stat-unlink", JobKind::kCreateStatUnlink},
}};
// True for jobs that move file data (take `size`); the others work on many files (`files`).
inline bool IsDataJob(JobKind kind) {
  return kind <= JobKind::kRandWrite4k;
}

// What generates a throughput job's load in a client: harness-agent's own load generator
// (every job, every access path), or fio (data jobs, on a mounted path: kernel-mount clients and
// the physical reference).
enum class LoadEngine {
  kAgent,
  kFio,
};
inline constexpr std::array<Named<LoadEngine>, 2> kLoadEngineNames{{
    {"agent", LoadEngine::kAgent},
    {"fio", LoadEngine::kFio},
}};

// What a scenario requires beyond a server and one client. `upper` (an upper layer to write to)
// is implied by any step that changes something, `open-files` by an `open` step
// (scenario/scenario.h).
// kOpenState: a file another client removes stays alive for a client that keeps it open, which
// takes a server that knows the opens (NFSv4) or the host's own kernel (local syscalls).
enum class Need {
  kPowerLoss,
  kTwoClients,
  kRawNfs,
  kServerHandles,
  kUpper,
  kOpenFiles,
  kOpenState
};
inline constexpr std::array<Named<Need>, 7> kNeedNames{{
    {"power-loss", Need::kPowerLoss},
    {"two-clients", Need::kTwoClients},
    {"raw-nfs", Need::kRawNfs},
    {"server-handles", Need::kServerHandles},
    {"upper", Need::kUpper},
    {"open-files", Need::kOpenFiles},
    {"open-state", Need::kOpenState},
}};

// Where a server's layer lives: a directory on the harness's work filesystem, a tmpfs, or a
// loop-mounted ext4 or xfs image (made and removed by the harness), or, for the upper only,
// nowhere (a lower-only, read-only export).
enum class LayerFs { kSame, kTmpfs, kExt4, kXfs, kNone };
inline constexpr std::array<Named<LayerFs>, 5> kLayerFsNames{{
    {"same", LayerFs::kSame},
    {"tmpfs", LayerFs::kTmpfs},
    {"ext4", LayerFs::kExt4},
    {"xfs", LayerFs::kXfs},
    {"none", LayerFs::kNone},
}};

// Kernel series a libvirt node can boot from Debian packages.
inline constexpr std::array<std::string_view, 2> kKernelSeries{"6.1", "6.12"};

// "90s" -> "1m30s", 1250 ms -> "1s250ms": an exact spelling that ParseDuration reads back.
std::string FormatDuration(std::chrono::milliseconds d);
// "64M", "4K", "1000": binary multiples when exact.
std::string FormatSize(uint64_t bytes);

}  // namespace ovl::topology
