// Servers and clients of a topology file, with the placement rules that tie them together.
#include <fmt/format.h>

#include <algorithm>
#include <system_error>

#include "topology/parse_internal.h"

namespace ovl::topology::internal {
namespace {

// actimeo=0: the client asks the server instead of answering from its attribute cache, so a
// handle another client made stale reads STALE, as the server says, not the cached attributes.
constexpr std::string_view kDefaultMountOptions = "vers=3,proto=tcp,hard,actimeo=0";
// NFSv4.0 is left out: Linux turned open_by_handle_at off on 4.0 mounts in 2022 ("NFSv4: Turn off
// open-by-filehandle and NFS re-export for NFSv4.0"), and every scenario holds handles that way.
constexpr std::string_view kNfsVersions[] = {"3", "4.1", "4.2"};

// Records `name` as taken, or reports that it already is.
bool ClaimName(ParseContext* ctx, const std::string& name, Pos pos, const std::string& path) {
  auto [it, inserted] = ctx->names.emplace(name, pos);
  if (!inserted) {
    ctx->sink->Error(pos, path,
                     fmt::format("duplicate name '{}' (first used at line {}); server, client "
                                 "and client instance names share one namespace",
                                 name, it->second.line));
  }
  return inserted;
}

// Reads one overlay option: the kernel's spelling, one of `allowed`.
void ReadOverlayOption(MapReader* m, std::string_view key,
                       std::initializer_list<std::string_view> allowed, DiagnosticSink* sink,
                       std::string* out) {
  Field f = m->Optional(key);
  if (!f.present()) return;
  // YAML reads a bare `null` as no value; `uuid: null` means the kernel's value "null".
  const bool null_value =
      f.node.IsNull() && std::find(allowed.begin(), allowed.end(), "null") != allowed.end();
  std::optional<std::string> v = null_value ? "null" : ReadString(f, sink);
  if (!v) return;
  if (std::find(allowed.begin(), allowed.end(), *v) == allowed.end()) {
    sink->Error(
        f.pos, f.path,
        fmt::format("unknown value '{}' (expected one of: {})", *v, fmt::join(allowed, ", ")));
    return;
  }
  *out = *v;
}

std::optional<Plant> ReadPlant(const Field& f, DiagnosticSink* sink) {
  std::optional<std::string> name = ReadString(f, sink);
  if (!name) return std::nullopt;
  if (std::optional<Plant> p = PlantFromName(*name)) return p;
  std::string known;
  for (std::string_view n : PlantNames()) known += (known.empty() ? "" : ", ") + std::string(n);
  sink->Error(
      f.pos, f.path,
      "unknown planted bug '" + *name + "' (expected one of: " + known + "; docs/planted-bugs.md)");
  return std::nullopt;
}

OverlayOptions ReadOverlay(const Field& f, DiagnosticSink* sink) {
  OverlayOptions o;
  MapReader m(f, sink);
  ReadOverlayOption(&m, "index", {"on", "off"}, sink, &o.index);
  ReadOverlayOption(&m, "nfs_export", {"on", "off"}, sink, &o.nfs_export);
  ReadOverlayOption(&m, "redirect_dir", {"on", "follow", "nofollow", "off"}, sink, &o.redirect_dir);
  ReadOverlayOption(&m, "xino", {"on", "off", "auto"}, sink, &o.xino);
  ReadOverlayOption(&m, "metacopy", {"on", "off"}, sink, &o.metacopy);
  ReadOverlayOption(&m, "uuid", {"on", "off", "null", "auto"}, sink, &o.uuid);
  m.Finish();
  // Combinations the kernel refuses (metacopy with nfs_export, ...) are not errors here: the
  // server's setup fails with the mount's own reason and its cases are UNSUPPORTED with it.
  return o;
}

// `filesystems: {upper: FS, lower: [FS, ...]}` into `s`; `layers` (when given) must match the
// list. Returns the length of `lower` (0 when absent).
size_t ReadFilesystems(const Field& f, DiagnosticSink* sink, ServerSpec* s) {
  MapReader m(f, sink);
  Field upper = m.Optional("upper");
  Field lower = m.Optional("lower");
  m.Finish();
  if (upper.present()) {
    s->upper_fs = ReadEnum(upper, sink, "filesystem", kLayerFsNames).value_or(s->upper_fs);
  }
  if (!lower.present()) return 0;
  std::optional<std::vector<Field>> items = ReadList(lower, sink);
  if (!items) return 0;
  if (items->empty() || items->size() > 8) {
    sink->Error(lower.pos, lower.path, "needs 1..8 entries, one per lower layer");
    return 0;
  }
  s->lower_fs.clear();
  for (const Field& item : *items) {
    std::optional<LayerFs> fs = ReadEnum(item, sink, "filesystem", kLayerFsNames);
    if (fs == LayerFs::kNone) {
      sink->Error(item.pos, item.path,
                  "a lower layer needs a filesystem ('none' is for the upper)");
    }
    s->lower_fs.push_back(fs.value_or(LayerFs::kSame));
  }
  return items->size();
}

FixtureSpec ReadFixture(const Field& f, const ParseContext& ctx) {
  FixtureSpec fixture;
  if (f.node.IsScalar()) {
    fixture.name = f.node.Scalar();
    if (!ctx.catalogue->HasFixture(fixture.name)) {
      std::string known =
          ctx.catalogue->fixtures.empty()
              ? "workloads/fixtures holds none"
              : "expected one of: " + fmt::format("{}", fmt::join(ctx.catalogue->fixtures, ", "));
      ctx.sink->Error(f.pos, f.path, fmt::format("unknown fixture '{}' ({})", fixture.name, known));
    }
    return fixture;
  }
  MapReader m(f, ctx.sink);
  auto read = [&](std::string_view key, uint64_t* out, uint64_t min, uint64_t max) {
    Field v = m.Optional(key);
    if (v.present()) *out = ReadUint(v, ctx.sink, min, max).value_or(*out);
  };
  read("files", &fixture.files, 1, 1'000'000);
  read("dirs", &fixture.dirs, 0, 100'000);
  Field size = m.Optional("size");
  if (size.present()) fixture.size = ReadSize(size, ctx.sink).value_or(fixture.size);
  Field hardlinks = m.Optional("hardlinks");
  if (hardlinks.present()) {
    fixture.hardlinks = ReadUint(hardlinks, ctx.sink).value_or(fixture.hardlinks);
  }
  read("seed", &fixture.seed, 0, UINT64_MAX);
  m.Finish();
  if (fixture.hardlinks > fixture.files) {
    ctx.sink->Error(
        hardlinks.present() ? hardlinks.pos : f.pos, f.path + ".hardlinks",
        fmt::format("{} hard links but only {} files", fixture.hardlinks, fixture.files));
  }
  return fixture;
}

// Why `client` cannot work on `server`, or nullopt when it can.
std::optional<std::string> Unreachable(const ClientSpec& client, const ServerSpec& server) {
  const VariantInfo& info = InfoOf(server.variant);
  if (client.access == Access::kLocalSyscalls) {
    if (info.serves_nfs) return "local-syscalls works on kernel-overlay servers only";
    return std::nullopt;
  }
  if (!info.serves_nfs) return "kernel-overlay is not served over NFS (use local-syscalls)";
  if (client.backend != server.backend) {
    return "client and server must share a backend: VMs reach only VMs, over their point-to-"
           "point links, and host processes only host servers, over loopback";
  }
  if (!client.host.empty() && !server.host.empty() && client.host != server.host) {
    return fmt::format(
        "the client is pinned to host '{}' and the server to host '{}': a link would cross "
        "hosts (links are qemu UDP sockets on one host's 127.0.0.1)",
        client.host, server.host);
  }
  return std::nullopt;
}

// `host:` of a node on `backend`: the name of a libvirt host, or "" after an error.
std::string ReadHost(const Field& f, Backend backend, const Topology& topology,
                     const ParseContext& ctx) {
  std::optional<std::string> name = ReadString(f, ctx.sink);
  if (!name) return "";
  if (backend != Backend::kLibvirt) {
    ctx.sink->Error(f.pos, f.path,
                    "only libvirt nodes run on a libvirt host (this node's backend is " +
                        std::string(NameOf(kBackendNames, backend)) + ")");
    return "";
  }
  if (topology.FindHost(*name) != nullptr) return *name;
  if (!ctx.hosts_broken) {
    std::vector<std::string_view> known;
    for (const LibvirtHost& h : topology.libvirt.hosts) known.push_back(h.name);
    ctx.sink->Error(f.pos, f.path,
                    fmt::format("unknown host '{}' (expected one of: {}; see libvirt.hosts)", *name,
                                fmt::join(known, ", ")));
  }
  return "";
}

// A libvirt node's `kernel`: a Debian series or a supplied image; nullopt after an error.
std::optional<KernelSpec> ReadKernel(const Field& f, const ParseContext& ctx) {
  if (f.node.IsScalar()) {
    const std::string& series = f.node.Scalar();
    if (std::find(kKernelSeries.begin(), kKernelSeries.end(), series) == kKernelSeries.end()) {
      ctx.sink->Error(f.pos, f.path,
                      "unknown kernel '" + series +
                          "' (expected one of: 6.1, 6.12, or {bzimage: PATH, modules: DIR})");
      return std::nullopt;
    }
    return KernelSpec::Debian(series);
  }
  MapReader m(f, ctx.sink);
  Field bzimage = m.Required("bzimage");
  Field modules = m.Required("modules");
  m.Finish();
  if (!bzimage.present() || !modules.present()) return std::nullopt;
  KernelSpec k;
  std::error_code ec;
  if (std::optional<std::string> p = ReadString(bzimage, ctx.sink)) {
    k.bzimage = Resolve(ctx.base_dir, *p);
    if (!std::filesystem::is_regular_file(k.bzimage, ec)) {
      ctx.sink->Error(bzimage.pos, bzimage.path, "no such file: " + k.bzimage.string());
    }
  }
  if (std::optional<std::string> p = ReadString(modules, ctx.sink)) {
    k.modules = Resolve(ctx.base_dir, *p);
    if (!std::filesystem::is_directory(k.modules, ec)) {
      ctx.sink->Error(modules.pos, modules.path, "no such directory: " + k.modules.string());
    }
  }
  return k;
}
// `nfs4: {lease: 10s, grace: 10s}`: whole seconds within knfsd's bounds (10 s to 3600 s).
Nfs4Times ReadNfs4Times(const Field& f, DiagnosticSink* sink) {
  Nfs4Times out;
  MapReader m(f, sink);
  const auto read = [&](const char* key, std::chrono::seconds* to) {
    Field v = m.Optional(key);
    if (!v.present()) return;
    std::optional<std::chrono::milliseconds> d = ReadDuration(v, sink);
    if (!d) return;
    if (*d < std::chrono::seconds(10) || *d > std::chrono::seconds(3600) ||
        d->count() % 1000 != 0) {
      sink->Error(v.pos, v.path, "must be whole seconds from 10s to 3600s (knfsd's bounds)");
      return;
    }
    *to = std::chrono::duration_cast<std::chrono::seconds>(*d);
  };
  read("lease", &out.lease);
  read("grace", &out.grace);
  m.Finish();
  return out;
}

ServerSpec ParseServer(const Field& f, const Topology& topology, ParseContext* ctx) {
  DiagnosticSink* sink = ctx->sink;
  const size_t errors_before = sink->count();
  ServerSpec s;
  s.pos = f.pos;
  s.backend = topology.backend;
  MapReader m(f, sink);
  Field name = m.Required("name");
  if (name.present()) s.name = ReadName(name, sink).value_or("");
  Field variant = m.Required("variant");
  std::optional<Variant> v =
      variant.present() ? ReadEnum(variant, sink, "variant", kVariantNames) : std::nullopt;
  if (v) s.variant = *v;
  Field backend = m.Optional("backend");
  if (backend.present()) {
    s.backend = ReadEnum(backend, sink, "backend", kBackendNames).value_or(s.backend);
  }
  Field expect = m.Optional("expect");
  if (expect.present())
    s.expect = ReadEnum(expect, sink, "expect", kExpectNames).value_or(s.expect);
  Field layers = m.Optional("layers");
  if (layers.present()) s.layers = ReadUint(layers, sink, 1, 8).value_or(s.layers);
  Field filesystems = m.Optional("filesystems");
  const size_t listed = filesystems.present() ? ReadFilesystems(filesystems, sink, &s) : 0;
  if (listed != 0 && !layers.present()) s.layers = listed;
  if (listed != 0 && layers.present() && listed != s.layers) {
    sink->Error(filesystems.pos, filesystems.path + ".lower",
                fmt::format("{} entries, but layers is {}", listed, s.layers));
  }
  s.lower_fs.resize(s.layers, LayerFs::kSame);
  Field nested = m.Optional("nested");
  if (nested.present()) s.nested = ReadBool(nested, sink).value_or(false);
  Field overlay = m.Optional("overlay");
  if (overlay.present()) s.overlay = ReadOverlay(overlay, sink);
  Field kernel = m.Optional("kernel");
  Field kernel_upgrade = m.Optional("kernel_upgrade");
  Field fixture = m.Optional("fixture");
  if (fixture.present()) s.fixture = ReadFixture(fixture, *ctx);
  Field threads = m.Optional("threads");
  if (threads.present()) s.threads = ReadUint(threads, sink, 1, 1024).value_or(s.threads);
  Field export_path = m.Optional("export_path");
  if (export_path.present()) {
    s.export_path = ReadString(export_path, sink).value_or(s.export_path);
    if (!s.export_path.starts_with("/")) {
      sink->Error(export_path.pos, export_path.path, "must be an absolute path");
    }
  }
  Field plant = m.Optional("plant");
  if (plant.present()) s.plant = ReadPlant(plant, sink);
  Field nfs4 = m.Optional("nfs4");
  if (nfs4.present()) s.nfs4 = ReadNfs4Times(nfs4, sink);
  Field host = m.Optional("host");
  m.Finish();
  if (!m.is_map()) return s;
  // After the backend is known; an error marks the server broken (below), like any other.
  if (host.present()) s.host = ReadHost(host, s.backend, topology, *ctx);

  // Rules that depend on the variant, checked only once the variant is known.
  if (v) {
    const VariantInfo& info = InfoOf(*v);
    std::string vname(NameOf(kVariantNames, *v));
    Field at_backend = backend.present() ? backend : variant;
    if (info.libvirt_only && s.backend != Backend::kLibvirt) {
      sink->Error(at_backend.pos, f.path + ".backend",
                  vname + " needs a guest kernel (the host has no nfsd): set backend: libvirt");
    }
    if (info.local_only && s.backend != Backend::kLocal) {
      sink->Error(at_backend.pos, f.path + ".backend",
                  vname + " runs on the host kernel: set backend: local");
    }
    if (!info.control_reason.empty() && s.expect != Expect::kFail) {
      sink->Error(expect.present() ? expect.pos : variant.pos, f.path + ".expect",
                  fmt::format("{} is a negative control ({}): it must declare expect: fail", vname,
                              info.control_reason));
    }
    if (overlay.present() && !info.kernel_overlay) {
      sink->Error(overlay.pos, overlay.path,
                  vname +
                      " does not mount kernel overlayfs: overlay options apply to "
                      "kernel-overlay, knfsd and ganesha only");
    }
    if (threads.present() && !info.has_threads) {
      sink->Error(threads.pos, threads.path, vname + " has no server threads");
    }
    if (nfs4.present() && !info.serves_nfs) {
      sink->Error(nfs4.pos, nfs4.path, vname + " does not serve NFSv4");
    }
    if (export_path.present() && !info.serves_nfs) {
      sink->Error(export_path.pos, export_path.path, vname + " is not exported over NFS");
    }
    if (plant.present() && *v != Variant::kReference) {
      sink->Error(plant.pos, plant.path, "bugs are planted only in ovlnfsd (variant reference)");
    } else if (plant.present() && s.expect != Expect::kFail) {
      sink->Error(expect.present() ? expect.pos : plant.pos, f.path + ".expect",
                  "a server with a planted bug is a negative control: it must declare "
                  "expect: fail");
    }
  }
  // In a VM a layer filesystem is a disk of its own (backend/libvirt/vm_nodes.cc), which keeps
  // its files across the guest's reboots and crashes; a tmpfs would not.
  const bool layer_setup = filesystems.present() || s.nested;
  if (layer_setup && s.backend == Backend::kLibvirt) {
    const Field& at = filesystems.present() ? filesystems : nested;
    const bool tmpfs =
        s.upper_fs == LayerFs::kTmpfs ||
        std::find(s.lower_fs.begin(), s.lower_fs.end(), LayerFs::kTmpfs) != s.lower_fs.end();
    if (tmpfs) {
      sink->Error(at.pos, at.path,
                  "tmpfs layers are for the local backend: a VM's reboot or crash would empty "
                  "them (use ext4 or xfs, a disk of the VM's own)");
    }
    if (s.variant == Variant::kKnfsdFuse) {
      sink->Error(at.pos, at.path, "the fuse-overlayfs control serves the plain layers only");
    }
  }
  if (s.backend == Backend::kLibvirt) {
    s.kernel = kernel.present() ? ReadKernel(kernel, *ctx) : KernelSpec::Debian("6.1");
  } else if (kernel.present()) {
    sink->Error(kernel.pos, kernel.path, "only libvirt nodes boot a kernel of their own");
  }
  if (kernel_upgrade.present()) {
    if (s.backend != Backend::kLibvirt) {
      sink->Error(kernel_upgrade.pos, kernel_upgrade.path,
                  "only libvirt servers can be rebooted into another kernel");
    } else if ((s.kernel_upgrade = ReadKernel(kernel_upgrade, *ctx)) && s.kernel &&
               s.kernel_upgrade->Describe() == s.kernel->Describe()) {
      sink->Error(kernel_upgrade.pos, kernel_upgrade.path,
                  "the same kernel as `kernel` (" + s.kernel->Describe() + "): nothing to upgrade");
    }
  }
  if (sink->count() != errors_before) ctx->broken_servers.insert(s.name);
  return s;
}

// A server without `host:` runs on the host of a pinned client that reaches it (links never
// cross hosts), so two clients pinned to different hosts must not share such a server.
// `client` is pinned; the clients before it are in `topology`.
void CheckPinnedServers(const ClientSpec& client, const Field& host, const Topology& topology,
                        DiagnosticSink* sink) {
  for (const std::string& name : client.servers) {
    const ServerSpec* s = topology.FindServer(name);
    if (s == nullptr || !s->host.empty()) continue;
    for (const ClientSpec& other : topology.clients) {
      if (other.host.empty() || other.host == client.host ||
          std::find(other.servers.begin(), other.servers.end(), name) == other.servers.end()) {
        continue;
      }
      sink->Error(host.pos, host.path,
                  fmt::format("server '{}' is also reached by client '{}', pinned to host '{}': "
                              "its VM runs on one host, and links never cross hosts (pin the "
                              "server with host:, or list this client's servers)",
                              name, other.name, other.host));
      break;
    }
  }
}

// The NFS versions of a kernel-mount client: `nfs_versions`, or the one its mount options name,
// or NFSv3. Not both: the mount options would contradict the list.
std::vector<std::string> ReadNfsVersions(const Field& versions, const Field& mount_options,
                                         const std::string& options, DiagnosticSink* sink) {
  const auto known = [](const std::string& v) {
    return std::find(std::begin(kNfsVersions), std::end(kNfsVersions), v) != std::end(kNfsVersions);
  };
  const std::string named = NfsVersionOf(options);
  if (!versions.present()) {
    if (named.empty()) return {"3"};
    if (!known(named)) {
      sink->Error(mount_options.pos, mount_options.path,
                  "NFS version '" + named +
                      "': expected vers=3, 4.1 or 4.2 (4.0 mounts cannot open files by handle)");
    }
    return {named};
  }
  if (!named.empty() && mount_options.present()) {
    sink->Error(mount_options.pos, mount_options.path,
                "names NFS version " + named +
                    " while nfs_versions lists the versions: drop vers= from mount_options");
  }
  std::vector<std::string> out;
  for (const Field& item : ReadList(versions, sink).value_or(std::vector<Field>{})) {
    std::optional<std::string> v = ReadString(item, sink);
    if (!v) continue;
    if (!known(*v)) {
      sink->Error(item.pos, item.path,
                  "unknown NFS version '" + *v +
                      "' (expected 3, 4.1 or 4.2; 4.0 mounts cannot open files by handle)");
    } else if (std::find(out.begin(), out.end(), *v) != out.end()) {
      sink->Error(item.pos, item.path, "NFS version " + *v + " listed twice");
    } else {
      out.push_back(*v);
    }
  }
  if (out.empty() && versions.present()) {
    sink->Error(versions.pos, versions.path, "lists no NFS version");
    out.push_back("3");
  }
  return out;
}

ClientSpec ParseClient(const Field& f, const Topology& topology, ParseContext* ctx) {
  DiagnosticSink* sink = ctx->sink;
  const size_t errors_before = sink->count();
  ClientSpec c;
  c.pos = f.pos;
  MapReader m(f, sink);
  Field name = m.Required("name");
  if (name.present()) c.name = ReadName(name, sink).value_or("");
  Field access = m.Required("access");
  std::optional<Access> a =
      access.present() ? ReadEnum(access, sink, "access", kAccessNames) : std::nullopt;
  if (a) c.access = *a;
  Field backend = m.Optional("backend");
  Field count = m.Optional("count");
  if (count.present()) c.count = ReadUint(count, sink, 1, 64).value_or(c.count);
  Field server = m.Optional("server");
  Field mount_options = m.Optional("mount_options");
  Field nfs_versions = m.Optional("nfs_versions");
  Field kernel = m.Optional("kernel");
  Field host = m.Optional("host");
  Field per_server = m.Optional("per_server");
  m.Finish();
  if (!m.is_map() || !a) return c;

  // Where the client runs follows from its access path, except for libnfs.
  switch (c.access) {
    case Access::kKernelMount:
      c.backend = Backend::kLibvirt;
      break;
    case Access::kLocalSyscalls:
      c.backend = Backend::kLocal;
      break;
    case Access::kLibnfs:
      c.backend = topology.backend;
      break;
  }
  if (backend.present()) {
    std::optional<Backend> b = ReadEnum(backend, sink, "backend", kBackendNames);
    if (b && c.access == Access::kKernelMount && *b != Backend::kLibvirt) {
      sink->Error(backend.pos, backend.path,
                  "kernel-mount needs a client VM (the host has no NFS client): backend must be "
                  "libvirt");
    } else if (b && c.access == Access::kLocalSyscalls && *b != Backend::kLocal) {
      sink->Error(backend.pos, backend.path,
                  "local-syscalls runs on the host: backend must be local");
    } else if (b) {
      c.backend = *b;
    }
  }
  if (mount_options.present()) {
    if (c.access != Access::kKernelMount) {
      sink->Error(mount_options.pos, mount_options.path, "applies to kernel-mount clients only");
    }
    c.mount_options = ReadString(mount_options, sink).value_or("");
  } else if (c.access == Access::kKernelMount) {
    c.mount_options = kDefaultMountOptions;
  }
  if (c.access == Access::kKernelMount) {
    c.nfs_versions = ReadNfsVersions(nfs_versions, mount_options, c.mount_options, sink);
  } else if (nfs_versions.present()) {
    sink->Error(nfs_versions.pos, nfs_versions.path,
                "applies to kernel-mount clients only (libnfs and local syscalls speak NFSv3 "
                "or no NFS at all)");
  }
  if (c.backend == Backend::kLibvirt) {
    c.kernel = kernel.present() ? ReadKernel(kernel, *ctx) : KernelSpec::Debian("6.1");
  } else if (kernel.present()) {
    sink->Error(kernel.pos, kernel.path, "only libvirt nodes boot a kernel of their own");
  }
  // Before the servers: a pinned client cannot reach servers pinned to another host.
  if (host.present()) c.host = ReadHost(host, c.backend, topology, *ctx);
  if (per_server.present()) {
    c.per_server = ReadBool(per_server, sink).value_or(false);
    // Host processes all share one lane (the local lane), so copies of them would buy nothing.
    if (c.per_server && c.backend != Backend::kLibvirt) {
      sink->Error(per_server.pos, per_server.path,
                  "per_server gives each server VM client VMs of its own: libvirt clients only");
      c.per_server = false;
    }
  }

  if (server.present()) {
    std::vector<Field> refs;
    if (server.node.IsSequence()) {
      refs = ReadList(server, sink).value_or(std::vector<Field>{});
    } else {
      refs.push_back(server);
    }
    for (const Field& ref : refs) {
      std::optional<std::string> target = ReadString(ref, sink);
      if (!target) continue;
      const ServerSpec* s = topology.FindServer(*target);
      if (s == nullptr) {
        sink->Error(ref.pos, ref.path, "unknown server '" + *target + "'");
      } else if (std::find(c.servers.begin(), c.servers.end(), *target) != c.servers.end()) {
        sink->Error(ref.pos, ref.path, "server '" + *target + "' listed twice");
      } else if (ctx->broken_servers.count(*target) != 0) {
        c.servers.push_back(*target);
      } else if (std::optional<std::string> why = Unreachable(c, *s)) {
        sink->Error(ref.pos, ref.path, "cannot reach server '" + *target + "': " + *why);
      } else {
        c.servers.push_back(*target);
      }
    }
  } else {
    for (const ServerSpec& s : topology.servers) {
      if (!Unreachable(c, s)) c.servers.push_back(s.name);
    }
    // Unless the entry already has errors, which would make this one a consequence.
    if (c.servers.empty() && sink->count() == errors_before) {
      sink->Error(f.pos, f.path,
                  "no server this client can reach (" +
                      std::string(NameOf(kAccessNames, c.access)) + " on backend " +
                      std::string(NameOf(kBackendNames, c.backend)) + ")");
    }
  }
  if (!c.host.empty()) CheckPinnedServers(c, host, topology, sink);
  return c;
}

}  // namespace

std::optional<std::string> ReadName(const Field& f, DiagnosticSink* sink) {
  std::optional<std::string> name = ReadString(f, sink);
  if (!name) return std::nullopt;
  bool ok = !name->empty() && name->size() <= 40 && (*name)[0] >= 'a' && (*name)[0] <= 'z' &&
            name->back() != '-';
  for (char ch : *name)
    ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-');
  if (!ok) {
    sink->Error(f.pos, f.path,
                "invalid name '" + *name +
                    "': use up to 40 lowercase letters, digits and '-', starting with a letter "
                    "(names become VM and directory names)");
    return std::nullopt;
  }
  return name;
}

std::filesystem::path Resolve(const std::filesystem::path& base_dir, const std::string& path) {
  std::filesystem::path p(path);
  return p.is_absolute() ? p : (base_dir / p).lexically_normal();
}

void ParseServers(const Field& f, ParseContext* ctx, Topology* topology) {
  std::optional<std::vector<Field>> items = ReadList(f, ctx->sink);
  if (!items) return;
  if (items->empty()) ctx->sink->Error(f.pos, f.path, "at least one server is needed");
  for (const Field& item : *items) {
    ServerSpec s = ParseServer(item, *topology, ctx);
    if (s.name.empty()) continue;
    if (ClaimName(ctx, s.name, s.pos, item.path + ".name")) {
      ctx->server_paths[s.name] = item.path;
      topology->servers.push_back(std::move(s));
    }
  }
}

void ParseClients(const Field& f, ParseContext* ctx, Topology* topology) {
  DiagnosticSink* sink = ctx->sink;
  const size_t errors_before = sink->count();
  if (f.present()) {
    std::optional<std::vector<Field>> items = ReadList(f, sink);
    for (const Field& item : items.value_or(std::vector<Field>{})) {
      ClientSpec c = ParseClient(item, *topology, ctx);
      if (c.name.empty()) continue;
      if (!ClaimName(ctx, c.name, c.pos, item.path + ".name")) continue;
      if (c.count > 1) {
        for (const std::string& instance : c.InstanceNames()) {
          ClaimName(ctx, instance, c.pos, item.path + ".count");
        }
      }
      topology->clients.push_back(std::move(c));
    }
  }
  for (const ServerSpec& s : topology->servers) {
    if (ctx->broken_servers.count(s.name) != 0) continue;
    bool reached =
        std::any_of(topology->clients.begin(), topology->clients.end(), [&](const ClientSpec& c) {
          return std::find(c.servers.begin(), c.servers.end(), s.name) != c.servers.end();
        });
    if (reached) continue;
    if (s.variant != Variant::kKernelOverlay) {
      // A client entry with errors may be the one meant to reach this server.
      if (sink->count() != errors_before) continue;
      sink->Error(s.pos, ctx->server_paths[s.name],
                  fmt::format("no client reaches server '{}' (add a client with access libnfs or "
                              "kernel-mount on backend {})",
                              s.name, NameOf(kBackendNames, s.backend)));
      continue;
    }
    // Two instances, so that two-clients runs here too.
    ClientSpec c;
    c.name = s.name + "-syscalls";
    c.access = Access::kLocalSyscalls;
    c.backend = Backend::kLocal;
    c.count = 2;
    c.servers = {s.name};
    c.implicit = true;
    c.pos = s.pos;
    bool free = true;
    for (const std::string& n : {c.name, c.name + "-1", c.name + "-2"}) {
      free = ClaimName(ctx, n, s.pos,
                       fmt::format("implicit local-syscalls client of server '{}'", s.name)) &&
             free;
    }
    if (free) topology->clients.push_back(std::move(c));
  }
}

}  // namespace ovl::topology::internal
