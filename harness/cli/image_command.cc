#include "cli/image_command.h"

#include <cstdio>

#include "backend/libvirt/backend.h"
#include "backend/libvirt/daemons.h"
#include "backend/local_nodes.h"
#include "image/image.h"
#include "image/recipe.h"

namespace ovl::cli {
namespace {

struct Flags {
  std::string cache_dir = image::kDefaultCacheDir;
  topology::LibvirtHost host{.name = "default",
                             .uri = "qemu:///system",
                             .pos = {}};  // clean: the host, and its pool when remote
  topology::ImageRecipe recipe;
  bool force = false;
  bool help = false;  // -h/--help anywhere: print the usage, do nothing else
};

// Parses `args` from index `from`; `allowed` lists the flags this command takes. Returns an
// error message, or "".
std::string Parse(const std::vector<std::string>& args, size_t from,
                  const std::vector<std::string>& allowed, Flags* f) {
  for (size_t i = from; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      f->help = true;
      continue;
    }
    if (std::find(allowed.begin(), allowed.end(), a) == allowed.end()) {
      return "unexpected argument '" + a + "'";
    }
    if (a == "--force") {
      f->force = true;
      continue;
    }
    if (i + 1 >= args.size()) return a + " needs a value";
    const std::string& v = args[++i];
    if (a == "--cache-dir") f->cache_dir = v;
    if (a == "--uri") f->host.uri = v;
    if (a == "--pool") f->host.pool = v;
    if (a == "--pool-path") f->host.pool_path = v;
    if (a == "--suite") f->recipe.suite = v;
    if (a == "--mirror") f->recipe.mirror = v;
    if (a == "--kernel") f->recipe.kernels.push_back(v);
    if (a == "--package") f->recipe.packages.push_back(v);
  }
  return "";
}

std::string Size(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1ull << 30));
  return buf;
}

void Print(const image::GuestImage& img, std::ostream& out) {
  out << img.hash << "  built " << img.built << "  " << Size(img.bytes) << " on disk  " << img.dir
      << "\n";
  for (const auto& k : img.kernels) out << "  kernel " << k.series << ": " << k.release << "\n";
}

constexpr const char* kImageUsage =
    "usage: harness image build [--cache-dir DIR] [--suite S] [--mirror URL] [--kernel SERIES]... "
    "[--package PKG]... [--force]\n"
    "       harness image list [--cache-dir DIR]\n"
    "       harness image clean [--cache-dir DIR]\n";

constexpr const char* kCleanUsage =
    "usage: harness clean [--cache-dir DIR] [--uri URI] [--pool NAME] [--pool-path PATH]\n";

}  // namespace

int ImageCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Flags f;
  const std::string verb = args.empty() ? "" : args[0];
  if (verb == "-h" || verb == "--help") {
    out << kImageUsage;
    return 0;
  }
  std::vector<std::string> allowed = {"--cache-dir"};
  if (verb == "build") {
    allowed.insert(allowed.end(), {"--suite", "--mirror", "--kernel", "--package", "--force"});
  } else if (verb != "list" && verb != "clean") {
    err << kImageUsage;
    return 2;
  }
  const std::string bad = Parse(args, 1, allowed, &f);
  if (!bad.empty()) {
    err << "harness image " << verb << ": " << bad << "\n" << kImageUsage;
    return 2;
  }
  if (f.help) {
    out << kImageUsage;
    return 0;
  }
  if (verb == "build") {
    auto recipe = image::MakeRecipe(f.recipe);
    if (!recipe.ok()) {
      err << "harness image build: " << recipe.status().message() << "\n";
      return 2;
    }
    auto img = image::EnsureImage(*recipe, f.cache_dir, f.force, err);
    if (!img.ok()) {
      err << "harness image build: " << img.status().ToString() << "\n";
      return 3;
    }
    Print(*img, out);
    return 0;
  }
  if (verb == "list") {
    auto images = image::ListImages(f.cache_dir);
    if (!images.ok()) {
      err << "harness image list: " << images.status().ToString() << "\n";
      return 3;
    }
    if (images->empty()) out << "no guest images under " << f.cache_dir << "\n";
    for (const auto& img : *images) Print(img, out);
    return 0;
  }
  auto removed = image::RemoveImages(f.cache_dir);
  if (!removed.ok()) {
    err << "harness image clean: " << removed.status().ToString() << "\n";
    return 3;
  }
  out << "removed " << *removed << " image(s) under " << f.cache_dir << "\n";
  return 0;
}

int CleanCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Flags f;
  const std::string bad = Parse(args, 0, {"--cache-dir", "--uri", "--pool", "--pool-path"}, &f);
  if (!bad.empty()) {
    err << "harness clean: " << bad << "\n" << kCleanUsage;
    return 2;
  }
  if (f.help) {
    out << kCleanUsage;
    return 0;
  }
  // The local backend's overlay mounts first: they need no libvirt.
  int code = 0;
  if (Result<size_t> mounts = backend::CleanDeadRunMounts(out); !mounts.ok()) {
    err << "harness clean: " << mounts.status().ToString() << "\n";
    code = 3;
  }
  Status st = backend::libvirt::CleanLeftovers(f.cache_dir, f.host, out);
  if (!st.ok()) {
    err << "harness clean: " << st.ToString() << "\n";
    return 3;
  }
  return code;
}

std::map<std::string, unsigned> HostCpus(const topology::Topology& topology, std::ostream& err) {
  std::map<std::string, unsigned> cpus;
  for (const topology::LibvirtHost& h : topology.libvirt.hosts) {
    const std::string cache = topology.libvirt.cache_dir.empty()
                                  ? image::kDefaultCacheDir
                                  : topology.libvirt.cache_dir.string();
    Status up = backend::libvirt::EnsureDaemons(h.uri, cache + "/daemons.log", err);
    auto hv = up.ok() ? backend::libvirt::Hypervisor::Open(h.uri)
                      : Result<std::unique_ptr<backend::libvirt::Hypervisor>>(up);
    if (!hv.ok()) {
      err << "harness: libvirt host " << h.name << " (" << h.uri
          << ") does not answer; placing as if it had 1 CPU: " << hv.status().ToString() << "\n";
      continue;
    }
    cpus[h.name] = (*hv)->Cpus();
  }
  return cpus;
}

}  // namespace ovl::cli
