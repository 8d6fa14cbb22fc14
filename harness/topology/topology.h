// Topology: the validated content of a topology file. Every field holds a checked value with its
// default applied, cross references resolved (client -> servers, fault -> target) and relative
// paths made absolute, so later stages never re-validate. docs/topology.md documents each key.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/planted_bugs.h"
#include "topology/diagnostics.h"
#include "topology/names.h"

namespace ovl::topology {

using std::chrono::milliseconds;

inline constexpr uint64_t kKiB = 1ull << 10;
inline constexpr uint64_t kMiB = 1ull << 20;
inline constexpr uint64_t kGiB = 1ull << 30;

// Kernel overlayfs mount options, as the kernel spells their values. An empty value is not
// passed to mount(2), so the kernel's default applies.
struct OverlayOptions {
  std::string index = "on";       // on | off
  std::string nfs_export = "on";  // on | off
  std::string redirect_dir;       // on | follow | nofollow | off
  std::string xino;               // on | off | auto
  std::string metacopy;           // on | off
  std::string uuid;               // on | off | null | auto

  // "index=on,nfs_export=on,...": the non-empty options in mount(8) syntax.
  std::string MountOptions() const;
};

// The guest kernel a libvirt node boots: a Debian series, or a supplied image with modules.
struct KernelSpec {
  std::string series;             // "6.1" or "6.12"; empty for a supplied kernel
  std::filesystem::path bzimage;  // supplied kernel image (absolute)
  std::filesystem::path modules;  // its modules tree, lib/modules/<release> (absolute)

  // The Debian kernel of `series`.
  static KernelSpec Debian(std::string series);
  // "6.1" or "bzimage PATH".
  std::string Describe() const;
};

// Lower-layer content: a named fixture from workloads/fixtures, or one generated from a seed.
struct FixtureSpec {
  std::string name;  // empty: generated from the fields below
  uint64_t files = 100;
  uint64_t dirs = 10;
  uint64_t size = 64 * kKiB;  // bytes per generated file
  uint64_t hardlinks = 10;    // files given a second name
  uint64_t seed = 1;          // fixed by default: data stays the same whatever the run seed

  // "basic" or "generated files=100 dirs=10 size=64K hardlinks=10 seed=1".
  std::string Describe() const;
};

// NFSv4 state times of a server (ServerSpec::nfs4).
struct Nfs4Times {
  std::chrono::seconds lease{10};
  std::chrono::seconds grace{10};
};

struct ServerSpec {
  std::string name;
  Variant variant = Variant::kReference;
  Backend backend = Backend::kLocal;
  Expect expect = Expect::kPass;
  uint64_t layers = 1;  // lower directories
  // The filesystem of each lower layer (layers entries, top-most first) and of the upper;
  // LayerFs::kNone for the upper makes a lower-only (read-only) export.
  std::vector<LayerFs> lower_fs{LayerFs::kSame};
  LayerFs upper_fs = LayerFs::kSame;
  // Lower layer 0 is itself an overlay mount (read-only) of two layers of its own.
  bool nested = false;
  OverlayOptions overlay;            // meaningful for InfoOf(variant).kernel_overlay only
  std::optional<KernelSpec> kernel;  // set exactly for libvirt servers
  // The kernel an `upgrade` fault boots the server into (and the next one back into `kernel`);
  // libvirt servers only. With it, every scenario that expands into `reboot` also expands into
  // `upgrade` on this server.
  std::optional<KernelSpec> kernel_upgrade;
  FixtureSpec fixture;
  uint64_t threads = 8;  // meaningful for InfoOf(variant).has_threads only
  std::string export_path = "/export";
  // NFSv4 lease and grace times (`nfs4: {lease, grace}`), for servers that serve NFSv4: short by
  // default so that a restart's grace period does not dominate a case (the kernel's defaults are
  // 90 s); knfsd takes 10 s to 3600 s.
  Nfs4Times nfs4{};
  // A deliberate mistake in ovlnfsd (variant reference only; the server is then a negative
  // control and must declare expect: fail). base/planted_bugs.h, docs/planted-bugs.md.
  std::optional<Plant> plant;
  // The libvirt host (LibvirtSettings::hosts) this server's VM is pinned to with `host:`; empty:
  // the plan places it (plan::MakePlan). libvirt servers only.
  std::string host;
  Pos pos;  // the entry in the file

  // True when the server has an upper layer (not a lower-only export).
  bool has_upper() const { return upper_fs != LayerFs::kNone; }
  // "layers 2" or, for a layer setup, "layers 2 (lower same,ext4; upper none; nested)".
  std::string DescribeLayers() const;
};

struct ClientSpec {
  std::string name;
  Access access = Access::kLibnfs;
  Backend backend = Backend::kLocal;
  uint64_t count = 1;
  std::vector<std::string> servers;  // never empty: the servers this client works on
  // kernel-mount only: the mount options as written (or the default), and the NFS versions the
  // client mounts, each a case of its own ("3", "4.1", "4.2"; default {"3"}, or the
  // version `mount_options` names). MountOptions(version) is what a case mounts with.
  std::string mount_options;
  std::vector<std::string> nfs_versions;
  std::optional<KernelSpec> kernel;  // set exactly for libvirt clients
  // True for the local-syscalls client the loader adds to a kernel-overlay server that has none.
  bool implicit = false;
  // The libvirt host every instance of this client is pinned to with `host:`; empty: the client
  // goes wherever its servers are. A server without `host:` that it reaches runs there too,
  // because links never cross hosts. libvirt clients only.
  std::string host;
  // `per_server: true`: each instance is replicated once per server it reaches, so every server
  // VM gets client VMs of its own and runs in a lane of its own. libvirt clients only.
  bool per_server = false;
  Pos pos;

