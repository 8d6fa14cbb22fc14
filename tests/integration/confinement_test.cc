// No request reaches outside the layers (issue 2, "Robustness and security"): names with '/'
// or NUL, '..' at the export root, and symlinks pointing outside (in a lower layer, or made
// through SYMLINK) are never followed by the server. A sentinel tree next to the layers, and
// the directory holding the layers, must stay exactly as they were.
#include <map>
#include <string>
#include <vector>

#include "integration/overlay_fixture.h"
#include "support/scratch_dir.h"
#include "xdr/xdr.h"

namespace ovl::integration {
namespace {

using nfsclient::kNfs3Ok;

constexpr char kSecret[] = "sentinel bytes that must never be read or changed\n";

class ConfinementTest : public OverlayTest {
 protected:
  void SetUp() override {
    auto outside = testsupport::ScratchDir::Create("ovlnfsd-outside");
    ASSERT_TRUE(outside.ok()) << outside.status().ToString();
    outside_ = std::move(outside).value();
    WriteLocalFile(outside_.path() + "/secret", kSecret);
    MakeLocalDir(outside_.path() + "/dir");
    WriteLocalFile(outside_.path() + "/dir/inner", kSecret);

    ASSERT_NO_FATAL_FAILURE(CreateServer());
    ASSERT_NO_FATAL_FAILURE(MkdirLower("sub"));
    ASSERT_NO_FATAL_FAILURE(WriteLower("sub/file", "inside"));
    // Symlinks in the lower layer: absolute and relative ones leading out, one to the root.
    ASSERT_EQ(symlink((outside_.path() + "/secret").c_str(), Lower("abs_file").c_str()), 0);
    ASSERT_EQ(symlink(outside_.path().c_str(), Lower("abs_dir").c_str()), 0);
    const std::string up = "../../" + outside_.path().substr(outside_.path().rfind('/') + 1);
    rel_target_ = up + "/dir";
    ASSERT_EQ(symlink(rel_target_.c_str(), Lower("sub/rel_dir").c_str()), 0);
    ASSERT_EQ(symlink("/", Lower("slash").c_str()), 0);
    outside_before_ = TreeSnapshot(outside_.path());
    layer_parent_before_ = Entries(server_->root());
    ASSERT_NO_FATAL_FAILURE(StartAndMount());
  }

  void TearDown() override {
    EXPECT_EQ(TreeSnapshot(outside_.path()), outside_before_) << "the sentinel tree changed";
    EXPECT_EQ(Entries(server_->root()), layer_parent_before_)
        << "something was created next to the layers";
    OverlayTest::TearDown();
  }

  // The names in `dir` (the layers' parent: lower0, upper, work, server.log).
  static std::vector<std::string> Entries(const std::string& dir) {
    std::vector<std::string> names;
    for (const auto& [rel, description] : TreeSnapshot(dir)) {
      if (!rel.empty() && rel.find('/') == std::string::npos) names.push_back(rel);
    }
    return names;
  }

  // Every way of using symlink handle `link` as a directory or as a file must fail, and none
  // may return the sentinel's bytes.
  void ExpectNotFollowed(const std::string& link, const std::string& target) {
    SCOPED_TRACE("symlink to " + target);
    Fattr attrs = Getattr(link);
    EXPECT_EQ(attrs.type, nfsclient::kTypeLnk);
    ASSERT_RESULT(text, client_.Readlink(link));
    EXPECT_NFS(text->status, kNfs3Ok);
    EXPECT_EQ(text->target, target);
    nfsclient::SetAttrs mode;
    mode.mode = 0644;
    for (const char* name : {"secret", "inner", "dir", "etc"}) {
      ASSERT_RESULT(res, client_.Lookup(link, name));
      EXPECT_NE(res->status, kNfs3Ok) << "LOOKUP " << name << " through a symlink";
    }
    ASSERT_RESULT(read, client_.Read(link, 0, 4096));
    EXPECT_NE(read->status, kNfs3Ok) << "READ of a symlink";
    EXPECT_EQ(read->data.find("sentinel"), std::string::npos);
    ASSERT_RESULT(write, client_.Write(link, 0, "overwrite", nfsclient::kFileSync));
    EXPECT_NE(write->status, kNfs3Ok) << "WRITE to a symlink";
    ASSERT_RESULT(create, client_.Create(link, "planted", nfsclient::kUnchecked, mode));
    EXPECT_NE(create->status, kNfs3Ok) << "CREATE in a symlink";
    ASSERT_RESULT(mkdir, client_.Mkdir(link, "planted_dir", mode));
    EXPECT_NE(mkdir->status, kNfs3Ok) << "MKDIR in a symlink";
    ASSERT_RESULT(remove, client_.Remove(link, "secret"));
    EXPECT_NE(remove->status, kNfs3Ok) << "REMOVE in a symlink";
    ASSERT_RESULT(listing, client_.Readdir(link, 0, 0, 4096));
    EXPECT_NE(listing->status, kNfs3Ok) << "READDIR of a symlink";
    // SETATTR applies to the link itself (whatever its result), never to what it points at:
    // the TearDown snapshot sees a chmod, chown, truncate or utimes of the sentinel.
    nfsclient::SetAttrs all;
    all.mode = 0777;
    all.uid = 1234;
    all.size = 0;
    all.mtime_how = nfsclient::SetTime::kServerTime;
    EXPECT_TRUE(client_.Setattr(link, all).ok());
  }

