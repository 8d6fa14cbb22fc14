// Against libvirt's built-in test driver (test:///default): no daemon, no QEMU.
#include "backend/libvirt/hypervisor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "backend/libvirt/storage.h"

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

TEST(Hypervisor, ReportsTheHost) {
  auto hv = Hypervisor::Open("test:///default");
  ASSERT_TRUE(hv.ok());
  EXPECT_GE((*hv)->Cpus(), 1u);
  EXPECT_FALSE((*hv)->Hostname().empty());
  EXPECT_TRUE((*hv)->Alive());
  auto xmls = (*hv)->ActiveDomainXmls();
  ASSERT_TRUE(xmls.ok());
  EXPECT_EQ(xmls->size(), 1u);
}

// The pool a remote host keeps its volumes in, on the test driver's in-memory storage.
TEST(StoragePool, DefinesThePoolOnceAndManagesVolumes) {
  auto hv = Hypervisor::Open("test:///default");
  ASSERT_TRUE(hv.ok());
  auto pool = StoragePool::Ensure(hv->get(), "ovlnfs-test", "/ovlnfs-test-pool");
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  auto again = StoragePool::Ensure(hv->get(), "ovlnfs-test", "/ovlnfs-test-pool");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto overlay = pool->CreateOverlay("ovlnfs-t-root.qcow2", "/base.raw", 1 << 20);
  ASSERT_TRUE(overlay.ok()) << overlay.status().ToString();
  EXPECT_EQ(*overlay, "/ovlnfs-test-pool/ovlnfs-t-root.qcow2");
  auto path = pool->Path("ovlnfs-t-root.qcow2");
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(*path, *overlay);
  EXPECT_EQ(pool->Path("absent").status().code(), ENOENT);
  auto listed = pool->List("ovlnfs-t-");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(*listed, std::vector<std::string>{"ovlnfs-t-root.qcow2"});
  EXPECT_TRUE(pool->Delete("ovlnfs-t-root.qcow2").ok());
  EXPECT_TRUE(pool->Delete("ovlnfs-t-root.qcow2").ok()) << "deleting what is gone is no error";
  listed = pool->List("ovlnfs-t-");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

}  // namespace
}  // namespace ovl::backend::libvirt
