#include "backend/libvirt/domain_xml.h"

#include "base/markup.h"

namespace ovl::backend::libvirt {

std::string VirtioDiskName(size_t index) {
  return std::string("vd") + static_cast<char>('a' + index);
}

std::string DomainXml(const DomainConfig& c) {
  auto q = [](const std::string& s) { return "'" + EscapeMarkup(s) + "'"; };
  std::string x;
  x += "<domain type=" + q(c.kvm ? "kvm" : "qemu") + ">\n";
  x += "  <name>" + EscapeMarkup(c.name) + "</name>\n";
  if (!c.metadata.empty()) x += "  <metadata>" + c.metadata + "</metadata>\n";
  x += "  <memory unit='MiB'>" + std::to_string(c.memory_mib) + "</memory>\n";
  x += "  <vcpu>" + std::to_string(c.vcpus) + "</vcpu>\n";
  x += "  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n";
  x += "    <kernel>" + EscapeMarkup(c.kernel) + "</kernel>\n";
  if (!c.initrd.empty()) x += "    <initrd>" + EscapeMarkup(c.initrd) + "</initrd>\n";
  x += "    <cmdline>" + EscapeMarkup(c.cmdline) + "</cmdline>\n  </os>\n";
  // A guest reboot restarts the guest in the same qemu process (links and sockets stay up);
  // a power-off or a crash ends the domain.
  x += "  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>restart</on_reboot>\n";
  x += "  <on_crash>destroy</on_crash>\n  <devices>\n";
  for (size_t i = 0; i < c.disks.size(); ++i) {
    const DiskConfig& d = c.disks[i];
    const std::string source = d.pool.empty()
                                   ? "<source file=" + q(d.path) + "/>"
                                   : "<source pool=" + q(d.pool) + " volume=" + q(d.path) + "/>";
    x += "    <disk type=" + q(d.pool.empty() ? "file" : "volume") +
         " device='disk'><driver name='qemu' type=" + q(d.format) + "/>" + source +
         "<target dev=" + q(VirtioDiskName(i)) + " bus='virtio'/>" +
         (d.readonly ? "<readonly/>" : "") + "</disk>\n";
  }
  if (c.console_log.empty()) {
    x += "    <serial type='pty'><target port='0'/></serial>\n";
  } else {
    x += "    <serial type='file'><source path=" + q(c.console_log) +
         " append='on'/><target port='0'/></serial>\n";
  }
  for (const ChannelConfig& ch : c.channels) {
    const std::string path = ch.socket.empty() ? "" : " path=" + q(ch.socket);
    x += "    <channel type='unix'><source mode='bind'" + path +
         "/><target type='virtio' name=" + q(ch.name) + "/></channel>\n";
  }
  for (const NicConfig& n : c.nics) {
    x += "    <interface type='udp'><mac address=" + q(n.mac) +
         "/><source address='127.0.0.1' port=" + q(std::to_string(n.remote_port)) +
         "><local address='127.0.0.1' port=" + q(std::to_string(n.local_port)) +
         "/></source><model type='virtio'/></interface>\n";
  }
  // Entropy from the host: without it a guest's first blocking getrandom (ovlnfsd's start) waits
  // for the kernel's jitter entropy, seconds under TCG (docs/vms.md).
  x += "    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>\n";
  x += "    <memballoon model='none'/>\n  </devices>\n</domain>\n";
  return x;
}

}  // namespace ovl::backend::libvirt
