#include "backend/libvirt/domain_xml.h"

#include <gtest/gtest.h>

namespace ovl::backend::libvirt {
namespace {

DomainConfig Sample() {
  DomainConfig c;
  c.name = "ovlnfs-1234-knfsd";
  c.kernel = "/cache/vmlinuz-6.1";
  c.initrd = "/cache/initrd-6.1";
  c.cmdline = "root=/dev/vda console=ttyS0";
  c.disks = {{"/vm/root.qcow2", "qcow2", false}, {"/vm/payload.img", "raw", true}};
  c.console_log = "/results/r/vm/knfsd/console.log";
  c.channels = {{"ovl.control", "/run/x/control.sock"}};
  c.nics = {{"52:54:00:c8:00:01", 20001, 20002}};
  return c;
}

TEST(DomainXml, TcgUnlessKvm) {
  DomainConfig c = Sample();
  EXPECT_NE(DomainXml(c).find("<domain type='qemu'>"), std::string::npos);
  c.kvm = true;
  EXPECT_NE(DomainXml(c).find("<domain type='kvm'>"), std::string::npos);
}

TEST(DomainXml, DisksInOrderReadonlyMarked) {
  const std::string x = DomainXml(Sample());
  const size_t a = x.find("<source file='/vm/root.qcow2'/><target dev='vda'");
  const size_t b =
      x.find("<source file='/vm/payload.img'/><target dev='vdb' bus='virtio'/><readonly/>");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  EXPECT_LT(a, b);
}

TEST(DomainXml, DiskNamesFollowTheirIndex) {
  EXPECT_EQ(VirtioDiskName(0), "vda");
  EXPECT_EQ(VirtioDiskName(3), "vdd");
  DomainConfig c = Sample();
  c.disks.push_back({"/vm/data.img", "raw", false});
  c.disks.push_back({"/vm/upper.img", "raw", false});
  const std::string x = DomainXml(c);
  EXPECT_NE(x.find("<source file='/vm/upper.img'/><target dev='" + VirtioDiskName(3) + "'"),
            std::string::npos)
      << x;
}

TEST(DomainXml, UdpLinkOnLoopbackOnly) {
  const std::string x = DomainXml(Sample());
  EXPECT_NE(x.find("<interface type='udp'><mac address='52:54:00:c8:00:01'/><source "
                   "address='127.0.0.1' port='20002'><local address='127.0.0.1' port='20001'/>"),
            std::string::npos);
  EXPECT_EQ(x.find("bridge"), std::string::npos);
  EXPECT_EQ(x.find("network"), std::string::npos);
}

TEST(DomainXml, ConsoleAppendsAndChannelsBind) {
  const std::string x = DomainXml(Sample());
  EXPECT_NE(x.find("<serial type='file'><source path='/results/r/vm/knfsd/console.log' "
                   "append='on'/>"),
            std::string::npos);
  EXPECT_NE(x.find("<source mode='bind' path='/run/x/control.sock'/><target type='virtio' "
                   "name='ovl.control'/>"),
            std::string::npos);
}

// A VM on another host: nothing in its XML may name a file of the harness host.
TEST(DomainXml, ARemoteVmNamesVolumesAndStreamsOnly) {
  DomainConfig c = Sample();
  c.kernel = "/pool/ovlnfs-image-h-vmlinuz";
  c.initrd = "/pool/ovlnfs-image-h-initrd";
  c.disks = {{"d-root.qcow2", "qcow2", false, "ovlnfs-harness"},
             {"d-payload.img", "raw", true, "ovlnfs-harness"}};
  c.console_log = "";
  c.channels = {{"ovl.control", ""}};
  c.metadata = "<ovlnfs:run xmlns:ovlnfs='urn:x' tag='t'/>";
  const std::string x = DomainXml(c);
  EXPECT_NE(x.find("<disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source "
                   "pool='ovlnfs-harness' volume='d-root.qcow2'/><target dev='vda'"),
            std::string::npos)
      << x;
  EXPECT_NE(x.find("<serial type='pty'><target port='0'/></serial>"), std::string::npos);
  EXPECT_NE(x.find("<channel type='unix'><source mode='bind'/><target type='virtio' "
                   "name='ovl.control'/></channel>"),
            std::string::npos);
  EXPECT_NE(x.find("<metadata><ovlnfs:run xmlns:ovlnfs='urn:x' tag='t'/></metadata>"),
            std::string::npos);
  for (const char* local : {"/results", "/run/x", "/vm/", "file="}) {
    EXPECT_EQ(x.find(local), std::string::npos) << local;
  }
}

TEST(DomainXml, EntropyComesFromTheHost) {
  EXPECT_NE(DomainXml(Sample()).find(
                "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"),
            std::string::npos);
}

TEST(DomainXml, EscapesText) {
  DomainConfig c = Sample();
  c.cmdline = "a<b & 'c'";
  EXPECT_NE(DomainXml(c).find("<cmdline>a&lt;b &amp; &#39;c&#39;</cmdline>"), std::string::npos);
}

}  // namespace
}  // namespace ovl::backend::libvirt
