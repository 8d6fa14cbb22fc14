// The topology document: top-level keys, the libvirt block, workloads and faults.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "topology/loader.h"
#include "topology/parse_internal.h"

namespace ovl::topology {
namespace {

using internal::ParseContext;

void ParseImage(const Field& f, DiagnosticSink* sink, ImageRecipe* image) {
  MapReader m(f, sink);
  Field suite = m.Optional("suite");
  if (suite.present()) image->suite = ReadString(suite, sink).value_or(image->suite);
  Field mirror = m.Optional("mirror");
  if (mirror.present()) image->mirror = ReadString(mirror, sink).value_or(image->mirror);
  Field packages = m.Optional("packages");
  if (packages.present())
    image->packages = ReadStringList(packages, sink).value_or(image->packages);
  Field kernels = m.Optional("kernels");
  if (kernels.present()) {
    for (const Field& k : ReadList(kernels, sink).value_or(std::vector<Field>{})) {
      std::optional<std::string> series = ReadString(k, sink);
      if (!series) continue;
      if (std::find(kKernelSeries.begin(), kKernelSeries.end(), *series) == kKernelSeries.end()) {
        sink->Error(k.pos, k.path,
                    "unknown kernel series '" + *series + "' (expected one of: 6.1, 6.12)");
      } else {
        image->kernels.push_back(*series);
      }
    }
  }
  Field size = m.Optional("size");
  if (size.present()) image->size = ReadSize(size, sink).value_or(image->size);
  m.Finish();
}

// `libvirt.hosts`: the machines VMs run on, each with a unique name.
void ParseHosts(const Field& f, ParseContext* ctx, LibvirtSettings* lv) {
  DiagnosticSink* sink = ctx->sink;
  std::optional<std::vector<Field>> items = ReadList(f, sink);
  if (!items || items->empty()) {
    if (items) sink->Error(f.pos, f.path, "at least one host is needed");
    ctx->hosts_broken = true;
    return;
  }
  for (const Field& item : *items) {
    LibvirtHost h;
    h.pos = item.pos;
    MapReader m(item, sink);
    Field name = m.Required("name");
    Field uri = m.Required("uri");
    Field pool = m.Optional("pool");
    Field pool_path = m.Optional("pool_path");
    m.Finish();
    if (name.present()) h.name = internal::ReadName(name, sink).value_or("");
    if (uri.present()) {
      h.uri = ReadString(uri, sink).value_or("");
      if (h.uri.empty()) sink->Error(uri.pos, uri.path, "must not be empty");
    }
    if (pool.present()) {
      h.pool = ReadString(pool, sink).value_or(h.pool);
      if (h.pool.empty()) sink->Error(pool.pos, pool.path, "must not be empty");
    }
    if (pool_path.present()) {
      h.pool_path = ReadString(pool_path, sink).value_or(h.pool_path);
      // A path on that host: there is nothing to resolve a relative one against.
      if (!h.pool_path.starts_with("/")) {
        sink->Error(pool_path.pos, pool_path.path, "must be an absolute path (on that host)");
      }
    }
    if (h.name.empty()) {
      ctx->hosts_broken = true;
      continue;
    }
    auto first = std::find_if(lv->hosts.begin(), lv->hosts.end(),
                              [&](const LibvirtHost& other) { return other.name == h.name; });
    if (first != lv->hosts.end()) {
      sink->Error(
          name.pos, name.path,
          fmt::format("duplicate host name '{}' (first used at line {})", h.name, first->pos.line));
      continue;
    }
    lv->hosts.push_back(std::move(h));
  }
}

void ParseLibvirt(const Field& f, ParseContext* ctx, LibvirtSettings* lv) {
  DiagnosticSink* sink = ctx->sink;
  MapReader m(f, sink);
  Field uri = m.Optional("uri");
  if (uri.present()) lv->uri = ReadString(uri, sink).value_or(lv->uri);
  Field hosts = m.Optional("hosts");
  if (hosts.present()) {
    ParseHosts(hosts, ctx, lv);
    if (uri.present()) {
      sink->Error(uri.pos, uri.path,
                  "give either uri (the shorthand for one host) or hosts, not both");
    }
    if (!lv->hosts.empty()) lv->uri = lv->hosts.front().uri;
  } else {
    lv->hosts.push_back(
        LibvirtHost{.name = "default", .uri = lv->uri, .pos = uri.present() ? uri.pos : Pos{}});
  }
  Field accel = m.Optional("accel");
  if (accel.present()) lv->accel = ReadEnum(accel, sink, "accel", kAccelNames).value_or(lv->accel);
  Field cache_dir = m.Optional("cache_dir");
  if (cache_dir.present()) {
    if (std::optional<std::string> p = ReadString(cache_dir, sink)) {
      lv->cache_dir = internal::Resolve(ctx->base_dir, *p);
    }
  }
  Field image = m.Optional("image");
  if (image.present()) ParseImage(image, sink, &lv->image);
  Field memory = m.Optional("memory");
  if (memory.present()) {
    lv->memory = ReadSize(memory, sink).value_or(lv->memory);
    if (lv->memory < 256 * kMiB) sink->Error(memory.pos, memory.path, "at least 256M per VM");
  }
  Field vcpus = m.Optional("vcpus");
  if (vcpus.present()) lv->vcpus = ReadUint(vcpus, sink, 1, 64).value_or(lv->vcpus);
  Field boot_timeout = m.Optional("boot_timeout");
  if (boot_timeout.present()) {
    lv->boot_timeout = ReadDuration(boot_timeout, sink).value_or(lv->boot_timeout);
  }
  m.Finish();
}

// Every kernel series a libvirt node boots must be in an image that lists its kernels. An image
// that lists none gets every Debian series (image/recipe.h): one cached image for all topologies.
void CheckImageKernels(const Field& libvirt, DiagnosticSink* sink, const Topology& t) {
  const std::vector<std::string>& listed = t.libvirt.image.kernels;
  if (listed.empty()) return;
  std::set<std::string> reported;
  auto check = [&](const std::optional<KernelSpec>& k) {
    if (k && !k->series.empty() &&
        std::find(listed.begin(), listed.end(), k->series) == listed.end() &&
        reported.insert(k->series).second) {
      sink->Error(libvirt.pos, "libvirt.image.kernels",
                  "a node boots kernel " + k->series + ", which the image does not include");
    }
  };
  for (const ServerSpec& s : t.servers) {
    check(s.kernel);
    check(s.kernel_upgrade);
  }
  for (const ClientSpec& c : t.clients) check(c.kernel);
}

void UseAllScenarios(const Catalogue& catalogue, WorkloadsSpec* w) {
  w->all_scenarios = true;
  for (const ScenarioInfo& s : catalogue.scenarios) w->scenarios.push_back(s.id);
}

void ParseScenarios(const Field& f, const ParseContext& ctx, WorkloadsSpec* w) {
  if (f.node.IsScalar() && f.node.Scalar() == "all") {
    UseAllScenarios(*ctx.catalogue, w);
    return;
  }
  w->all_scenarios = false;
  if (!f.node.IsSequence()) {
    ctx.sink->Error(f.pos, f.path,
                    "expected 'all' or a list of scenario ids, got " +
                        (f.node.IsScalar() ? "'" + f.node.Scalar() + "'" : std::string("a map")));
    return;
  }
  for (const Field& item : ReadList(f, ctx.sink).value_or(std::vector<Field>{})) {
    std::optional<std::string> id = ReadString(item, ctx.sink);
    if (!id) continue;
    if (ctx.catalogue->Find(*id) == nullptr) {
      ctx.sink->Error(
          item.pos, item.path,
          "unknown scenario '" + *id + "' (expected one of: " + ctx.catalogue->JoinIds() + ")");
    } else if (std::find(w->scenarios.begin(), w->scenarios.end(), *id) != w->scenarios.end()) {
      ctx.sink->Error(item.pos, item.path, "scenario '" + *id + "' listed twice");
    } else {
      w->scenarios.push_back(*id);
    }
  }
}

void ParseMixed(const Field& f, const Topology& t, DiagnosticSink* sink, MixedSpec* mixed) {
  if (f.node.IsScalar()) {
    mixed->enabled = ReadBool(f, sink).value_or(false);
  } else {
    MapReader m(f, sink);
    Field enabled = m.Optional("enabled");
    mixed->enabled = enabled.present() ? ReadBool(enabled, sink).value_or(true) : m.is_map();
    Field ops = m.Optional("ops");
    if (ops.present()) mixed->ops = ReadUint(ops, sink, 1, 100'000'000).value_or(mixed->ops);
    Field clients = m.Optional("clients");
    m.Finish();
    if (clients.present()) {
      for (const Field& item : ReadList(clients, sink).value_or(std::vector<Field>{})) {
        std::optional<std::string> name = ReadString(item, sink);
        if (!name) continue;
        if (t.FindClient(*name) == nullptr) {
          sink->Error(item.pos, item.path, "unknown client '" + *name + "'");
        } else if (std::find(mixed->clients.begin(), mixed->clients.end(), *name) !=
                   mixed->clients.end()) {
          sink->Error(item.pos, item.path, "client '" + *name + "' listed twice");
        } else {
          mixed->clients.push_back(*name);
        }
      }
      return;
    }
  }
  for (const ClientSpec& c : t.clients) mixed->clients.push_back(c.name);
}

std::optional<ThroughputJob> ParseJob(const Field& f, DiagnosticSink* sink) {
  if (f.node.IsScalar()) {
    std::optional<JobKind> kind = ReadEnum(f, sink, "throughput job", kJobKindNames);
    if (!kind) return std::nullopt;
    return ThroughputJob{.kind = *kind};
  }
  MapReader m(f, sink);
  Field job = m.Required("job");
  std::optional<JobKind> kind =
      job.present() ? ReadEnum(job, sink, "throughput job", kJobKindNames) : std::nullopt;
  ThroughputJob j{.kind = kind.value_or(JobKind::kSeqRead)};
  Field size = m.Optional("size");
  if (size.present()) j.size = ReadSize(size, sink).value_or(j.size);
  Field files = m.Optional("files");
  if (files.present()) j.files = ReadUint(files, sink, 1, 10'000'000).value_or(j.files);
  Field clients = m.Optional("clients");
  if (clients.present()) j.clients = ReadUint(clients, sink, 1, 64).value_or(j.clients);
  Field duration = m.Optional("duration");
  if (duration.present()) j.duration = ReadDuration(duration, sink).value_or(j.duration);
  Field engine = m.Optional("engine");
  if (engine.present()) {
    j.engine = ReadEnum(engine, sink, "load engine", kLoadEngineNames).value_or(j.engine);
  }
  m.Finish();
  if (!kind) return std::nullopt;
  std::string name(NameOf(kJobKindNames, *kind));
  if (size.present() && !IsDataJob(*kind)) {
    sink->Error(size.pos, size.path, name + " works on many small files: use files, not size");
  }
  if (files.present() && IsDataJob(*kind)) {
    sink->Error(files.pos, files.path, name + " moves data in one file: use size, not files");
  }
  if (j.duration.count() <= 0) sink->Error(duration.pos, duration.path, "must be positive");
  if (j.engine == LoadEngine::kFio && !IsDataJob(*kind)) {
    sink->Error(engine.pos, engine.path,
                name +
                    " is not a data job: fio runs seq-read, seq-write, rand-read-4k and "
                    "rand-write-4k only");
  }
  return j;
}

void ParseWorkloads(const Field& f, const ParseContext& ctx, Topology* t) {
  WorkloadsSpec& w = t->workloads;
  if (!f.present()) {
    UseAllScenarios(*ctx.catalogue, &w);
    return;
  }
  MapReader m(f, ctx.sink);
  Field scenarios = m.Optional("scenarios");
  if (scenarios.present()) {
    ParseScenarios(scenarios, ctx, &w);
  } else {
    UseAllScenarios(*ctx.catalogue, &w);
  }
  Field mixed = m.Optional("mixed");
  if (mixed.present()) ParseMixed(mixed, *t, ctx.sink, &w.mixed);
  Field throughput = m.Optional("throughput");
  if (throughput.present()) {
    for (const Field& item : ReadList(throughput, ctx.sink).value_or(std::vector<Field>{})) {
      if (std::optional<ThroughputJob> job = ParseJob(item, ctx.sink)) {
        w.throughput.push_back(*job);
      }
    }
  }
  m.Finish();
}

// `at`: "random", "step N" or a time such as "12s".
void ReadTrigger(const Field& at, DiagnosticSink* sink, FaultSpec* fault) {
  std::optional<std::string> s = ReadString(at, sink);
  if (!s) return;
  std::string_view text = *s;
  if (text == "random") {
    fault->trigger = Trigger::kRandom;
    return;
  }
  if (text.starts_with("step")) {
    text.remove_prefix(4);
    while (text.starts_with(" ")) text.remove_prefix(1);
    std::optional<uint64_t> step = ParseUint(text);
    if (step && *step > 0) {
      fault->trigger = Trigger::kStep;
      fault->step = *step;
      return;
    }
  } else if (std::optional<milliseconds> time = ParseDuration(text)) {
    fault->trigger = Trigger::kTime;
    fault->time = *time;
    return;
  }
  sink->Error(at.pos, at.path,
              "expected 'random', 'step N' (N >= 1) or a time such as 12s, got '" + *s + "'");
}

// True when some client instance of the mixed workload works on `server`.
bool InMixed(const Topology& t, const std::string& server) {
  for (const std::string& name : t.workloads.mixed.clients) {
    const ClientSpec* c = t.FindClient(name);
    if (c && std::find(c->servers.begin(), c->servers.end(), server) != c->servers.end()) {
      return true;
    }
  }
  return false;
}

void ParseFault(const Field& f, DiagnosticSink* sink, Topology* t) {
  FaultSpec fault;
  fault.path = f.path;
  MapReader m(f, sink);
  Field kind = m.Required("kind");
  std::optional<FaultKind> k =
      kind.present() ? ReadEnum(kind, sink, "fault kind", kFaultKindNames) : std::nullopt;
  Field target = m.Required("target");
  Field at = m.Required("at");
  Field rate = m.Optional("rate");
  m.Finish();
  if (!m.is_map()) return;
  if (at.present()) ReadTrigger(at, sink, &fault);
  if (rate.present()) {
    fault.rate = ReadNumber(rate, sink, 0.001, 600).value_or(fault.rate);
    if (fault.trigger != Trigger::kRandom) {
      sink->Error(rate.pos, rate.path, "rate applies to at: random only");
    }
  }
  if (fault.trigger == Trigger::kStep && fault.step > t->workloads.mixed.ops) {
    sink->Error(at.pos, at.path,
                fmt::format("step {} is beyond the mixed workload's {} ops", fault.step,
                            t->workloads.mixed.ops));
  }
  if (fault.trigger == Trigger::kTime && fault.time >= t->duration) {
    sink->Error(at.pos, at.path,
                fmt::format("{} is not within duration {}", FormatDuration(fault.time),
                            FormatDuration(t->duration)));
  }
  std::optional<std::string> name = target.present() ? ReadString(target, sink) : std::nullopt;
  if (!k || !name) return;
  fault.kind = *k;
  fault.target = *name;
  if (TargetsClient(*k)) {
    const auto& mixed = t->workloads.mixed.clients;
    if (t->FindClient(*name) == nullptr) {
      sink->Error(target.pos, target.path,
                  "unknown client '" + *name + "' (client-evict targets a client)");
    } else if (std::find(mixed.begin(), mixed.end(), *name) == mixed.end()) {
      sink->Error(target.pos, target.path, "client '" + *name + "' is not in the mixed workload");
    }
  } else if (t->FindServer(*name) == nullptr) {
    sink->Error(target.pos, target.path,
                "unknown server '" + *name + "' (" + std::string(NameOf(kFaultKindNames, *k)) +
                    " targets a server)");
  } else if (!InMixed(*t, *name)) {
    sink->Error(target.pos, target.path,
                "server '" + *name + "' has no client in the mixed workload");
  } else if (*k == FaultKind::kUpgrade && !t->FindServer(*name)->kernel_upgrade) {
    sink->Error(kind.pos, kind.path,
                "server '" + *name + "' has no second kernel to upgrade to (kernel_upgrade)");
  }
  t->faults.push_back(std::move(fault));
}

void ParseFaults(const Field& f, DiagnosticSink* sink, Topology* t) {
  std::optional<std::vector<Field>> items = ReadList(f, sink);
  if (!items) return;
  if (!items->empty() && !t->workloads.mixed.enabled) {
    sink->Error(f.pos, f.path, "faults apply to the mixed workload: enable workloads.mixed");
    return;
  }
  for (const Field& item : *items) ParseFault(item, sink, t);
}

}  // namespace

Checked<Topology> ParseTopology(std::string_view text, const std::string& file,
                                const std::filesystem::path& base_dir, const Catalogue& catalogue) {
  DiagnosticSink sink(file);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    sink.Error(ToPos(e.mark, Pos{1, 1}), "", e.msg);
    return sink.Take();
  }
  ParseContext ctx;
  ctx.sink = &sink;
  ctx.catalogue = &catalogue;
  ctx.base_dir = base_dir;
  Topology t;
  t.file = file;
  MapReader m(RootField(root), &sink);
  Field name = m.Required("name");
  if (name.present()) t.name = internal::ReadName(name, &sink).value_or("");
  Field seed = m.Optional("seed");
  if (seed.present()) t.seed = ReadUint(seed, &sink).value_or(t.seed);
  Field duration = m.Optional("duration");
  if (duration.present()) {
    t.duration = ReadDuration(duration, &sink).value_or(t.duration);
    if (t.duration.count() <= 0) sink.Error(duration.pos, duration.path, "must be positive");
  }
  Field backend = m.Optional("backend");
  if (backend.present())
    t.backend = ReadEnum(backend, &sink, "backend", kBackendNames).value_or(t.backend);
  Field libvirt = m.Optional("libvirt");
  if (libvirt.present()) {
    ParseLibvirt(libvirt, &ctx, &t.libvirt);
  } else {
    t.libvirt.hosts.push_back(LibvirtHost{.name = "default", .uri = t.libvirt.uri, .pos = {}});
  }
  Field servers = m.Required("servers");
  if (servers.present()) internal::ParseServers(servers, &ctx, &t);
  internal::ParseClients(m.Optional("clients"), &ctx, &t);
  ParseWorkloads(m.Optional("workloads"), ctx, &t);
  Field faults = m.Optional("faults");
  if (faults.present()) ParseFaults(faults, &sink, &t);
  m.Finish();
  CheckImageKernels(libvirt, &sink, t);
  if (!sink.empty()) return sink.Take();
  return t;
}

Checked<Topology> LoadTopology(const std::filesystem::path& file, const Catalogue& catalogue) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) {
    return Diagnostics{
        Diagnostic{file.string(), 0, 0, "", std::string("cannot read: ") + std::strerror(errno)}};
  }
  return ParseTopology(text.str(), file.string(), file.parent_path(), catalogue);
}

}  // namespace ovl::topology
