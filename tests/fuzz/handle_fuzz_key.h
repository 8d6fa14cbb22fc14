// The export UUID and secret of the handle fuzz target, shared with the seed maker so the seeds
// hold handles that pass the tag check.
#pragma once

#include <array>
#include <cstdint>

namespace ovl::fuzz {

inline constexpr std::array<uint8_t, 16> kFuzzExportUuid = {1, 2,  3,  4,  5,  6,  7,  8,
                                                            9, 10, 11, 12, 13, 14, 15, 16};
inline constexpr std::array<uint8_t, 16> kFuzzHandleKey = {0x5a, 1, 2, 3, 4, 5, 6, 7, 8, 9};

}  // namespace ovl::fuzz