  testsupport::ScratchDir outside_;
  std::string rel_target_;
  std::map<std::string, std::string> outside_before_;
  std::vector<std::string> layer_parent_before_;
};

TEST_F(ConfinementTest, LowerSymlinksPointingOutsideAreNotFollowed) {
  ExpectNotFollowed(Lookup(root_, "abs_file"), outside_.path() + "/secret");
  ExpectNotFollowed(Lookup(root_, "abs_dir"), outside_.path());
  ExpectNotFollowed(LookupPath("sub/rel_dir"), rel_target_);
  ExpectNotFollowed(Lookup(root_, "slash"), "/");
}

TEST_F(ConfinementTest, SymlinksMadeThroughNfsAreNotFollowed) {
  for (const std::string& target :
       {outside_.path(), outside_.path() + "/secret", std::string("../../../../.."), rel_target_}) {
    const std::string name = "made" + std::to_string(target.size());
    ASSERT_RESULT(made, client_.Symlink(root_, name, target));
    ASSERT_NFS(made->status, kNfs3Ok);
    ExpectNotFollowed(Lookup(root_, name), target);
  }
  // Renaming a lower symlink copies the link up, not its target.
  ASSERT_RESULT(renamed, client_.Rename(root_, "abs_dir", root_, "moved"));
  EXPECT_NFS(renamed->status, kNfs3Ok);
  ExpectNotFollowed(Lookup(root_, "moved"), outside_.path());
}

TEST_F(ConfinementTest, NamesWithSlashAreRefused) {
  const std::string secret_rel = "../../" + outside_.path().substr(outside_.path().rfind('/') + 1);
  nfsclient::SetAttrs mode;
  mode.mode = 0644;
  for (const std::string& name :
       {std::string("sub/file"), std::string("/etc/passwd"), secret_rel + "/secret",
        std::string("abs_dir/secret"), std::string("sub/rel_dir/inner"), std::string("a/b")}) {
    SCOPED_TRACE(name);
    ASSERT_RESULT(lookup, client_.Lookup(root_, name));
    EXPECT_NE(lookup->status, kNfs3Ok);
    ASSERT_RESULT(create, client_.Create(root_, name, nfsclient::kUnchecked, mode));
    EXPECT_NE(create->status, kNfs3Ok);
    ASSERT_RESULT(mkdir, client_.Mkdir(root_, name, mode));
    EXPECT_NE(mkdir->status, kNfs3Ok);
    ASSERT_RESULT(symlink, client_.Symlink(root_, name, "x"));
    EXPECT_NE(symlink->status, kNfs3Ok);
    ASSERT_RESULT(remove, client_.Remove(root_, name));
    EXPECT_NE(remove->status, kNfs3Ok);
    ASSERT_RESULT(rename, client_.Rename(LookupPath("sub"), "file", root_, name));
    EXPECT_NE(rename->status, kNfs3Ok);
    ASSERT_RESULT(link, client_.Link(LookupPath("sub/file"), root_, name));
    EXPECT_NE(link->status, kNfs3Ok);
  }
  EXPECT_EQ(ReadAll(LookupPath("sub/file")), "inside");
}

// NUL cannot pass through libnfs (C strings), so these calls are built by hand.
TEST_F(ConfinementTest, NamesWithNulAreRefused) {
  auto rpc = rpc::RpcClient::Connect(kHost, server_->port());
  ASSERT_TRUE(rpc.ok()) << rpc.status().ToString();
  const std::string sub = LookupPath("sub");
  for (const std::string& name : {std::string("file\0junk", 9), std::string("\0", 1),
                                  std::string("sub\0/file", 9), std::string("x\0y", 3)}) {
    xdr::Encoder lookup;
    lookup.Opaque(name.substr(0, 3) == "sub" ? root_ : sub);
    lookup.String(name);
    ASSERT_RESULT(found, RawCall(**rpc, kNfsProgram, kNfsVersion, kNfsLookup, lookup.bytes()));
    if (found->accept_stat == rpc::AcceptStat::kSuccess) {
      xdr::Decoder in(found->results);
      uint32_t status = 0;
      ASSERT_TRUE(in.U32(&status));
      EXPECT_NE(status, kNfs3Ok) << "LOOKUP of a name with NUL";
    }
    xdr::Encoder create;  // CREATE UNCHECKED with an empty sattr3
    create.Opaque(sub);
    create.String(name);
    for (uint32_t word : {0u, 0u, 0u, 0u, 0u, 0u, 0u}) create.U32(word);
    ASSERT_RESULT(made, RawCall(**rpc, kNfsProgram, kNfsVersion, kNfsCreate, create.bytes()));
    if (made->accept_stat == rpc::AcceptStat::kSuccess) {
      xdr::Decoder in(made->results);
      uint32_t status = 0;
      ASSERT_TRUE(in.U32(&status));
      EXPECT_NE(status, kNfs3Ok) << "CREATE of a name with NUL";
    }
  }
  // Nothing named by the part before the NUL appeared.
  for (const char* name : {"x", "file"}) {
    ASSERT_RESULT(res, client_.Lookup(sub, name));
    EXPECT_EQ(res->status == kNfs3Ok, std::string(name) == "file") << name;
  }
  EXPECT_EQ(ReadAll(LookupPath("sub/file")), "inside");
}

TEST_F(ConfinementTest, DotDotAtTheRootStaysAtTheRoot) {
  const uint64_t root_id = Getattr(root_).fileid;
  for (const char* name : {"..", "."}) {
    ASSERT_RESULT(res, client_.Lookup(root_, name));
    ASSERT_NFS(res->status, kNfs3Ok) << name;
    EXPECT_EQ(res->handle, root_) << name;
    EXPECT_EQ(Getattr(res->handle).fileid, root_id) << name;
  }
  const std::string sub = LookupPath("sub");
  EXPECT_EQ(Lookup(sub, ".."), root_);
  // '..' of the root, twice, is still the root: no escape to the layers' parent.
  std::string up = Lookup(Lookup(root_, ".."), "..");
  EXPECT_EQ(up, root_);
  for (const char* name : {"lower0", "upper", "work", "server.log"}) {
    ASSERT_RESULT(res, client_.Lookup(up, name));
    EXPECT_NFS(res->status, nfsclient::kNfs3ErrNoent) << name;
  }
  // '..' cannot be created, removed or renamed onto.
  nfsclient::SetAttrs mode;
  mode.mode = 0644;
  ASSERT_RESULT(create, client_.Create(root_, "..", nfsclient::kUnchecked, mode));
  EXPECT_NE(create->status, kNfs3Ok);
  ASSERT_RESULT(mkdir, client_.Mkdir(root_, "..", mode));
  EXPECT_NE(mkdir->status, kNfs3Ok);
  ASSERT_RESULT(rmdir, client_.Rmdir(root_, ".."));
  EXPECT_NE(rmdir->status, kNfs3Ok);
  ASSERT_RESULT(remove, client_.Remove(sub, ".."));
  EXPECT_NE(remove->status, kNfs3Ok);
  ASSERT_RESULT(rename, client_.Rename(sub, "file", root_, ".."));
  EXPECT_NE(rename->status, kNfs3Ok);
  ASSERT_RESULT(rename_from, client_.Rename(root_, "..", sub, "escaped"));
  EXPECT_NE(rename_from->status, kNfs3Ok);
  EXPECT_EQ(Getattr(root_).fileid, root_id);
  EXPECT_EQ(ReadAll(LookupPath("sub/file")), "inside");
}

}  // namespace
}  // namespace ovl::integration
