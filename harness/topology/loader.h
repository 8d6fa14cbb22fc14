// Loading a topology file: YAML text -> validated Topology, or every error found, each naming
// file:line:column and the key path.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "topology/catalogue.h"
#include "topology/diagnostics.h"
#include "topology/topology.h"

namespace ovl::topology {

// Parses and validates topology `text`. `file` labels diagnostics and becomes Topology::file;
// relative paths in the text (kernel images, cache_dir) are resolved against `base_dir`;
// scenario ids and fixture names are checked against `catalogue`.
Checked<Topology> ParseTopology(std::string_view text, const std::string& file,
                                const std::filesystem::path& base_dir, const Catalogue& catalogue);

// Reads `file` and parses it as above, with base_dir = the file's directory.
Checked<Topology> LoadTopology(const std::filesystem::path& file, const Catalogue& catalogue);

}  // namespace ovl::topology
