#include "nfs/export_policy.h"

#include <arpa/inet.h>

#include <charconv>

namespace ovl::nfs {

namespace {

uint32_t PrefixMask(uint32_t prefix_len) {
  return prefix_len == 0 ? 0 : ~uint32_t{0} << (32 - prefix_len);
}

Cred Anonymous() {
  return Cred{kAnonId, kAnonId, {}};
}

}  // namespace

Result<Cidr> Cidr::Parse(std::string_view text) {
  auto bad = [&] {
    return Status::Error(EINVAL, "expected A.B.C.D[/N], got '" + std::string(text) + "'");
  };
  std::string_view addr = text;
  uint32_t prefix_len = 32;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    std::string_view len = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), prefix_len);
    if (len.empty() || ec != std::errc() || end != len.data() + len.size() || prefix_len > 32) {
      return bad();
    }
  }
  in_addr a{};
  if (inet_pton(AF_INET, std::string(addr).c_str(), &a) != 1) return bad();
  return Cidr{ntohl(a.s_addr) & PrefixMask(prefix_len), prefix_len};
}

bool Cidr::Contains(uint32_t ipv4) const {
  return (ipv4 & PrefixMask(prefix_len)) == network;
}

std::string Cidr::ToString() const {
  in_addr a{htonl(network)};
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a, buf, sizeof(buf));
  return std::string(buf) + "/" + std::to_string(prefix_len);
}

Result<Squash> ParseSquash(std::string_view text) {
  if (text == "root") return Squash::kRoot;
  if (text == "all") return Squash::kAll;
  if (text == "none") return Squash::kNone;
  return Status::Error(EINVAL, "expected root|all|none, got '" + std::string(text) + "'");
}

bool ExportPolicy::Allows(uint32_t ipv4) const {
  for (const Cidr& c : options_.allow) {
    if (c.Contains(ipv4)) return true;
  }
  return false;
}

Cred ExportPolicy::CredFor(const rpc::CallContext& ctx) const {
  if (ctx.auth_flavor != rpc::kAuthSys || options_.squash == Squash::kAll) return Anonymous();
  Cred cred{ctx.uid, ctx.gid, ctx.gids};
  if (options_.squash == Squash::kRoot) {
    // Like knfsd's root_squash: group 0 is squashed too, or root could act through it.
    auto squash = [](uint32_t id) { return id == 0 ? kAnonId : id; };
    cred.uid = squash(cred.uid);
    cred.gid = squash(cred.gid);
    for (uint32_t& g : cred.groups) g = squash(g);
  }
  return cred;
}

}  // namespace ovl::nfs
