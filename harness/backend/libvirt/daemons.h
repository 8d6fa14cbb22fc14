// Starting libvirt's daemons on hosts where nothing else does. On a systemd host the system's
// (socket-activated) daemons are used as they are; without systemd (containers, our build
// machines) the harness starts virtlogd and libvirtd itself and says so.
#pragma once

#include <ostream>
#include <string>

#include "base/status.h"

namespace ovl::backend::libvirt {

// Makes sure a local `uri` (qemu:///system) has virtlogd and libvirtd running; remote URIs are
// left to their host. Without systemd and with no daemon running, first provides what Debian's
// libvirt-daemon-system would (runtime dirs; the libvirt-qemu user libvirtd insists on; a
// qemu.conf running qemu as root, written only when none exists), then starts `virtlogd -d` and
// `libvirtd -d` and waits (bounded) for their sockets. Each action is reported on `err`; tool
// output goes to `log_path`.
Status EnsureDaemons(const std::string& uri, const std::string& log_path, std::ostream& err);

// True when the URI names the local host's own daemon ("qemu:///system", "qemu:///session",
// "qemu+unix:///system").
bool IsLocalUri(const std::string& uri);
// True when the URI reaches a daemon that may not see the harness host's files: a host name, or a
// transport other than the default unix socket (qemu+ssh://h/system, qemu+ext:///system?...).
bool RemoteUri(const std::string& uri);

}  // namespace ovl::backend::libvirt
