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

struct ServerSpec {
  std::string name;
  Variant variant = Variant::kReference;
  Backend backend = Backend::kLocal;
  Expect expect = Expect::kPass;
  uint64_t layers = 1;               // lower directories
  OverlayOptions overlay;            // meaningful for InfoOf(variant).kernel_overlay only
  std::optional<KernelSpec> kernel;  // set exactly for libvirt servers
  FixtureSpec fixture;
  uint64_t threads = 8;  // meaningful for InfoOf(variant).has_threads only
  std::string export_path = "/export";
  // A deliberate mistake in ovlnfsd (variant reference only; the server is then a negative
  // control and must declare expect: fail). base/planted_bugs.h, docs/planted-bugs.md.
  std::optional<Plant> plant;
  Pos pos;  // the entry in the file
};

struct ClientSpec {
  std::string name;
  Access access = Access::kLibnfs;
  Backend backend = Backend::kLocal;
  uint64_t count = 1;
  std::vector<std::string> servers;  // never empty: the servers this client works on
  std::string mount_options;         // kernel-mount only
  std::optional<KernelSpec> kernel;  // set exactly for libvirt clients
  // True for the local-syscalls client the loader adds to a kernel-overlay server that has none.
  bool implicit = false;
  Pos pos;

  // The instances' names: `name` when count is 1, else name-1 .. name-<count>.
  std::vector<std::string> InstanceNames() const;
};

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

struct LibvirtSettings {
  std::string uri = "qemu:///system";
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
  // True when some node runs in a VM (the libvirt settings then matter).
  bool UsesLibvirt() const;
  // "name: 4 servers, 1 client (2 instances), 18 scenarios, mixed 10000 ops / 60s, 3 faults".
  std::string Summary() const;
};

}  // namespace ovl::topology
