// One RPC program served in several versions by separate implementations (NFS: version 3 and
// version 4 on the same program number). The transport requires distinct program numbers
// (rpc/server.h), so the versions are joined here and each call goes to its version's program.
#pragma once

#include <algorithm>
#include <vector>

#include "rpc/program.h"

namespace ovl::rpc {

class VersionMux : public Program {
 public:
  // `versions` (not owned, outliving the mux) share one program number and have disjoint
  // version ranges; there must be at least one.
  explicit VersionMux(std::vector<Program*> versions) : versions_(std::move(versions)) {}

  uint32_t number() const override { return versions_.front()->number(); }
  uint32_t min_version() const override {
    uint32_t v = versions_.front()->min_version();
    for (const Program* p : versions_) v = std::min(v, p->min_version());
    return v;
  }
  uint32_t max_version() const override {
    uint32_t v = versions_.front()->max_version();
    for (const Program* p : versions_) v = std::max(v, p->max_version());
    return v;
  }
  // The transport has checked the overall range; a version in a gap between the programs'
  // ranges (none for NFS 3 and 4) gets PROC_UNAVAIL.
  AcceptStat Call(const CallContext& ctx, xdr::Decoder& args, xdr::Encoder& results) override {
    for (Program* p : versions_) {
      if (ctx.vers >= p->min_version() && ctx.vers <= p->max_version()) {
        return p->Call(ctx, args, results);
      }
    }
    return AcceptStat::kProcUnavail;
  }

 private:
  std::vector<Program*> versions_;
};

}  // namespace ovl::rpc
