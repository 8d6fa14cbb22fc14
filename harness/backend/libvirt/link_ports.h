// Link ports checked on the host that uses them: a plan draws its UDP ports from the seed
// (plan.h), which knows nothing of what else runs on a host; two runs of one topology there would
// draw the same ones. Before a host boots its VMs, every port another domain of that host uses
// (or, on the harness host, that something has bound) is replaced by a free one.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "backend/libvirt/hypervisor.h"
#include "plan/plan.h"

namespace ovl::backend::libvirt {

// The UDP ports (local and remote ends) of every <interface type='udp'> in domain XMLs `xmls`.
std::set<uint16_t> UdpPortsOf(const std::vector<std::string>& xmls);

// `links` with each port of a link on `host` that is in `used` replaced by the next port of
// [kLinkPortMin, kLinkPortMax] (wrapping) that is neither in `used` nor another link's. Pure:
// links of other hosts and link order are kept (a link's index names its guest addresses).
// `notes` gets one line per replaced port.
std::vector<plan::Link> AvoidPorts(std::vector<plan::Link> links, const std::string& host,
                                   const std::set<uint16_t>& used, std::vector<std::string>* notes);

// AvoidPorts with what `hv`'s host uses: its running domains' UDP ports and, when `local`
// (the harness host), ports a bind on 127.0.0.1 finds taken.
Result<std::vector<plan::Link>> FreeLinkPorts(Hypervisor& hv, bool local,
                                              const std::vector<plan::Link>& links,
                                              const std::string& host,
                                              std::vector<std::string>* notes);

}  // namespace ovl::backend::libvirt
