// A fixture (ops/fixture.h) on disk: its lower layers written into directories, and the check
// that they still hold exactly that. Used by the backends on the server's host or guest
// (backend/local_nodes.cc, backend/libvirt/guest/guestd.cc) and for throughput working sets.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "ops/fixture.h"

namespace ovl::backend {

// Creates the fixture in `lower_dirs` (one per layer, top-most first; must exist and be empty).
// EINVAL when the counts differ; else the errno of the first call that failed, naming the path.
[[nodiscard]] Status Materialize(const ops::Fixture& f, const std::vector<std::string>& lower_dirs);

// Checks that `lower_dirs` still hold exactly what Materialize made (lower layers are read-only
// to an overlay: a copy-up must never write them). EIO naming the first difference.
[[nodiscard]] Status VerifyLowerLayers(const ops::Fixture& f,
                                       const std::vector<std::string>& lower_dirs);

}  // namespace ovl::backend
