#include "topology/topology.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace ovl::topology {

std::string OverlayOptions::MountOptions() const {
  std::string out;
  auto add = [&](std::string_view key, const std::string& value) {
    if (value.empty()) return;
    out += (out.empty() ? "" : ",") + std::string(key) + "=" + value;
  };
  add("index", index);
  add("nfs_export", nfs_export);
  add("redirect_dir", redirect_dir);
  add("xino", xino);
  add("metacopy", metacopy);
  add("uuid", uuid);
  return out;
}

std::string ServerSpec::DescribeLayers() const {
  std::string out = fmt::format("layers {}", layers);
  const bool plain = upper_fs == LayerFs::kSame && !nested &&
                     std::all_of(lower_fs.begin(), lower_fs.end(),
                                 [](LayerFs fs) { return fs == LayerFs::kSame; });
  if (plain) return out;
  std::vector<std::string_view> lowers;
  for (LayerFs fs : lower_fs) lowers.push_back(NameOf(kLayerFsNames, fs));
  out += fmt::format(" (lower {}; upper {}{})", fmt::join(lowers, ","),
                     NameOf(kLayerFsNames, upper_fs), nested ? "; nested" : "");
  return out;
}

KernelSpec KernelSpec::Debian(std::string series) {
  KernelSpec k;
  k.series = std::move(series);
  return k;
}

std::string KernelSpec::Describe() const {
  return series.empty() ? "bzimage " + bzimage.string() : series;
}

std::string FixtureSpec::Describe() const {
  if (!name.empty()) return name;
  return fmt::format("generated files={} dirs={} size={} hardlinks={} seed={}", files, dirs,
                     FormatSize(size), hardlinks, seed);
}

std::vector<std::string> ClientSpec::InstanceNames() const {
  if (count == 1) return {name};
  std::vector<std::string> out;
  for (uint64_t i = 1; i <= count; ++i) out.push_back(name + "-" + std::to_string(i));
  return out;
}

namespace {

bool IsVersionOption(std::string_view option) {
  return option.rfind("vers=", 0) == 0 || option.rfind("nfsvers=", 0) == 0;
}

// The comma-separated options of `options`, empty ones dropped.
std::vector<std::string_view> SplitOptions(std::string_view options) {
  std::vector<std::string_view> out;
  while (!options.empty()) {
    const size_t comma = options.find(',');
    std::string_view option = options.substr(0, comma);
    if (!option.empty()) out.push_back(option);
    if (comma == std::string_view::npos) break;
    options.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

std::string NfsVersionOf(std::string_view mount_options) {
  std::string version;
  for (std::string_view option : SplitOptions(mount_options)) {
    if (IsVersionOption(option)) version = std::string(option.substr(option.find('=') + 1));
  }
  return version;
}

std::string ClientSpec::MountOptions(std::string_view version) const {
  std::string out = "vers=" + std::string(version);
  for (std::string_view option : SplitOptions(mount_options)) {
    if (!IsVersionOption(option)) out += "," + std::string(option);
  }
  return out;
}

const ServerSpec* Topology::FindServer(std::string_view name) const {
  auto it = std::find_if(servers.begin(), servers.end(),
                         [&](const ServerSpec& s) { return s.name == name; });
  return it == servers.end() ? nullptr : &*it;
}

const ClientSpec* Topology::FindClient(std::string_view name) const {
  auto it = std::find_if(clients.begin(), clients.end(),
                         [&](const ClientSpec& c) { return c.name == name; });
  return it == clients.end() ? nullptr : &*it;
}

const LibvirtHost* Topology::FindHost(std::string_view name) const {
  const std::vector<LibvirtHost>& hosts = libvirt.hosts;
  auto it = std::find_if(hosts.begin(), hosts.end(),
                         [&](const LibvirtHost& h) { return h.name == name; });
  return it == hosts.end() ? nullptr : &*it;
}

bool Topology::UsesLibvirt() const {
  return std::any_of(servers.begin(), servers.end(),
                     [](const ServerSpec& s) { return s.backend == Backend::kLibvirt; }) ||
         std::any_of(clients.begin(), clients.end(),
                     [](const ClientSpec& c) { return c.backend == Backend::kLibvirt; });
}

std::string Topology::Summary() const {
  uint64_t instances = 0;
  // per_server replicates every instance per server; the plan's per-host split is not counted.
  for (const ClientSpec& c : clients) instances += c.count * (c.per_server ? c.servers.size() : 1);
  std::string mixed =
      workloads.mixed.enabled
          ? fmt::format("mixed {} ops / {}", workloads.mixed.ops, FormatDuration(duration))
          : "no mixed workload";
  return fmt::format(
      "{}: {} server{}, {} client{} ({} instance{}), {} scenario{}, {}, {} fault{}, "
      "{} throughput job{}",
      name, servers.size(), servers.size() == 1 ? "" : "s", clients.size(),
      clients.size() == 1 ? "" : "s", instances, instances == 1 ? "" : "s",
      workloads.scenarios.size(), workloads.scenarios.size() == 1 ? "" : "s", mixed, faults.size(),
      faults.size() == 1 ? "" : "s", workloads.throughput.size(),
      workloads.throughput.size() == 1 ? "" : "s");
}

}  // namespace ovl::topology
