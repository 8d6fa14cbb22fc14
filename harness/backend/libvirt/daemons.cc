#include "backend/libvirt/daemons.h"

#include <pwd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "base/fd.h"
#include "base/file_text.h"
#include "image/command.h"

namespace ovl::backend::libvirt {
namespace {

namespace stdfs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kLibvirtSocket = "/run/libvirt/libvirt-sock";
constexpr const char* kVirtlogdSocket = "/run/libvirt/virtlogd-sock";
constexpr seconds kDaemonStartTimeout{30};

bool SocketAnswers(const char* path) {
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

Status WaitForSocket(const char* path, const std::string& daemon) {
  const auto deadline = std::chrono::steady_clock::now() + kDaemonStartTimeout;
  while (!SocketAnswers(path)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Error(ETIMEDOUT, daemon + " started but " + path + " did not answer within " +
                                          std::to_string(kDaemonStartTimeout.count()) +
                                          " s (see /var/log/libvirt/" + daemon + ".log)");
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  return Status::Ok();
}

Status Prepare(const std::string& log_path, std::ostream& err) {
  std::error_code ec;
  for (const char* d : {"/var/log/libvirt/qemu", "/var/lib/libvirt/qemu", "/var/cache/libvirt/qemu",
                        "/run/libvirt"}) {
    stdfs::create_directories(d, ec);
    if (ec) return Status::Error(ec.value(), std::string("create ") + d + ": " + ec.message());
  }
  // libvirtd's QEMU driver looks up its build-time default user before it reads qemu.conf.
  if (::getpwnam("libvirt-qemu") == nullptr) {
    err << "harness: creating the system user libvirt-qemu (libvirtd needs it to exist)\n";
    OVL_RETURN_IF_ERROR(image::RunCommand({"adduser", "--system", "--group", "--home",
                                           "/var/lib/libvirt", "--no-create-home", "libvirt-qemu"},
                                          log_path, std::chrono::minutes(1)));
  }
  const char* conf = "/etc/libvirt/qemu.conf";
  if (!stdfs::exists(conf, ec)) {
    err << "harness: writing " << conf << " (qemu runs as root: no libvirt-daemon-system here)\n";
    // libvirt-daemon alone ships no /etc/libvirt at all (docs/vms.md, "A new host").
    stdfs::create_directories("/etc/libvirt", ec);
    if (ec) return Status::Error(ec.value(), "create /etc/libvirt: " + ec.message());
    OVL_RETURN_IF_ERROR(WriteFileText(
        conf,
        "# Written by ovlnfs-harness: libvirt-daemon-system is not installed (it would also\n"
        "# install a default network with a host bridge), so qemu runs as root.\n"
        "user = \"root\"\ngroup = \"root\"\n"));
  }
  return Status::Ok();
}

}  // namespace

bool IsLocalUri(const std::string& uri) {
  const size_t scheme = uri.find("://");
  if (scheme == std::string::npos) return false;
  // qemu:///system has an empty host; qemu+ssh://host/system does not.
  if (uri.compare(scheme, 4, ":///") != 0) return false;
  const size_t plus = uri.find('+');
  if (plus == std::string::npos || plus > scheme) return true;
  // Only the default unix socket is this host's daemon for sure (a socket= or command= may
  // lead anywhere).
  return uri.compare(plus, scheme - plus, "+unix") == 0 && uri.find('?') == std::string::npos;
}

bool RemoteUri(const std::string& uri) {
  return !IsLocalUri(uri);
}

Status EnsureDaemons(const std::string& uri, const std::string& log_path, std::ostream& err) {
  if (!IsLocalUri(uri) || uri.find("/session") != std::string::npos) return Status::Ok();
  if (stdfs::exists("/run/systemd/system")) return Status::Ok();  // systemd runs them
  const bool logd = SocketAnswers(kVirtlogdSocket);
  const bool libvirtd = SocketAnswers(kLibvirtSocket);
  if (logd && libvirtd) return Status::Ok();
  for (const char* tool : {"virtlogd", "libvirtd"}) {
    if (!image::HaveTool(tool)) {
      return Status::Error(ENOENT, std::string(tool) +
                                       " not found: install libvirt-daemon and "
                                       "libvirt-daemon-driver-qemu (scripts/install-deps)");
    }
  }
  OVL_RETURN_IF_ERROR(Prepare(log_path, err));
  if (!logd) {
    err << "harness: no systemd and virtlogd is not running: starting virtlogd -d\n";
    OVL_RETURN_IF_ERROR(image::RunCommand({"virtlogd", "-d"}, log_path, kDaemonStartTimeout));
    OVL_RETURN_IF_ERROR(WaitForSocket(kVirtlogdSocket, "virtlogd"));
  }
  if (!libvirtd) {
    err << "harness: no systemd and libvirtd is not running: starting libvirtd -d\n";
    OVL_RETURN_IF_ERROR(image::RunCommand({"libvirtd", "-d"}, log_path, kDaemonStartTimeout));
    OVL_RETURN_IF_ERROR(WaitForSocket(kLibvirtSocket, "libvirtd"));
  }
  return Status::Ok();
}

}  // namespace ovl::backend::libvirt
