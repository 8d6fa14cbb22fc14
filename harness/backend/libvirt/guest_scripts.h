// The shell scripts of the payload disk: init.sh (run by the image's /sbin/ovl-init as PID 1:
// network, the role's daemons, harness-agent for clients, then ovl-guestd) and role.sh (the
// role's actions, run by init.sh and by the host through ovl-guestd). Both read role.env, which
// RoleEnv writes per VM.
#pragma once

#include <map>
#include <string>

namespace ovl::backend::libvirt {

// Guest roles: "knfsd", "knfsd-fuse", "reference" (servers) and "client".
const std::string& InitScript();
const std::string& RoleScript();

// role.env: shell assignments of `vars` (values single-quoted).
std::string RoleEnv(const std::map<std::string, std::string>& vars);

}  // namespace ovl::backend::libvirt
