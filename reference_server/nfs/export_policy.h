// Who may use the export and as whom: the client address allow list, credential squashing and
// the read-only switch. Shared, immutable, by the NFS and MOUNT programs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "rpc/program.h"
#include "union/union_fs.h"

namespace ovl::nfs {

// The uid and gid squashed callers run as ("nobody"/"nogroup").
inline constexpr uint32_t kAnonId = 65534;

// An IPv4 network, addresses in host byte order.
struct Cidr {
  uint32_t network = 0;  // host bits are zero
  uint32_t prefix_len = 32;

  // Parses "A.B.C.D/N" or a bare "A.B.C.D" (/32). Host bits beyond the prefix are cleared.
  // EINVAL with a message on anything else.
  static Result<Cidr> Parse(std::string_view text);
  // True when `ipv4` (host byte order) lies in this network.
  bool Contains(uint32_t ipv4) const;
  // "A.B.C.D/N".
  std::string ToString() const;
  bool operator==(const Cidr&) const = default;
};

// root: AUTH_SYS uid/gid 0 become kAnonId; all: every caller becomes kAnonId; none: credentials
// are used as sent. AUTH_NONE callers are always kAnonId.
enum class Squash { kRoot, kAll, kNone };

// Parses "root", "all" or "none"; EINVAL otherwise.
Result<Squash> ParseSquash(std::string_view text);

struct ExportOptions {
  std::string path = "/export";  // what MOUNT clients ask for
  std::vector<Cidr> allow = {Cidr{0x7f000000, 8}};
  Squash squash = Squash::kRoot;
  bool read_only = false;
};

class ExportPolicy {
 public:
  explicit ExportPolicy(ExportOptions options) : options_(std::move(options)) {}

  // True when a peer at `ipv4` (host byte order) is in the allow list.
  bool Allows(uint32_t ipv4) const;
  // The credential a call runs as, after squashing.
  Cred CredFor(const rpc::CallContext& ctx) const;
  const ExportOptions& options() const { return options_; }

 private:
  ExportOptions options_;
};

}  // namespace ovl::nfs
