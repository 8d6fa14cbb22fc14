// Generated cases: seeded sequences of operations and faults, weighted toward what breaks NFS
// handles of an overlay export (docs/explore.md): hold a handle, copy the file up through its
// data or its attributes, rename the file, its parent or grandparent, move it across
// directories, add and remove names (the last one too), make and remove directories, list in
// pages, a second client, and faults between the steps. A small model of the namespace, which
// assumes every operation succeeds, keeps the draws plausible (names that exist, empty dirs to
// remove); when a fault makes the server differ, later steps may fail, and the harness's model
// judges those results too. Pure: no I/O; the same options, seed and index give the same case.
#pragma once

#include <cstdint>
#include <vector>

#include "explore/case_doc.h"
#include "topology/names.h"

namespace ovl::explore {

struct GeneratorOptions {
  uint32_t steps = 24;        // steps per case (operations and faults)
  uint32_t files = 6;         // lower files of the fixture, besides hard links
  uint32_t dirs = 3;          // lower dirs of the fixture (nested: a grandparent exists)
  uint32_t hardlinks = 1;     // lower hard links of fixture files
  int layers = 2;             // lower layers; files spread over them, dirs merge
  uint64_t max_size = 20000;  // fixture files and writes, bytes
  bool two_clients = true;    // a second client (B) takes some of the steps
  // What only a raw NFS client can send (the scenario need raw-nfs): READDIR in pages across
  // steps (in half the cases) and exclusive creates with their verifiers. Off for kernel mounts
  // and local syscalls, which would report such cases UNSUPPORTED.
  bool raw_nfs = true;
  uint32_t fault_percent = 15;  // chance that a step is a fault
  // The faults drawn, in steps of their own (evict, reboot, crash, client-evict).
  std::vector<topology::FaultKind> faults = {
      topology::FaultKind::kEvict, topology::FaultKind::kReboot, topology::FaultKind::kCrash};
  // Chance that a fault is an offline edit of the layers instead (docs/scenarios.md: rename,
  // remove and link in a lower layer, remove a copied-up file from the upper, copy lower dirs
  // up without index), with a clean stop or a crash before it. 0: none. A server without
  // offline edits reports such a case UNSUPPORTED.
  uint32_t offline_percent = 20;
};

// The case `index` of the generated run of `seed`, id "gen-<seed>-<index>".
CaseDoc GenerateCase(const GeneratorOptions& options, uint64_t seed, uint64_t index);

}  // namespace ovl::explore
