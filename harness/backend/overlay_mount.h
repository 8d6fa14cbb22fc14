// Mounting a kernel overlayfs with the kernel's own explanation: shared by the harness's layer
// stacks (layer_fs.h) and the offline edits that ovl-guestd also makes (offline_disk.h).
#pragma once

#include <string>

#include "base/status.h"

namespace ovl::backend {

// mount -t overlay `options` at `at`, with `source` as the mount's source name. The kernel
// explains a refusal, and options it falls back from, only in its log: the "overlayfs:" lines it
// logged meanwhile are appended to the error's message, and to `*notes` (when not null) on
// success. EBUSY is retried for up to 15 s (a detached earlier mount of the same upper may still
// be in use).
Status MountOverlayAs(const std::string& source, const std::string& at, const std::string& options,
                      std::string* notes);

}  // namespace ovl::backend
