// Export options over the wire (issue 2): --allow refuses clients outside the list
// (MNT3ERR_ACCES at mount, NFS3ERR_ACCES on NFS calls), --read-only refuses every change with
// NFS3ERR_ROFS, --export-path is the only path MOUNT serves, and the default --squash root maps
// AUTH_SYS uid 0 to nobody (65534).
#include <sys/stat.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "integration/overlay_fixture.h"
#include "xdr/xdr.h"

namespace ovl::integration {
namespace {

using nfsclient::kNfs3ErrAcces;
using nfsclient::kNfs3ErrRofs;

constexpr uint32_t kMnt3ErrAcces = 13;
constexpr uint32_t kNobody = 65534;

// The status of a reply, or a value no server sends when the call failed in transport.
template <typename R>
uint32_t StatusOf(const Result<R>& r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->status : ~0u;
}

class ExportOptionsTest : public OverlayTest {
 protected:
  // A server tree with lower0/dir/file, not started.
  void Prepare(testsupport::ServerOptions options) {
    ASSERT_NO_FATAL_FAILURE(CreateServer(std::move(options)));
    ASSERT_NO_FATAL_FAILURE(MkdirLower("dir"));
    ASSERT_NO_FATAL_FAILURE(WriteLower("dir/file", "lower data"));
  }

  // Stops server_ and serves its dirs from a second process with `flags` added (the later
  // --lower/--upper/--work of the command line win).
  std::unique_ptr<testsupport::ServerProcess> ServeSameDirs(std::vector<std::string> flags) {
    Result<int> status = server_->Terminate();
    EXPECT_TRUE(status.ok() && *status == 0) << "unclean stop";
    testsupport::ServerOptions options = BaseOptions();
    options.extra_args = {"--lower", server_->lower_dirs()[0], "--upper", server_->upper_dir(),
                          "--work",  server_->work_dir()};
    options.extra_args.insert(options.extra_args.end(), flags.begin(), flags.end());
    auto other = testsupport::ServerProcess::Create(options);
    if (!other.ok()) {
      ADD_FAILURE() << other.status().ToString();
      return nullptr;
    }
    if (Status st = (*other)->Start(); !st.ok()) {
      ADD_FAILURE() << st.ToString();
      return nullptr;
    }
    return std::move(other).value();
  }

