// Requirement 3 of ovlnfsd (issue 2): malformed handles get NFS3ERR_BADHANDLE from every
// procedure, a handle of another export gets NFS3ERR_STALE, an oversize handle is an XDR error
// (GARBAGE_ARGS), and no handle bytes take the server down. Ends with a seeded fuzz run.
#include <algorithm>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "integration/overlay_fixture.h"
#include "xdr/xdr.h"

namespace ovl::integration {
namespace {

using nfsclient::kNfs3ErrBadhandle;
using nfsclient::kNfs3ErrStale;
using nfsclient::kNfs3Ok;

constexpr size_t kMaxHandle = 64;
// Handle layout (docs: reference_server/union/handle_codec.h): magic at 0-1, version at 2,
// flags at 3, export UUID at 8-23, an 8-byte MAC at the end.
constexpr size_t kVersionByte = 2;
constexpr size_t kFlagsByte = 3;
constexpr size_t kUuidByte = 8;
constexpr size_t kHeaderSize = 24;
constexpr uint32_t kFuzzSeed = 20240611;
constexpr int kFuzzCases = 2000;

class MalformedHandleTest : public OverlayTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(CreateServer());
    ASSERT_NO_FATAL_FAILURE(MkdirLower("dir"));
    ASSERT_NO_FATAL_FAILURE(WriteLower("dir/file", "data"));
    ASSERT_NO_FATAL_FAILURE(StartAndMount());
    dir_ = Lookup(root_, "dir");
    file_ = Lookup(dir_, "file");
    ASSERT_FALSE(HasFailure());
  }

  // Every procedure that takes a handle, with `fh` in that place and valid values elsewhere:
  // (procedure, status). Transport errors fail the test.
  std::vector<std::pair<std::string, uint32_t>> AllProcedures(const std::string& fh) {
    std::vector<std::pair<std::string, uint32_t>> out;
    auto add = [&](const std::string& name, auto result) {
      if (!result.ok()) {
        ADD_FAILURE() << name << ": " << result.status().ToString();
      } else {
        out.emplace_back(name, result->status);
      }
    };
    nfsclient::SetAttrs mode;
    mode.mode = 0644;
    add("GETATTR", client_.Getattr(fh));
    add("SETATTR", client_.Setattr(fh, mode));
    add("LOOKUP", client_.Lookup(fh, "file"));
    add("ACCESS", client_.Access(fh, nfsclient::kAccessRead));
    add("READLINK", client_.Readlink(fh));
    add("READ", client_.Read(fh, 0, 100));
    add("WRITE", client_.Write(fh, 0, "x", nfsclient::kFileSync));
    add("CREATE", client_.Create(fh, "new", nfsclient::kGuarded, mode));
    add("MKDIR", client_.Mkdir(fh, "newdir", mode));
    add("SYMLINK", client_.Symlink(fh, "newlink", "target"));
    add("MKNOD", client_.Mknod(fh, "fifo", nfsclient::kTypeFifo, mode));
    add("REMOVE", client_.Remove(fh, "file"));
    add("RMDIR", client_.Rmdir(fh, "dir"));
    add("RENAME from", client_.Rename(fh, "file", dir_, "renamed"));
    add("RENAME to", client_.Rename(dir_, "file", fh, "renamed"));
    add("LINK file", client_.Link(fh, dir_, "linked"));
    add("LINK dir", client_.Link(file_, fh, "linked"));
    add("READDIR", client_.Readdir(fh, 0, 0, 4096));
    add("READDIRPLUS", client_.Readdirplus(fh, 0, 0, 4096, 8192));
    add("FSSTAT", client_.Fsstat(fh));
    add("FSINFO", client_.Fsinfo(fh));
    add("PATHCONF", client_.Pathconf(fh));
    add("COMMIT", client_.Commit(fh, 0, 0));
    return out;
  }

