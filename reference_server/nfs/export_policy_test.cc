#include "nfs/export_policy.h"

#include <gtest/gtest.h>

namespace ovl::nfs {
namespace {

constexpr uint32_t Ip(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return a << 24 | b << 16 | c << 8 | d;
}

TEST(CidrTest, ParsesNetworksAndHosts) {
  Result<Cidr> net = Cidr::Parse("10.1.0.0/16");
  ASSERT_TRUE(net.ok());
  EXPECT_EQ(net->network, Ip(10, 1, 0, 0));
  EXPECT_EQ(net->prefix_len, 16u);
  EXPECT_EQ(net->ToString(), "10.1.0.0/16");

  Result<Cidr> host = Cidr::Parse("192.168.1.7");
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->ToString(), "192.168.1.7/32");

  Result<Cidr> masked = Cidr::Parse("127.1.2.3/8");
  ASSERT_TRUE(masked.ok());
  EXPECT_EQ(masked->ToString(), "127.0.0.0/8");

  Result<Cidr> all = Cidr::Parse("0.0.0.0/0");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->Contains(Ip(8, 8, 8, 8)));
}

TEST(CidrTest, RejectsGarbage) {
  for (const char* bad : {"", "10.0.0.0/33", "10.0.0.0/", "10.0.0/8", "x/8", "10.0.0.0/8x",
                          "10.0.0.0/-1", "::1/128", "256.0.0.0/8"}) {
    Result<Cidr> c = Cidr::Parse(bad);
    EXPECT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), EINVAL) << bad;
  }
}

TEST(CidrTest, Contains) {
  Cidr c = *Cidr::Parse("10.1.0.0/16");
  EXPECT_TRUE(c.Contains(Ip(10, 1, 0, 0)));
  EXPECT_TRUE(c.Contains(Ip(10, 1, 255, 255)));
  EXPECT_FALSE(c.Contains(Ip(10, 2, 0, 0)));
  EXPECT_FALSE(c.Contains(Ip(11, 1, 0, 1)));
}

TEST(ExportPolicyTest, DefaultAllowsOnlyLoopback) {
  ExportPolicy p{ExportOptions{}};
  EXPECT_TRUE(p.Allows(Ip(127, 0, 0, 1)));
  EXPECT_TRUE(p.Allows(Ip(127, 9, 9, 9)));
  EXPECT_FALSE(p.Allows(Ip(10, 0, 0, 1)));
  EXPECT_EQ(p.options().path, "/export");
  EXPECT_FALSE(p.options().read_only);
}

TEST(ExportPolicyTest, AllowListOfSeveralNetworks) {
  ExportOptions o;
  o.allow = {*Cidr::Parse("10.0.0.0/8"), *Cidr::Parse("192.168.1.5")};
  ExportPolicy p(o);
  EXPECT_TRUE(p.Allows(Ip(10, 3, 4, 5)));
  EXPECT_TRUE(p.Allows(Ip(192, 168, 1, 5)));
  EXPECT_FALSE(p.Allows(Ip(192, 168, 1, 6)));
  EXPECT_FALSE(p.Allows(Ip(127, 0, 0, 1)));

  o.allow.clear();
  EXPECT_FALSE(ExportPolicy(o).Allows(Ip(127, 0, 0, 1)));
}

rpc::CallContext SysCall(uint32_t uid, uint32_t gid, std::vector<uint32_t> gids) {
  rpc::CallContext ctx;
  ctx.auth_flavor = rpc::kAuthSys;
  ctx.uid = uid;
  ctx.gid = gid;
  ctx.gids = std::move(gids);
  return ctx;
}

ExportPolicy WithSquash(Squash s) {
  ExportOptions o;
  o.squash = s;
  return ExportPolicy(o);
}

TEST(ExportPolicyTest, RootSquash) {
  ExportPolicy p = WithSquash(Squash::kRoot);
  Cred root = p.CredFor(SysCall(0, 0, {0, 5}));
  EXPECT_EQ(root.uid, kAnonId);
  EXPECT_EQ(root.gid, kAnonId);
  EXPECT_EQ(root.groups, (std::vector<uint32_t>{kAnonId, 5}));

  Cred user = p.CredFor(SysCall(1000, 100, {10, 20}));
  EXPECT_EQ(user.uid, 1000u);
  EXPECT_EQ(user.gid, 100u);
  EXPECT_EQ(user.groups, (std::vector<uint32_t>{10, 20}));
}

TEST(ExportPolicyTest, AllSquash) {
  Cred c = WithSquash(Squash::kAll).CredFor(SysCall(1000, 100, {10}));
  EXPECT_EQ(c.uid, kAnonId);
  EXPECT_EQ(c.gid, kAnonId);
  EXPECT_TRUE(c.groups.empty());
}

TEST(ExportPolicyTest, NoSquashKeepsRoot) {
  Cred c = WithSquash(Squash::kNone).CredFor(SysCall(0, 0, {}));
  EXPECT_EQ(c.uid, 0u);
  EXPECT_EQ(c.gid, 0u);
}

TEST(ExportPolicyTest, AuthNoneIsAnonymous) {
  rpc::CallContext ctx;
  ctx.auth_flavor = rpc::kAuthNone;
  Cred c = WithSquash(Squash::kNone).CredFor(ctx);
  EXPECT_EQ(c.uid, kAnonId);
  EXPECT_EQ(c.gid, kAnonId);
}

TEST(ExportPolicyTest, ParseSquash) {
  EXPECT_EQ(*ParseSquash("root"), Squash::kRoot);
  EXPECT_EQ(*ParseSquash("all"), Squash::kAll);
  EXPECT_EQ(*ParseSquash("none"), Squash::kNone);
  EXPECT_FALSE(ParseSquash("ROOT").ok());
  EXPECT_FALSE(ParseSquash("").ok());
}

}  // namespace
}  // namespace ovl::nfs
