// The "ganesha" server node: nfs-ganesha exporting a host kernel overlayfs mount of a fixture,
// reached with raw NFSv3, through its faults. Skipped where ganesha or overlayfs cannot run.
#include "backend/local_ganesha.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <variant>

#include "nfsclient/nfs_client.h"

namespace ovl::backend {
namespace {

namespace nc = ::ovl::nfsclient;
namespace stdfs = std::filesystem;

class LocalGaneshaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spec_.name = "g";
    spec_.variant = topology::Variant::kGanesha;
    char tmpl[] = "/tmp/ovl_local_ganesha.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    node_ = MakeLocalGanesha(spec_, dir_);
    if (std::string why = node_->Unsupported(); !why.empty()) GTEST_SKIP() << why;
    fixture_.entries = {{ops::FixtureEntry::Kind::kDir, "d", "", 0, 0, 0755},
                        {ops::FixtureEntry::Kind::kFile, "d/a", "", 100, 0, 0644}};
  }
  void TearDown() override {
    node_.reset();
    std::error_code ec;
    stdfs::remove_all(dir_, ec);
  }

  // A client connected as the node's connect request says, and the root handle from MNT.
  void Dial(nc::NfsClient* client, std::string* root) {
    const agent::protocol::Connect connect = node_->ConnectRequest();
    const auto* c = std::get_if<agent::protocol::LibnfsAccess>(&connect.access);
    ASSERT_NE(c, nullptr) << "not a libnfs connect";
    ASSERT_TRUE(c->mount_port.has_value());
    ASSERT_NE(c->nfs_port, *c->mount_port) << "ganesha needs MOUNT on its own port";
    ASSERT_TRUE(client->Connect("127.0.0.1", c->nfs_port, *c->mount_port).ok());
    Result<nc::MntRes> mnt = client->Mnt(c->export_path);
    ASSERT_TRUE(mnt.ok()) << mnt.status().ToString();
    ASSERT_EQ(mnt->status, 0u);
    *root = mnt->handle;
  }

  topology::ServerSpec spec_;
  std::string dir_;
  std::unique_ptr<ServerNode> node_;
  ops::Fixture fixture_;
};

TEST_F(LocalGaneshaTest, ServesTheOverlayThroughEveryFault) {
  ASSERT_TRUE(node_->Setup(fixture_, dir_ + "/layers").ok()) << node_->LogTail();
  EXPECT_TRUE(stdfs::exists(dir_ + "/ganesha-g/ganesha.conf"));
  nc::NfsClient client;
  std::string root;
  ASSERT_NO_FATAL_FAILURE(Dial(&client, &root));
  Result<nc::LookupRes> d = client.Lookup(root, "d");
  ASSERT_TRUE(d.ok() && d->status == 0);
  Result<nc::LookupRes> a = client.Lookup(d->handle, "a");
  ASSERT_TRUE(a.ok() && a->status == 0);
  const std::string held = a->handle;
  // A write copies the file up in the kernel overlay; the lower layer keeps the fixture.
  Result<nc::WriteRes> w = client.Write(held, 0, "NEW", nc::kFileSync);
  ASSERT_TRUE(w.ok() && w->status == 0);
  EXPECT_TRUE(node_->VerifyLowerLayers(fixture_).ok());

  for (int fault = 0; fault < 3; ++fault) {
    SCOPED_TRACE(fault);
    Status st = fault == 0 ? node_->Crash() : fault == 1 ? node_->Reboot() : node_->Evict();
    ASSERT_TRUE(st.ok()) << st.ToString() << node_->LogTail();
    ASSERT_TRUE(client.Reconnect().ok());
    Result<nc::ReadRes> r = client.Read(held, 0, 3);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, 0u);
    EXPECT_EQ(r->data, "NEW");
  }
  const std::string layers = dir_ + "/layers";
  ASSERT_TRUE(node_->Teardown(false).ok());
  EXPECT_FALSE(stdfs::exists(layers));
  EXPECT_NE(node_->LogTail().find("ganesha.log"), std::string::npos);
}

TEST_F(LocalGaneshaTest, NoFileHandlesIsUnsupported) {
  spec_.overlay.nfs_export = "off";
  spec_.overlay.index = "off";
  node_ = MakeLocalGanesha(spec_, dir_);
  Status st = node_->Setup(fixture_, dir_ + "/layers");
  EXPECT_EQ(st.code(), kErrNotSupp) << st.ToString();
}

}  // namespace
}  // namespace ovl::backend