  // The instances' names as declared: `name` when count is 1, else name-1 .. name-<count>. The
  // plan derives its instances from these ("<instance>@<server>", "<instance>@<host>"); match
  // them through plan::ClientInstance::client, not by these names.
  std::vector<std::string> InstanceNames() const;
  // `mount_options` with its NFS version option (vers=, nfsvers=) replaced by vers=`version`.
  std::string MountOptions(std::string_view version) const;
};

// True for "4.1", "4.2": a version whose server keeps open state and grace periods.
inline bool IsNfs4(std::string_view nfs_version) {
  return nfs_version.rfind('4', 0) == 0;
}

// The NFS version an option string names with vers= or nfsvers= ("4.2"), or "".
std::string NfsVersionOf(std::string_view mount_options);

struct MixedSpec {
  bool enabled = false;
  uint64_t ops = 10000;              // bound on operations, over all clients
  std::vector<std::string> clients;  // client names (all clients unless listed)
};

struct ThroughputJob {
  JobKind kind = JobKind::kSeqRead;
  uint64_t size = 64 * kMiB;  // data jobs: bytes per client
  uint64_t files = 1000;      // metadata jobs: files per client
  uint64_t clients = 1;       // concurrent client instances
  milliseconds duration{10'000};
  LoadEngine engine = LoadEngine::kAgent;
};

struct WorkloadsSpec {
  bool all_scenarios = true;           // `scenarios: all`
  std::vector<std::string> scenarios;  // resolved ids, in catalogue order when `all`
  MixedSpec mixed;
  std::vector<ThroughputJob> throughput;
};

// When a fault fires during the mixed workload.
enum class Trigger { kStep, kTime, kRandom };

struct FaultSpec {
  FaultKind kind = FaultKind::kCrash;
  std::string target;  // a server name, or a client name for client-evict
  Trigger trigger = Trigger::kRandom;
  uint64_t step = 0;     // kStep: after this many completed operations
  milliseconds time{0};  // kTime: offset from the start of the mixed workload
  double rate = 1.0;     // kRandom: faults per minute of `duration`
  std::string path;      // "faults[2]", to name the origin of scheduled events
};

struct ImageRecipe {
  std::string suite = "bookworm";
  std::string mirror = "http://deb.debian.org/debian";
  std::vector<std::string> packages;  // extra Debian packages
  std::vector<std::string> kernels;   // Debian kernel series; empty: every series
  uint64_t size = 4 * kGiB;
};

// A machine whose libvirt runs VMs of the topology. A link is a pair of qemu UDP sockets on one
// host's 127.0.0.1, so a client VM and every server VM it reaches share a host.
struct LibvirtHost {
  std::string name;  // node-name rules ([a-z0-9-]); "default" for the `libvirt.uri` shorthand
  std::string uri;   // the libvirt connection: qemu:///system, qemu+ssh://root@b/system
  std::string pool = "ovlnfs-harness";                        // storage pool of the VM disks
  std::string pool_path = "/var/lib/libvirt/ovlnfs-harness";  // the pool's directory, on that host
  Pos pos;  // the entry in the file (of `uri` for the shorthand; none when defaulted)
};

struct LibvirtSettings {
  // The connection of the shorthand `libvirt.uri`: one host, named "default". With `hosts` it is
  // the first host's uri, so code that knows one connection only still opens a real one.
  std::string uri = "qemu:///system";
  // Never empty once loaded: `libvirt.hosts` in file order, or the one "default" host of `uri`.
  std::vector<LibvirtHost> hosts;
  Accel accel = Accel::kAuto;
  std::filesystem::path cache_dir;  // empty: image::kDefaultCacheDir (/var/cache/ovlnfs-harness)
  ImageRecipe image;
  uint64_t memory = 1 * kGiB;  // per VM
  uint64_t vcpus = 1;          // per VM
  milliseconds boot_timeout{180'000};
};

struct Topology {
  std::string name;
  std::string file;  // as named by the user
  uint64_t seed = 1;
  milliseconds duration{60'000};  // bound on the mixed workload; random faults fall inside it
  Backend backend = Backend::kLocal;
  LibvirtSettings libvirt;
  std::vector<ServerSpec> servers;
  std::vector<ClientSpec> clients;  // declared ones first, then implicit ones
  WorkloadsSpec workloads;
  std::vector<FaultSpec> faults;

  const ServerSpec* FindServer(std::string_view name) const;
  const ClientSpec* FindClient(std::string_view name) const;
  // The libvirt host `name` (libvirt.hosts), or null.
  const LibvirtHost* FindHost(std::string_view name) const;
  // True when some node runs in a VM (the libvirt settings then matter).
  bool UsesLibvirt() const;
  // "name: 4 servers, 1 client (2 instances), 18 scenarios, mixed 10000 ops / 60s, 3 faults".
  std::string Summary() const;
};

}  // namespace ovl::topology
