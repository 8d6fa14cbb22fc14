// libFuzzer target: the topology loader of harness/topology (ParseTopology, loader.h) on
// arbitrary YAML, checked against the shipped scenario catalogue (workloads/). A topology either
// loads or comes back with diagnostics; nothing else may happen.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "topology/loader.h"
#include "workload/workloads.h"

namespace {

const ovl::topology::Catalogue& ShippedCatalogue() {
  static const ovl::topology::Catalogue* catalogue = [] {
    const std::filesystem::path source = OVL_SOURCE_DIR;
    ovl::topology::Checked<ovl::workload::Workloads> w =
        ovl::workload::LoadWorkloads({source / "workloads", source / "baselines"});
    if (!w.ok()) {
      std::fprintf(stderr, "topology_fuzz: the workloads in workloads/ do not load\n");
      abort();
    }
    return new ovl::topology::Catalogue(std::move(w->catalogue));
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
