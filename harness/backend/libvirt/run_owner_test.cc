#include <gtest/gtest.h>
#include <unistd.h>

#include "backend/libvirt/backend.h"
#include "backend/libvirt/daemons.h"

namespace ovl::backend::libvirt {
namespace {

TEST(RunOwner, RoundTripsThroughDomainMetadataAndLedger) {
  const RunOwner me = RunOwner::Self("0badcafe");
  EXPECT_EQ(me.pid, ::getpid());
  const auto from_xml = RunOwner::FromXml(me.ToXml());
  ASSERT_TRUE(from_xml.has_value()) << me.ToXml();
  EXPECT_EQ(from_xml->tag, "0badcafe");
  EXPECT_EQ(from_xml->harness_host, me.harness_host);
  EXPECT_EQ(from_xml->harness_boot, me.harness_boot);
  EXPECT_EQ(from_xml->pid, me.pid);
  const auto from_json = RunOwner::FromJson(me.ToJson());
  ASSERT_TRUE(from_json.has_value());
  EXPECT_EQ(from_json->ToJson(), me.ToJson());
  EXPECT_FALSE(RunOwner::FromXml("<other/>").has_value());
  EXPECT_FALSE(RunOwner::FromJson("not json").has_value());
}

TEST(RunOwner, OnlyRunsOfThisHostThatEndedAreGone) {
  RunOwner o = RunOwner::Self("t");
  o.pid = ::getppid();  // alive
  EXPECT_FALSE(o.Gone());
  RunOwner dead = o;
  dead.pid = 0x7ffffff0;  // no such process
  EXPECT_TRUE(dead.Gone());
  RunOwner rebooted = o;
  rebooted.harness_boot = "another-boot";
  EXPECT_TRUE(rebooted.Gone());
  RunOwner elsewhere = dead;
  elsewhere.harness_host = "some-other-harness-host";
  EXPECT_FALSE(elsewhere.Gone()) << "a run of another harness host is never judged here";
}

TEST(Uris, OnlyTheDefaultSocketIsThisHost) {
  EXPECT_FALSE(RemoteUri("qemu:///system"));
  EXPECT_FALSE(RemoteUri("qemu:///session"));
  EXPECT_FALSE(RemoteUri("qemu+unix:///system"));
  EXPECT_TRUE(RemoteUri("qemu+unix:///system?socket=/elsewhere/libvirt-sock"));
  EXPECT_TRUE(RemoteUri("qemu+ssh://root@127.0.0.1/system"));
  EXPECT_TRUE(RemoteUri("qemu+ext:///system?command=/x/connect"));
  EXPECT_TRUE(RemoteUri("qemu+tcp://h/system"));
  EXPECT_TRUE(RemoteUri("qemu://h/system"));
}

}  // namespace
}  // namespace ovl::backend::libvirt
