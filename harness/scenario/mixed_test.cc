#include "scenario/mixed.h"

#include <gtest/gtest.h>

#include <map>

#include "ops/fixture_json.h"

namespace ovl::scenario {
namespace {

MixedOptions Options() {
  MixedOptions o;
  o.seed = 17;
  o.clients = {"c", "c-2", "d"};
  o.ops = 300;
  o.layers = 2;
  return o;
}

bool Under(const std::string& path, const std::string& client) {
  return path == client || path.rfind(client + "/", 0) == 0;
}

TEST(MixedTest, IsDeterministicInTheSeed) {
  ovl::Result<MixedWorkload> a = MakeMixedWorkload(Options());
  ovl::Result<MixedWorkload> b = MakeMixedWorkload(Options());
  MixedOptions other = Options();
  other.seed = 18;
  ovl::Result<MixedWorkload> c = MakeMixedWorkload(other);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok()) << a.status().message();
  EXPECT_EQ(ops::FixtureToJson(a->fixture), ops::FixtureToJson(b->fixture));
  ASSERT_EQ(a->ops.size(), 3u);
  for (size_t i = 0; i < a->ops.size(); ++i) {
    ASSERT_EQ(a->ops[i].size(), b->ops[i].size());
    for (size_t k = 0; k < a->ops[i].size(); ++k) {
      EXPECT_EQ(nlohmann::json(a->ops[i][k]), nlohmann::json(b->ops[i][k]));
    }
  }
  EXPECT_NE(nlohmann::json(a->ops[0]), nlohmann::json(c->ops[0]));
}

TEST(MixedTest, ClientsStayInTheirOwnSubtrees) {
  ovl::Result<MixedWorkload> w = MakeMixedWorkload(Options());
  ASSERT_TRUE(w.ok());
  for (const ops::FixtureEntry& e : w->fixture.entries) {
    EXPECT_TRUE(Under(e.path, "c") || Under(e.path, "c-2") || Under(e.path, "d")) << e.path;
  }
  std::map<uint64_t, int> seqs;
  std::map<ops::Kind, int> kinds;
  for (size_t i = 0; i < w->ops.size(); ++i) {
    const std::string client = Options().clients[i];
    EXPECT_EQ(w->ops[i].size(), 100u);
    for (const ops::Op& op : w->ops[i]) {
      EXPECT_EQ(op.client, client);
      ++seqs[op.seq];
      ++kinds[op.kind];
      for (const ops::Target* t : {&op.target, &op.target2}) {
        if (t->var.empty() && (t == &op.target || !op.name2.empty())) {
          EXPECT_TRUE(Under(t->path, client)) << client << ": " << nlohmann::json(op).dump();
        }
      }
    }
  }
  EXPECT_EQ(seqs.size(), 300u);  // unique over all clients
  // Every kind of change and read-back shows up in a workload this long.
  for (ops::Kind k :
       {ops::Kind::kCreate, ops::Kind::kWrite, ops::Kind::kRead, ops::Kind::kRename,
        ops::Kind::kLink, ops::Kind::kRemove, ops::Kind::kLookup, ops::Kind::kGetAttr}) {
    EXPECT_GT(kinds[k], 0) << ops::KindName(k);
  }
}

TEST(MixedTest, RejectsUnusableClientNames) {
  MixedOptions o = Options();
  o.clients = {"a/b"};
  EXPECT_FALSE(MakeMixedWorkload(o).ok());
  o.clients = {};
  ovl::Result<MixedWorkload> none = MakeMixedWorkload(o);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->ops.empty());
}

}  // namespace
}  // namespace ovl::scenario
