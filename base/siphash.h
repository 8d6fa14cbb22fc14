// SipHash-2-4 (Aumasson & Bernstein): a keyed 64-bit MAC. Used to authenticate file handles so
// a client cannot forge a handle for an inode outside the exported layers.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace ovl {

using SipKey = std::array<uint8_t, 16>;

// The SipHash-2-4 tag of `data` under `key`.
uint64_t SipHash24(const SipKey& key, std::string_view data);

}  // namespace ovl