  // Every modifying procedure on the union, each expected to get `want`.
  void ExpectChangesRefused(uint32_t want, const std::string& dir, const std::string& file) {
    nfsclient::SetAttrs mode;
    mode.mode = 0600;
    EXPECT_NFS(StatusOf(client_.Write(file, 0, "x", nfsclient::kFileSync)), want) << "WRITE";
    EXPECT_NFS(StatusOf(client_.Setattr(file, mode)), want) << "SETATTR";
    EXPECT_NFS(StatusOf(client_.Create(dir, "new", nfsclient::kGuarded, mode)), want) << "CREATE";
    EXPECT_NFS(StatusOf(client_.Create(dir, "x", nfsclient::kExclusive, {}, 1)), want)
        << "CREATE EXCLUSIVE";
    EXPECT_NFS(StatusOf(client_.Mkdir(dir, "newdir", mode)), want) << "MKDIR";
    EXPECT_NFS(StatusOf(client_.Symlink(dir, "link", "file")), want) << "SYMLINK";
    EXPECT_NFS(StatusOf(client_.Mknod(dir, "fifo", nfsclient::kTypeFifo, mode)), want) << "MKNOD";
    EXPECT_NFS(StatusOf(client_.Remove(dir, "file")), want) << "REMOVE";
    EXPECT_NFS(StatusOf(client_.Rmdir(root_, "dir")), want) << "RMDIR";
    EXPECT_NFS(StatusOf(client_.Rename(dir, "file", dir, "moved")), want) << "RENAME";
    EXPECT_NFS(StatusOf(client_.Link(file, dir, "hard")), want) << "LINK";
  }
};

TEST_F(ExportOptionsTest, AllowListRefusesLoopbackClient) {
  // Handles come from a server that allows us; then the same dirs are served with
  // --allow 10.0.0.0/8. A refused peer gets an answer to its first call and then loses the
  // connection (reference_server/rpc/server.h), so every call goes on a new connection.
  ASSERT_NO_FATAL_FAILURE(Prepare(BaseOptions()));
  ASSERT_NO_FATAL_FAILURE(StartAndMount());
  const std::string file = LookupPath("dir/file");
  ASSERT_FALSE(HasFailure());
  const std::map<std::string, std::string> before = TreeSnapshot(server_->upper_dir());
  auto refusing = ServeSameDirs({"--allow", "10.0.0.0/8"});
  ASSERT_NE(refusing, nullptr);
  // The first word of the results of one call on a new connection, which must then close.
  auto first_word = [&](uint32_t prog, uint32_t vers, uint32_t proc, const std::string& args) {
    auto rpc = rpc::RpcClient::Connect(kHost, refusing->port());
    EXPECT_TRUE(rpc.ok()) << rpc.status().ToString();
    if (!rpc.ok()) return ~0u;
    auto reply = RawCall(**rpc, prog, vers, proc, args);
    EXPECT_TRUE(reply.ok() && reply->accept_stat == rpc::AcceptStat::kSuccess)
        << "procedure " << proc << ": " << reply.status().ToString();
    EXPECT_FALSE(RawCall(**rpc, prog, vers, 0, "").ok()) << "a second call was answered";
    uint32_t word = ~0u;
    if (reply.ok()) xdr::Decoder(reply->results).U32(&word);
    return word;
  };
  xdr::Encoder path;
  path.String(kExportPath);
  EXPECT_EQ(first_word(kMountProgram, kMountVersion, kMountMnt, path.bytes()), kMnt3ErrAcces);
  // Every NFS procedure but NULL is refused before its arguments are looked at.
  xdr::Encoder fh;
  fh.Opaque(file);
  for (uint32_t proc = 1; proc <= 21; ++proc) {
    EXPECT_NFS(first_word(kNfsProgram, kNfsVersion, proc, fh.bytes()), kNfs3ErrAcces)
        << "procedure " << proc;
  }
  auto rpc = rpc::RpcClient::Connect(kHost, refusing->port());
  ASSERT_TRUE(rpc.ok()) << rpc.status().ToString();
  ASSERT_RESULT(null, RawCall(**rpc, kNfsProgram, kNfsVersion, 0, ""));
  EXPECT_EQ(null->accept_stat, rpc::AcceptStat::kSuccess) << "NULL stays open to everyone";
  EXPECT_EQ(TreeSnapshot(server_->upper_dir()), before) << "a refused call changed data";
}

TEST_F(ExportOptionsTest, ReadOnlyRefusesChangesWithRofs) {
  // Layers a writable server used before (so the work dir holds the export's identity), now
  // exported --read-only.
  ASSERT_NO_FATAL_FAILURE(Prepare(BaseOptions()));
  ASSERT_NO_FATAL_FAILURE(StartAndMount());
  const std::map<std::string, std::string> before = TreeSnapshot(server_->upper_dir());
  auto read_only = ServeSameDirs({"--read-only"});
  ASSERT_NE(read_only, nullptr);
  ASSERT_OK(client_.Connect(kHost, read_only->port(), read_only->port()));
  ASSERT_RESULT(mnt, client_.Mnt(kExportPath));
  ASSERT_EQ(mnt->status, 0u);
  const std::string dir = Lookup(mnt->handle, "dir");
  const std::string file = Lookup(dir, "file");
  EXPECT_EQ(ReadAll(file), "lower data") << "reads still work";
  ExpectChangesRefused(kNfs3ErrRofs, dir, file);
  EXPECT_EQ(ReadAll(file), "lower data");
  EXPECT_EQ(TreeSnapshot(server_->upper_dir()), before) << "a read-only export copied up";
}

// A read-only export of layers no server has used yet must start: the export is read-only, not
// the server's own state in the work dir.
TEST_F(ExportOptionsTest, ReadOnlyStartsOnAFreshWorkDir) {
  testsupport::ServerOptions options = BaseOptions();
  options.extra_args = {"--read-only"};
  ASSERT_NO_FATAL_FAILURE(Prepare(options));
  ASSERT_NO_FATAL_FAILURE(StartAndMount());
  EXPECT_EQ(ReadAll(LookupPath("dir/file")), "lower data");
}

// --export-path: MOUNT serves that path (EXPORT lists it) and refuses any other.
TEST_F(ExportOptionsTest, MountServesOnlyTheExportPath) {
  testsupport::ServerOptions options = BaseOptions();
  options.export_path = "/srv/data";
  ASSERT_NO_FATAL_FAILURE(Prepare(options));
  ASSERT_OK(server_->Start());
  ASSERT_OK(client_.Connect(kHost, server_->port(), server_->port()));
  ASSERT_RESULT(exports, client_.Export());
  ASSERT_EQ(exports->size(), 1u);
  EXPECT_EQ((*exports)[0].dir, "/srv/data");
  for (const char* wrong : {"/export", "/", "/srv", "/srv/data/dir", "/srv/data/.."}) {
    ASSERT_RESULT(mnt, client_.Mnt(wrong));
    EXPECT_NE(mnt->status, 0u) << wrong;
    EXPECT_EQ(mnt->handle, "") << wrong;
  }
  for (const char* right : {"/srv/data", "/srv/data/"}) {
    ASSERT_RESULT(mnt, client_.Mnt(right));
    ASSERT_EQ(mnt->status, 0u) << right;
    EXPECT_EQ(ReadAll(Lookup(Lookup(mnt->handle, "dir"), "file")), "lower data");
  }
  ASSERT_OK(client_.Umnt("/srv/data"));
}

TEST_F(ExportOptionsTest, DefaultSquashMapsRootToNobody) {
  testsupport::ServerOptions options = BaseOptions();
  options.squash.clear();  // the server's default, --squash root
  ASSERT_NO_FATAL_FAILURE(Prepare(options));
  // A directory everyone may write to, so the squashed caller can create in it.
  MakeLocalDir(Lower("open"), 01777);
  ASSERT_NO_FATAL_FAILURE(WriteLower("rootfile", "root's"));
  ASSERT_NO_FATAL_FAILURE(StartAndMount());
  const std::string dir = Lookup(root_, "open");

  client_.SetCredentials(0, 0);
  const std::string by_root = CreateFile(dir, "by-root");
  Fattr attrs = Getattr(by_root);
  EXPECT_EQ(attrs.uid, kNobody);
  EXPECT_EQ(attrs.gid, kNobody);
  struct stat st;
  ASSERT_EQ(stat((server_->upper_dir() + "/open/by-root").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kNobody) << "the upper file is owned by root";

  // Other uids pass through.
  client_.SetCredentials(1234, 5678);
  attrs = Getattr(CreateFile(dir, "by-user"));
  EXPECT_EQ(attrs.uid, 1234u);
  EXPECT_EQ(attrs.gid, 5678u);
  // Squashed root may not change a root-owned file.
  client_.SetCredentials(0, 0);
  ASSERT_RESULT(write, client_.Write(Lookup(root_, "rootfile"), 0, "x", nfsclient::kFileSync));
  EXPECT_NFS(write->status, kNfs3ErrAcces);
}

}  // namespace
}  // namespace ovl::integration
