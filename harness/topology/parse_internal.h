// Shared pieces of the topology parser (parse_topology.cc: the document, workloads and faults;
// parse_nodes.cc: servers and clients). Not part of the public API.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "topology/catalogue.h"
#include "topology/topology.h"
#include "topology/yaml_reader.h"

namespace ovl::topology::internal {

struct ParseContext {
  DiagnosticSink* sink = nullptr;
  const Catalogue* catalogue = nullptr;
  std::filesystem::path base_dir;  // for relative paths
  // Node names taken so far (servers, clients, client instances) and where.
  std::map<std::string, Pos> names;
  // Servers whose entry had errors: checks that depend on their fields are skipped, so one
  // mistake is reported once.
  std::set<std::string> broken_servers;
  // Key path of each server's entry ("servers[2]"), for errors found after its entry.
  std::map<std::string, std::string> server_paths;
  // A libvirt.hosts entry lost its name (or the list is unusable): `host:` references are not
  // checked, since the broken entry may be the one meant.
  bool hosts_broken = false;
};

// A node or topology name: lowercase letters, digits and '-', starting with a letter.
std::optional<std::string> ReadName(const Field& f, DiagnosticSink* sink);

// `base_dir`/`path` unless `path` is absolute.
std::filesystem::path Resolve(const std::filesystem::path& base_dir, const std::string& path);

// Fills topology->servers from the `servers` list.
void ParseServers(const Field& f, ParseContext* ctx, Topology* topology);

// Fills topology->clients from the `clients` list (servers must be parsed), resolving each
// client's servers and adding the implicit local-syscalls clients of kernel-overlay servers.
void ParseClients(const Field& f, ParseContext* ctx, Topology* topology);

}  // namespace ovl::topology::internal
