// READDIR/READDIRPLUS paging over a merged directory (two lower layers, a whiteout, an opaque
// subdirectory, upper entries and removals) with an eviction, a clean restart and a crash
// between pages: every name exactly once, no gaps, no duplicates, and each READDIRPLUS handle
// still valid at the end.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <map>
#include <set>
#include <string>

#include "integration/overlay_fixture.h"

namespace ovl::integration {
namespace {

using nfsclient::kNfs3Ok;

constexpr int kPerLayer = 40;
// Small pages, so the listing takes many calls and every fault falls between two of them.
constexpr uint32_t kDirCount = 512;
constexpr uint32_t kMaxCount = 1024;     // READDIRPLUS
constexpr uint32_t kReaddirCount = 400;  // READDIR
constexpr int kMaxPages = 1000;

std::string Name(const char* prefix, int i) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%s%03d", prefix, i);
  return buf;
}

class ReaddirPagingTest : public OverlayTest, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    testsupport::ServerOptions options = BaseOptions();
    options.lower_count = 2;
    ASSERT_NO_FATAL_FAILURE(CreateServer(options));
    const std::string top = server_->lower_dirs()[0] + "/dir";
    const std::string bottom = server_->lower_dirs()[1] + "/dir";
    MakeLocalDir(top);
    MakeLocalDir(bottom);
    for (int i = 0; i < kPerLayer; ++i) {
      WriteLocalFile(top + "/" + Name("top", i), "t");
      WriteLocalFile(bottom + "/" + Name("bottom", i), "b");
      expected_.insert(Name("top", i));
      expected_.insert(Name("bottom", i));
    }
    // Shadowed: the same name in both layers is listed once.
    WriteLocalFile(top + "/shared", "top");
    WriteLocalFile(bottom + "/shared", "bottom");
    expected_.insert("shared");
    // A whiteout (0/0 character device) in the top layer hides a bottom entry.
    ASSERT_EQ(mknod((top + "/" + Name("bottom", 0)).c_str(), S_IFCHR | 0, makedev(0, 0)), 0);
    expected_.erase(Name("bottom", 0));
    ASSERT_NO_FATAL_FAILURE(StartAndMount());
    dir_ = Lookup(root_, "dir");
    for (int i = 0; i < 10; ++i) {
      CreateFile(dir_, Name("upper", i));
      expected_.insert(Name("upper", i));
    }
    for (const std::string& name : {Name("top", 1), Name("bottom", 2)}) {
      auto res = client_.Remove(dir_, name);
      ASSERT_TRUE(res.ok());
      ASSERT_NFS(res->status, kNfs3Ok);
      expected_.erase(name);
    }
    probe_ = Lookup(dir_, "shared");
    ASSERT_FALSE(HasFailure());
  }

  std::string dir_;
  std::string probe_;
  std::set<std::string> expected_;
};

TEST_P(ReaddirPagingTest, FaultsBetweenPagesLoseAndRepeatNothing) {
  const bool plus = GetParam();
  std::map<std::string, int> seen;
  std::map<std::string, std::pair<std::string, uint64_t>> handles;  // name -> (handle, fileid)
  uint64_t cookie = 0;
  uint64_t verifier = 0;
  int page = 0;
  for (bool eof = false; !eof; ++page) {
    ASSERT_LT(page, kMaxPages) << "the listing does not end";
    auto res = plus ? client_.Readdirplus(dir_, cookie, verifier, kDirCount, kMaxCount)
                    : client_.Readdir(dir_, cookie, verifier, kReaddirCount);
    ASSERT_TRUE(res.ok()) << "page " << page << ": " << res.status().ToString();
    ASSERT_NFS(res->status, kNfs3Ok) << "page " << page;
    ASSERT_TRUE(!res->entries.empty() || res->eof) << "empty page " << page << " before eof";
    for (const nfsclient::DirEntry& e : res->entries) {
      ++seen[e.name];
      if (e.handle) handles[e.name] = {*e.handle, e.fileid};
      cookie = e.cookie;
    }
    verifier = res->cookieverf;
    eof = res->eof;
    // Faults after the first three pages, in this order.
    if (page < static_cast<int>(kAllFaults.size()) && !eof) {
      ASSERT_NO_FATAL_FAILURE(Inject(kAllFaults[page], probe_));
    }
  }
  EXPECT_GT(page, static_cast<int>(kAllFaults.size()) + 1) << "too few pages to test paging";
  std::set<std::string> names;
  for (const auto& [name, count] : seen) {
    EXPECT_EQ(count, 1) << name << " listed " << count << " times";
    if (name != "." && name != "..") names.insert(name);
  }
  EXPECT_EQ(names, expected_);
  if (plus) {
    EXPECT_FALSE(handles.empty()) << "READDIRPLUS returned no handles";
    for (const auto& [name, entry] : handles) {
      if (name == "." || name == "..") continue;
      EXPECT_EQ(Lookup(dir_, name), entry.first) << name;
      EXPECT_EQ(Getattr(entry.first).fileid, entry.second) << name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Procedures, ReaddirPagingTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Readdirplus" : "Readdir"; });

}  // namespace
}  // namespace ovl::integration
