#include "image/recipe.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "base/siphash.h"

namespace ovl::image {
namespace {

// What every guest role runs: NFS server and client tools, the kernel pieces mount needs
// (kmod, initramfs-tools for the kernels' initrds), fio and fuse-overlayfs for workloads and the
// fuse negative control, and the shared libraries of harness-agent and ovlnfsd (ldd: libnfs13,
// libstdc++6).
constexpr const char* kBasePackages[] = {
    "attr",
    "e2fsprogs",
    "fio",
    "fuse-overlayfs",
    "fuse3",
    "initramfs-tools",
    "iproute2",
    "kmod",
    "libnfs-utils",
    "libnfs13",
    "libstdc++6",
    "nfs-common",
    "nfs-ganesha",
    "nfs-ganesha-vfs",
    "nfs-kernel-server",
    "procps",
    "qemu-guest-agent",
    "rpcbind",
    "util-linux",
};

// Debian's package for a kernel series, per suite (bookworm ships 6.12 through its security
// archive as linux-image-6.12-amd64).
const std::map<std::string, std::map<std::string, std::string>>& KernelPackages() {
  static const auto* table = new std::map<std::string, std::map<std::string, std::string>>{
      {"bookworm", {{"6.1", "linux-image-amd64"}, {"6.12", "linux-image-6.12-amd64"}}},
  };
  return *table;
}

// PID 1 of every guest: the basic mounts, then the run's own init from the payload disk (so
// role changes never need a new image). Powers off when there is no payload.
constexpr const char* kGuestInit = R"SH(#!/bin/sh
# ovl-init: PID 1 of an ovlnfs-harness guest. Basic mounts, then /payload/init.sh.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
mount -t proc proc /proc 2>/dev/null
mount -t sysfs sysfs /sys 2>/dev/null
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -o remount,rw /
echo "ovl-init: kernel $(uname -r) up after $(cut -d' ' -f1 /proc/uptime)s"
mkdir -p /payload
if mount -o ro /dev/vdb /payload && [ -x /payload/init.sh ]; then
  exec /payload/init.sh
fi
echo "ovl-init: no payload disk; powering off"
echo o > /proc/sysrq-trigger
)SH";

std::string SecurityMirror(const std::string& mirror) {
  const std::string suffix = "/debian";
  if (mirror.size() > suffix.size() &&
      mirror.compare(mirror.size() - suffix.size(), suffix.size(), suffix) == 0) {
    return mirror + "-security";
  }
  return "";
}

}  // namespace

Result<Recipe> MakeRecipe(const topology::ImageRecipe& settings) {
  Recipe r;
  r.suite = settings.suite;
  r.sources = {"deb " + settings.mirror + " " + r.suite + " main",
               "deb " + settings.mirror + " " + r.suite + "-updates main"};
  const std::string security = SecurityMirror(settings.mirror);
  if (!security.empty()) r.sources.push_back("deb " + security + " " + r.suite + "-security main");
  r.kernels = settings.kernels;
  if (r.kernels.empty()) {
    for (auto s : topology::kKernelSeries) r.kernels.emplace_back(s);
  }
  std::sort(r.kernels.begin(), r.kernels.end());
  r.kernels.erase(std::unique(r.kernels.begin(), r.kernels.end()), r.kernels.end());
  r.packages.assign(std::begin(kBasePackages), std::end(kBasePackages));
  r.packages.insert(r.packages.end(), settings.packages.begin(), settings.packages.end());
  auto suite = KernelPackages().find(r.suite);
  for (const auto& series : r.kernels) {
    if (suite == KernelPackages().end() || !suite->second.count(series)) {
      return Status::Error(
          EINVAL, "no Debian kernel package known for series " + series + " in suite " + r.suite);
    }
    r.packages.push_back(suite->second.at(series));
  }
  std::sort(r.packages.begin(), r.packages.end());
  r.packages.erase(std::unique(r.packages.begin(), r.packages.end()), r.packages.end());
  r.size = settings.size;
  r.init = kGuestInit;
  return r;
}

std::string RecipeText(const Recipe& r) {
  std::string out = "suite: " + r.suite + "\n";
  for (const auto& s : r.sources) out += "source: " + s + "\n";
  for (const auto& k : r.kernels) out += "kernel: " + k + "\n";
  for (const auto& p : r.packages) out += "package: " + p + "\n";
  out += "size: " + std::to_string(r.size) + "\n";
  out += "init:\n" + r.init;
  return out;
}

std::string RecipeHash(const Recipe& r) {
  // A fixed key: the hash names cache entries, it authenticates nothing.
  static constexpr SipKey kKey = {'o', 'v', 'l', 'n', 'f', 's', '-', 'i',
                                  'm', 'a', 'g', 'e', '-', 'v', '1', '.'};
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(SipHash24(kKey, RecipeText(r))));
  return hex;
}

std::vector<std::string> MmdebstrapArgv(const Recipe& r, const std::string& tree) {
  std::string include;
  for (const auto& p : r.packages) include += (include.empty() ? "" : ",") + p;
  std::vector<std::string> argv = {
      "mmdebstrap", "--variant=apt", "--mode=root", "--format=directory",
      // Small initrds: only what finds and mounts the root disk, before any kernel is installed.
      "--essential-hook=mkdir -p \"$1/etc/initramfs-tools/conf.d\" && "
      "echo MODULES=list > \"$1/etc/initramfs-tools/conf.d/ovlnfs.conf\" && "
      "printf 'virtio_pci\\nvirtio_blk\\next4\\n' >> \"$1/etc/initramfs-tools/modules\"",
      "--dpkgopt=path-exclude=/usr/share/doc/*", "--dpkgopt=path-exclude=/usr/share/man/*",
      "--dpkgopt=path-exclude=/usr/share/locale/*", "--include=" + include, r.suite, tree};
  argv.insert(argv.end(), r.sources.begin(), r.sources.end());
  return argv;
}

}  // namespace ovl::image
