// The guest image recipe: what mmdebstrap installs and how the tree becomes a bootable ext4
// image. The recipe is plain data; its hash names the cached image, so any change to it (a
// package, a kernel series, the image size, the guest init) builds a new image.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "topology/topology.h"

namespace ovl::image {

struct Recipe {
  std::string suite;                  // Debian suite ("bookworm")
  std::vector<std::string> sources;   // apt source lines handed to mmdebstrap
  std::vector<std::string> kernels;   // kernel series, sorted ("6.1", "6.12")
  std::vector<std::string> packages;  // every package installed, sorted and unique
  uint64_t size = 0;                  // bytes of the ext4 image
  std::string init;                   // /sbin/ovl-init of the image
};

// The recipe for `settings`: the packages every guest role needs, the topology's extra packages,
// and the kernels it names (both Debian series when it names none, so one image serves every
// topology). EINVAL for a kernel series the suite has no package for.
Result<Recipe> MakeRecipe(const topology::ImageRecipe& settings);

// The canonical text of `recipe` (one "key: value" line per item), which is what is hashed.
std::string RecipeText(const Recipe& recipe);

// 16 hex digits naming the image built from `recipe`.
std::string RecipeHash(const Recipe& recipe);

// The mmdebstrap command line building `recipe` into the directory `tree`.
std::vector<std::string> MmdebstrapArgv(const Recipe& recipe, const std::string& tree);

}  // namespace ovl::image
