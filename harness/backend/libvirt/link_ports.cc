#include "backend/libvirt/link_ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "base/fd.h"

namespace ovl::backend::libvirt {
namespace {

// True when a UDP bind of 127.0.0.1:port fails with EADDRINUSE.
bool BoundHere(uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno == EADDRINUSE;
}

}  // namespace

std::set<uint16_t> UdpPortsOf(const std::vector<std::string>& xmls) {
  std::set<uint16_t> out;
  for (const std::string& xml : xmls) {
    // Bounded by the document: each pass moves past one interface.
    for (size_t at = xml.find("<interface type='udp'>"); at != std::string::npos;
         at = xml.find("<interface type='udp'>", at + 1)) {
      const size_t end = xml.find("</interface>", at);
      const std::string iface = xml.substr(at, end == std::string::npos ? end : end - at);
      for (size_t p = iface.find("port='"); p != std::string::npos;
           p = iface.find("port='", p + 1)) {
        const unsigned long v = std::strtoul(iface.c_str() + p + 6, nullptr, 10);
        if (v > 0 && v < 65536) out.insert(static_cast<uint16_t>(v));
      }
    }
  }
  return out;
}

std::vector<plan::Link> AvoidPorts(std::vector<plan::Link> links, const std::string& host,
                                   const std::set<uint16_t>& used,
                                   std::vector<std::string>* notes) {
  std::set<uint16_t> taken = used;
  for (const plan::Link& l : links) taken.insert({l.server_port, l.client_port});
  constexpr uint32_t kRange = plan::kLinkPortMax - plan::kLinkPortMin + 1;
  auto replace = [&](uint16_t* port, const std::string& what) {
    if (!used.count(*port)) return;
    for (uint32_t i = 1; i < kRange; ++i) {
      const auto candidate =
          static_cast<uint16_t>(plan::kLinkPortMin + (*port - plan::kLinkPortMin + i) % kRange);
      if (taken.count(candidate)) continue;
      notes->push_back(what + ": port " + std::to_string(*port) + " is in use on host " + host +
                       ", using " + std::to_string(candidate));
      taken.insert(candidate);
      *port = candidate;
      return;
    }
  };
  for (plan::Link& l : links) {
    if (l.host != host) continue;
    replace(&l.server_port, "link " + l.server + "-" + l.client + " (server end)");
    replace(&l.client_port, "link " + l.server + "-" + l.client + " (client end)");
  }
  return links;
}

Result<std::vector<plan::Link>> FreeLinkPorts(Hypervisor& hv, bool local,
                                              const std::vector<plan::Link>& links,
                                              const std::string& host,
                                              std::vector<std::string>* notes) {
  OVL_ASSIGN_OR_RETURN(std::vector<std::string> xmls, hv.ActiveDomainXmls());
  std::set<uint16_t> used = UdpPortsOf(xmls);
  if (local) {
    for (const plan::Link& l : links) {
      if (l.host != host) continue;
      for (uint16_t p : {l.server_port, l.client_port}) {
        if (BoundHere(p)) used.insert(p);
      }
    }
  }
  return AvoidPorts(links, host, used, notes);
}

}  // namespace ovl::backend::libvirt
