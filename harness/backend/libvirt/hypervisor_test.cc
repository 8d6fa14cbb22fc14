// Against libvirt's built-in test driver (test:///default): no daemon, no QEMU.
#include "backend/libvirt/hypervisor.h"

#include <gtest/gtest.h>

namespace ovl::backend::libvirt {
namespace {

TEST(Hypervisor, ListsAndDestroysDomains) {
  auto hv = Hypervisor::Open("test:///default");
  ASSERT_TRUE(hv.ok()) << hv.status().ToString();
  auto all = (*hv)->ListDomains("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, std::vector<std::string>{"test"});  // the test driver's sample domain
  auto none = (*hv)->ListDomains("ovlnfs-");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_TRUE((*hv)->IsActive("test"));
  EXPECT_TRUE((*hv)->Destroy("test").ok());
  EXPECT_FALSE((*hv)->IsActive("test"));
  EXPECT_EQ((*hv)->Destroy("absent").code(), ENOENT);
  EXPECT_NE((*hv)->Versions().find("libvirt "), std::string::npos);
}

TEST(Hypervisor, BadUriIsAnError) {
  auto hv = Hypervisor::Open("nosuchdriver:///nowhere");
  EXPECT_FALSE(hv.ok());
  EXPECT_NE(hv.status().message().find("nosuchdriver"), std::string::npos);
}

}  // namespace
}  // namespace ovl::backend::libvirt
