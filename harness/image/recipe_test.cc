#include "image/recipe.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace ovl::image {
namespace {

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(Recipe, BothKernelsByDefault) {
  auto r = MakeRecipe(topology::ImageRecipe{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kernels, (std::vector<std::string>{"6.1", "6.12"}));
  EXPECT_TRUE(Has(r->packages, "linux-image-amd64"));
  EXPECT_TRUE(Has(r->packages, "linux-image-6.12-amd64"));
  for (const char* p : {"nfs-kernel-server", "nfs-common", "rpcbind", "qemu-guest-agent", "fio",
                        "fuse-overlayfs", "libnfs13", "libstdc++6", "initramfs-tools"}) {
    EXPECT_TRUE(Has(r->packages, p)) << p;
  }
  EXPECT_TRUE(std::is_sorted(r->packages.begin(), r->packages.end()));
  EXPECT_TRUE(Has(r->sources, "deb http://deb.debian.org/debian-security bookworm-security main"));
}

TEST(Recipe, HashFollowsContent) {
  topology::ImageRecipe a;
  auto ra = MakeRecipe(a);
  auto rb = MakeRecipe(a);
  ASSERT_TRUE(ra.ok() && rb.ok());
  EXPECT_EQ(RecipeHash(*ra), RecipeHash(*rb));
  EXPECT_EQ(RecipeHash(*ra).size(), 16u);
  topology::ImageRecipe b = a;
  b.packages.push_back("strace");
  auto rc = MakeRecipe(b);
  ASSERT_TRUE(rc.ok());
  EXPECT_NE(RecipeHash(*ra), RecipeHash(*rc));
  topology::ImageRecipe c = a;
  c.kernels = {"6.12", "6.1", "6.1"};  // order and duplicates do not matter
  auto rd = MakeRecipe(c);
  ASSERT_TRUE(rd.ok());
  EXPECT_EQ(RecipeHash(*ra), RecipeHash(*rd));
}

TEST(Recipe, UnknownKernelSeries) {
  topology::ImageRecipe a;
  a.kernels = {"5.10"};
  EXPECT_EQ(MakeRecipe(a).status().code(), EINVAL);
  topology::ImageRecipe b;
  b.suite = "sid";
  EXPECT_EQ(MakeRecipe(b).status().code(), EINVAL);
}

TEST(Recipe, MmdebstrapCommand) {
  auto r = MakeRecipe(topology::ImageRecipe{});
  ASSERT_TRUE(r.ok());
  auto argv = MmdebstrapArgv(*r, "/tmp/tree");
  EXPECT_EQ(argv.front(), "mmdebstrap");
  EXPECT_TRUE(Has(argv, "bookworm"));
  EXPECT_TRUE(Has(argv, "/tmp/tree"));
  EXPECT_TRUE(Has(argv, "--variant=apt"));
  auto include = std::find_if(argv.begin(), argv.end(),
                              [](const std::string& a) { return a.rfind("--include=", 0) == 0; });
  ASSERT_NE(include, argv.end());
  EXPECT_NE(include->find("nfs-kernel-server"), std::string::npos);
}

}  // namespace
}  // namespace ovl::image
