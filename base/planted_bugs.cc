#include "base/planted_bugs.h"

#include <array>

namespace ovl {
namespace {

constexpr std::array<std::string_view, static_cast<unsigned>(Plant::kCount)> kNames = {
    "handle-tag-unchecked",
    "lookup-ignores-index",
    "rename-skips-merge-dir-index",
    "unlink-leaves-no-tombstone",
    "copy-up-records-no-origin",
    "copy-up-drops-tail",
    "copy-up-nlink-from-upper",
    "rename-skips-redirect",
    "remove-leaves-no-whiteout",
    "remove-keeps-cached-handle",
    "exclusive-verifier-not-persisted",
    "create-skips-dir-fsync",
    "readdir-cookie-is-position",
    "write-verifier-constant",
};

}  // namespace

std::string_view PlantName(Plant p) {
  return kNames[static_cast<unsigned>(p)];
}

std::optional<Plant> PlantFromName(std::string_view name) {
  for (unsigned i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Plant>(i);
  }
  return std::nullopt;
}

const std::vector<std::string_view>& PlantNames() {
  static const std::vector<std::string_view> names(kNames.begin(), kNames.end());
  return names;
}

}  // namespace ovl
