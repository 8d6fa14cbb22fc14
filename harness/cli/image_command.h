// `harness image build|list|clean` and `harness clean`, as functions the CLI front end calls
// with the arguments after the subcommand name. Exit codes: 0 done, 2 usage error,
// 3 infrastructure error (a tool or libvirt failed).
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "topology/topology.h"

namespace ovl::cli {

// image build [--cache-dir DIR] [--suite S] [--mirror URL] [--kernel SERIES]...
//             [--package PKG]... [--force]
//     Builds (or finds, unless --force) the guest image; prints its hash and files.
// image list [--cache-dir DIR]     the cached images, their kernels and sizes
// image clean [--cache-dir DIR]    removes every cached image
int ImageCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// clean [--cache-dir DIR] [--uri URI] [--pool NAME] [--pool-path PATH]
//     Destroys leftover project domains (named ovlnfs-...) and removes the VM disks and sockets
//     of runs that are gone (by their libvirt metadata: backend/libvirt/backend.h RunOwner),
//     and, on a remote host, their volumes in the pool. Images stay (see `image clean`).
int CleanCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// The CPUs of each libvirt host of `topology` that answers (the harness host's daemons started
// as for a run); a host that does not answer is left out (counted as 1) and said on `err`.
std::map<std::string, unsigned> HostCpus(const topology::Topology& topology, std::ostream& err);

}  // namespace ovl::cli