  void ExpectEveryProcedure(const std::string& fh, uint32_t want, const std::string& what) {
    SCOPED_TRACE(what + " (" + std::to_string(fh.size()) + " bytes)");
    for (const auto& [proc, status] : AllProcedures(fh)) EXPECT_NFS(status, want) << proc;
    ExpectAlive();
    // Nothing a refused call named may have happened.
    EXPECT_EQ(ReadAll(Lookup(dir_, "file")), "data");
  }

  void ExpectAlive() {
    ASSERT_TRUE(server_->IsRunning()) << "ovlnfsd died";
    ASSERT_OK(client_.Null());
    EXPECT_NFS(GetattrStatus(root_), kNfs3Ok);
  }

  std::string dir_;
  std::string file_;
};

std::string Flip(std::string fh, size_t at) {
  fh[at] = static_cast<char>(fh[at] ^ 0x01);
  return fh;
}

TEST_F(MalformedHandleTest, MalformedHandlesAreBadhandle) {
  std::mt19937 rng(kFuzzSeed);
  std::string garbage(kMaxHandle, '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  garbage[0] = 'X';  // never the magic

  ExpectEveryProcedure("", kNfs3ErrBadhandle, "empty");
  ExpectEveryProcedure(file_.substr(0, 1), kNfs3ErrBadhandle, "1 byte");
  ExpectEveryProcedure(file_.substr(0, kHeaderSize - 1), kNfs3ErrBadhandle, "23 bytes");
  ExpectEveryProcedure(file_.substr(0, file_.size() - 1), kNfs3ErrBadhandle, "truncated MAC");
  ExpectEveryProcedure(garbage, kNfs3ErrBadhandle, "64 bytes of garbage");
  ExpectEveryProcedure(Flip(file_, 0), kNfs3ErrBadhandle, "bad magic");
  ExpectEveryProcedure(Flip(file_, kVersionByte), kNfs3ErrBadhandle, "bad version");
  std::string flags = file_;
  flags[kFlagsByte] = static_cast<char>(flags[kFlagsByte] | 0x80);
  ExpectEveryProcedure(flags, kNfs3ErrBadhandle, "unknown flag");
  ExpectEveryProcedure(Flip(file_, file_.size() - 1), kNfs3ErrBadhandle, "flipped MAC byte");
  ExpectEveryProcedure(Flip(dir_, kHeaderSize), kNfs3ErrBadhandle, "flipped real handle byte");
  if (file_.size() < kMaxHandle) {
    ExpectEveryProcedure(file_ + '\0', kNfs3ErrBadhandle, "one byte appended");
  }
}

TEST_F(MalformedHandleTest, AnotherExportsHandleIsStale) {
  // A second server with its own dirs has its own export UUID.
  auto other = testsupport::ServerProcess::Create(BaseOptions());
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  WriteLocalFile((*other)->lower_dirs()[0] + "/file", "other");
  ASSERT_OK((*other)->Start());
  NfsClient other_client;
  ASSERT_OK(other_client.Connect(kHost, (*other)->port(), (*other)->port()));
  ASSERT_RESULT(mnt, other_client.Mnt(kExportPath));
  ASSERT_EQ(mnt->status, 0u);
  ASSERT_RESULT(found, other_client.Lookup(mnt->handle, "file"));
  ASSERT_NFS(found->status, kNfs3Ok);

  ExpectEveryProcedure(mnt->handle, kNfs3ErrStale, "other export's root");
  ExpectEveryProcedure(found->handle, kNfs3ErrStale, "other export's file");
  ExpectEveryProcedure(Flip(file_, kUuidByte), kNfs3ErrStale, "UUID byte flipped");
}

// A handle longer than NFS3_FHSIZE is not a valid nfs_fh3 at all: the arguments do not decode.
// libnfs refuses to encode one, so the call is built by hand.
TEST_F(MalformedHandleTest, OversizeHandleIsGarbageArgs) {
  auto rpc = rpc::RpcClient::Connect(kHost, server_->port());
  ASSERT_TRUE(rpc.ok()) << rpc.status().ToString();
  for (size_t size : {kMaxHandle + 1, size_t{1024}}) {
    xdr::Encoder args;
    args.Opaque(std::string(size, 'O'));
    ASSERT_RESULT(reply, RawCall(**rpc, kNfsProgram, kNfsVersion, kNfsGetattr, args.bytes()));
    EXPECT_TRUE(reply->accepted);
    EXPECT_EQ(reply->accept_stat, rpc::AcceptStat::kGarbageArgs) << size << " bytes";
  }
  // The same connection and the server go on.
  xdr::Encoder args;
  args.Opaque(root_);
  ASSERT_RESULT(reply, RawCall(**rpc, kNfsProgram, kNfsVersion, kNfsGetattr, args.bytes()));
  EXPECT_EQ(reply->accept_stat, rpc::AcceptStat::kSuccess);
  ExpectAlive();
}

// Seeded fuzz: random bytes, random bytes behind a plausible header (magic, version, lengths,
// this export's UUID) so decoding gets as far as the MAC, and random mutations of valid handles.
TEST_F(MalformedHandleTest, FuzzedHandlesAreBadhandleOrStale) {
  std::mt19937 rng(kFuzzSeed);
  auto byte = [&] { return static_cast<char>(rng() & 0xff); };
  const std::vector<std::string> valid = {root_, dir_, file_};
  const std::vector<std::function<Result<uint32_t>(const std::string&)>> procs = {
      [&](const std::string& fh) -> Result<uint32_t> {
        OVL_ASSIGN_OR_RETURN(auto r, client_.Getattr(fh));
        return r.status;
      },
      [&](const std::string& fh) -> Result<uint32_t> {
        OVL_ASSIGN_OR_RETURN(auto r, client_.Lookup(fh, "file"));
        return r.status;
      },
      [&](const std::string& fh) -> Result<uint32_t> {
        OVL_ASSIGN_OR_RETURN(auto r, client_.Read(fh, 0, 64));
        return r.status;
      },
      [&](const std::string& fh) -> Result<uint32_t> {
        OVL_ASSIGN_OR_RETURN(auto r, client_.Access(fh, nfsclient::kAccessRead));
        return r.status;
      },
  };
  int bad = 0;
  int stale = 0;
  for (int i = 0; i < kFuzzCases; ++i) {
    std::string fh;
    const size_t length = rng() % (kMaxHandle + 1);
    switch (i % 3) {
      case 0:
        for (size_t k = 0; k < length; ++k) fh += byte();
        break;
      case 1:
        // A plausible prefix (magic, version, flags, layer, type) and this export's UUID.
        fh = valid[rng() % valid.size()].substr(0, kHeaderSize);
        while (fh.size() < kHeaderSize + 8 + rng() % 33) fh += byte();
        fh[6] = static_cast<char>(fh.size() - kHeaderSize - 8);
        break;
      case 2: {
        fh = valid[rng() % valid.size()];
        const std::string original = fh;
        if (rng() % 2 != 0) fh.resize(std::min<size_t>(length, kMaxHandle), byte());
        for (int flips = 1 + static_cast<int>(rng() % 3); flips > 0 && !fh.empty(); --flips) {
          fh[rng() % fh.size()] ^= static_cast<char>(1 + rng() % 255);
        }
        if (fh == original) fh.pop_back();
        break;
      }
    }
    Result<uint32_t> status = procs[i % procs.size()](fh);
    ASSERT_TRUE(status.ok()) << "case " << i << ": " << status.status().ToString();
    ASSERT_TRUE(*status == kNfs3ErrBadhandle || *status == kNfs3ErrStale)
        << "case " << i << " got " << Nfsstat3Name(*status);
    (*status == kNfs3ErrBadhandle ? bad : stale)++;
  }
  EXPECT_GT(bad, 0);
  EXPECT_GT(stale, 0) << "no mutation reached the UUID check";
  ExpectAlive();
  EXPECT_EQ(ReadAll(file_), "data");
}

}  // namespace
}  // namespace ovl::integration
