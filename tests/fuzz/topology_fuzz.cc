// libFuzzer target: the topology loader of harness/topology (ParseTopology, loader.h) on
// arbitrary YAML, checked against the shipped scenario catalogue (workloads/). A topology either
// loads or comes back with diagnostics; nothing else may happen.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "topology/catalogue.h"
#include "topology/loader.h"

namespace {

const ovl::topology::Catalogue& ShippedCatalogue() {
  static const ovl::topology::Catalogue* catalogue = [] {
    ovl::topology::Checked<ovl::topology::Catalogue> c =
        ovl::topology::LoadCatalogue(std::string(OVL_SOURCE_DIR) + "/workloads");
    if (!c.ok()) {
      std::fprintf(stderr, "topology_fuzz: the catalogue in workloads/ does not load\n");
      abort();
    }
    return new ovl::topology::Catalogue(std::move(c).value());
  }();
  return *catalogue;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ovl::topology::Checked<ovl::topology::Topology> t =
      ovl::topology::ParseTopology(text, "fuzz.yaml", "/nonexistent", ShippedCatalogue());
  if (!t.ok() && t.errors().empty()) {
    std::fprintf(stderr, "topology_fuzz: a topology refused without a diagnostic\n");
    abort();
  }
  return 0;
}
