// Trees deeper than PATH_MAX over the wire (docs/ovlnfsd.md, "Deep paths"): a client can make a
// tree whose union path is longer than 4,096 bytes, use it, hold handles into it across an
// eviction and a restart, and remove it again; a lower tree that deep is readable and its files
// copy up.
#include <fcntl.h>
#include <linux/limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "base/fd.h"
#include "integration/overlay_fixture.h"

namespace ovl::integration {
namespace {

using nfsclient::kNfs3Ok;

// 25 components of 200 bytes: a union path of 5,024 bytes, past PATH_MAX (4,096).
constexpr int kDepth = 25;
constexpr int kMaxPages = 100;

std::string Component(int level) {
  return std::string(199, static_cast<char>('a' + level % 26)) + std::to_string(level % 10);
}

// Opens the chain of Component(0..kDepth-1) below `root` one component at a time (no path-based
// call reaches that deep), making each directory first when `make` is set.
Fd OpenDeep(const std::string& root, bool make) {
  Fd cur(open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  for (int i = 0; i < kDepth && cur.valid(); ++i) {
    if (make) {
      EXPECT_EQ(mkdirat(cur.get(), Component(i).c_str(), 0755), 0) << strerror(errno);
    }
    cur = Fd(openat(cur.get(), Component(i).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  return cur;
}

// The contents of `name` at the bottom of the chain below `root` ("<missing>" when absent).
std::string ReadDeep(const std::string& root, const std::string& name) {
  Fd dir = OpenDeep(root, false);
  if (!dir.valid()) return "<missing>";
  Fd f(openat(dir.get(), name.c_str(), O_RDONLY | O_CLOEXEC));
  if (!f.valid()) return "<missing>";
  char buf[256];
  const ssize_t n = read(f.get(), buf, sizeof buf);
  return n < 0 ? "<error>" : std::string(buf, static_cast<size_t>(n));
}

class DeepPathTest : public OverlayTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(CreateServer());
    ASSERT_NO_FATAL_FAILURE(WriteLower("probe", "p"));
  }

  void Mounted() {
    ASSERT_NO_FATAL_FAILURE(StartAndMount());
    probe_ = Lookup(root_, "probe");
    ASSERT_FALSE(HasFailure());
  }

  // Every name READDIR lists in `dir` but "." and "..".
  std::set<std::string> Names(const std::string& dir) {
    std::set<std::string> names;
    uint64_t cookie = 0, verf = 0;
    for (int page = 0; page < kMaxPages; ++page) {
      auto res = client_.Readdir(dir, cookie, verf, 8192);
      if (!res.ok()) {
        ADD_FAILURE() << "READDIR: " << res.status().ToString();
        return names;
      }
      if (res->status != kNfs3Ok) {
        ADD_FAILURE() << "READDIR: " << Nfsstat3Name(res->status);
        return names;
      }
      for (const auto& e : res->entries) {
        if (e.name != "." && e.name != "..") names.insert(e.name);
        cookie = e.cookie;
      }
      verf = res->cookieverf;
      if (res->eof) return names;
    }
    ADD_FAILURE() << "READDIR did not reach eof";
    return names;
  }

  // LOOKUP of every level from the root: the handles of the chain, root first.
  std::vector<std::string> LookupChain() {
    std::vector<std::string> chain = {root_};
    for (int i = 0; i < kDepth && !chain.back().empty(); ++i) {
      chain.push_back(Lookup(chain.back(), Component(i)));
    }
    return chain;
  }

  // What must hold of the deep directory `dir` and its file `file` after any fault.
  void CheckDeep(const std::string& dir, const std::string& file, const std::string& data) {
    EXPECT_NFS(GetattrStatus(dir), kNfs3Ok) << "GETATTR of the deep directory";
    EXPECT_NFS(GetattrStatus(file), kNfs3Ok) << "GETATTR of the deep file";
    EXPECT_EQ(ReadAll(file), data);
    EXPECT_EQ(Names(dir), std::set<std::string>{"file"});
    const std::vector<std::string> chain = LookupChain();
    EXPECT_EQ(chain.back(), dir) << "LOOKUP from the root gives another handle";
    if (!chain.back().empty()) {
      EXPECT_EQ(Lookup(chain.back(), "file"), file);
    }
  }

  // REMOVE of the file, then RMDIR of every level bottom-up.
  void RemoveDeep() {
    const std::vector<std::string> chain = LookupChain();
    ASSERT_FALSE(HasFailure());
    ASSERT_RESULT(removed, client_.Remove(chain.back(), "file"));
    EXPECT_NFS(removed->status, kNfs3Ok) << "REMOVE at the bottom";
    for (int i = kDepth; i-- > 0;) {
      ASSERT_RESULT(res, client_.Rmdir(chain[i], Component(i)));
      ASSERT_NFS(res->status, kNfs3Ok) << "RMDIR at level " << i;
    }
    EXPECT_EQ(Names(root_), std::set<std::string>{"probe"});
  }

  std::string probe_;
};

TEST_F(DeepPathTest, UpperTreeMadeRemovedAndHeldAcrossFaults) {
  ASSERT_NO_FATAL_FAILURE(Mounted());
  std::string dir = root_;
  for (int i = 0; i < kDepth; ++i) {
    dir = Mkdir(dir, Component(i));
    ASSERT_FALSE(dir.empty()) << "MKDIR at level " << i;
  }
  const std::string file = CreateFile(dir, "file");
  ASSERT_FALSE(file.empty());
  Write(file, 0, "deep data");
  ASSERT_NO_FATAL_FAILURE(CheckDeep(dir, file, "deep data"));
  for (Fault fault : {Fault::kEvict, Fault::kReboot}) {
    SCOPED_TRACE(FaultName(fault));
    ASSERT_NO_FATAL_FAILURE(Inject(fault, probe_));
    ASSERT_NO_FATAL_FAILURE(CheckDeep(dir, file, "deep data"));
  }
  ASSERT_NO_FATAL_FAILURE(RemoveDeep());
  EXPECT_NFS(GetattrStatus(dir), nfsclient::kNfs3ErrStale);
}

TEST_F(DeepPathTest, LowerTreeReadAndCopiedUp) {
  {
    Fd bottom = OpenDeep(server_->lower_dirs()[0], true);
    ASSERT_TRUE(bottom.valid()) << strerror(errno);
    Fd f(openat(bottom.get(), "file", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    ASSERT_TRUE(f.valid()) << strerror(errno);
    ASSERT_EQ(write(f.get(), "lower data", 10), 10);
  }
  ASSERT_NO_FATAL_FAILURE(Mounted());
  const std::vector<std::string> chain = LookupChain();
  const std::string dir = chain.back();
  ASSERT_FALSE(dir.empty());
  const std::string file = Lookup(dir, "file");
  ASSERT_FALSE(file.empty());
  ASSERT_NO_FATAL_FAILURE(CheckDeep(dir, file, "lower data"));
  ASSERT_NO_FATAL_FAILURE(Inject(Fault::kEvict, probe_));
  ASSERT_NO_FATAL_FAILURE(CheckDeep(dir, file, "lower data"));
  // The WRITE copies the file up, and with it every directory above it.
  Write(file, 0, "upper");
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(ReadDeep(server_->lower_dirs()[0], "file"), "lower data") << "lower layer modified";
  EXPECT_EQ(ReadDeep(server_->upper_dir(), "file"), "upper data");
  for (Fault fault : {Fault::kEvict, Fault::kReboot}) {
    SCOPED_TRACE(FaultName(fault));
    ASSERT_NO_FATAL_FAILURE(Inject(fault, probe_));
    ASSERT_NO_FATAL_FAILURE(CheckDeep(dir, file, "upper data"));
  }
  ASSERT_NO_FATAL_FAILURE(RemoveDeep());
  EXPECT_EQ(ReadDeep(server_->lower_dirs()[0], "file"), "lower data") << "lower layer modified";
}

}  // namespace
}  // namespace ovl::integration
