// The cached merged listing (readdir.cc): every change to any layer directory shows in the next
// page, whoever made it, and paging by cookie stays exact across changes and rebuilds.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "union/union_fs.h"
#include "union/union_test_util.h"

namespace ovl {
namespace {

class ReadDirCacheTest : public UnionTest {
 protected:
  // Changes made behind the server's back are seen through the directories' timestamps, which
  // kernels before 6.13 take from a clock that ticks every few ms: step past a tick first.
  static void NextTick() { std::this_thread::sleep_for(std::chrono::milliseconds(25)); }

  Node Create(const Node& dir, const std::string& name) {
    auto n = fs_->Create(dir, name, CreateMode::kGuarded, 0644, {}, root_cred_);
    EXPECT_TRUE(n.ok()) << name << ": " << n.status().ToString();
    return n.ok() ? *n : Node{};
  }

  // Every entry of `dir`, `per_page` at a time, with READDIRPLUS pages when `plus`.
  std::vector<DirEntryPlus> All(const Node& dir, size_t per_page, bool plus) {
    std::vector<DirEntryPlus> out;
    uint64_t cookie = 0;
    for (int guard = 0; guard < 10000; ++guard) {
      auto page = fs_->ReadDir(dir, cookie, per_page, plus);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      for (auto& e : page->entries) {
        cookie = e.cookie;
        out.push_back(std::move(e));
      }
      if (page->eof) break;
    }
    return out;
  }
};

TEST_F(ReadDirCacheTest, SeesUpperChangesMadeBehindTheServersBack) {
  Lower(0, "d/a", "a");
  Open();
  ASSERT_TRUE(WriteAll(MustWalk("d/a"), "A").ok());  // d now has an upper dir
  Node d = MustWalk("d");
  EXPECT_EQ(Names(d), (std::vector<std::string>{"a"}));
  NextTick();
  std::ofstream(upper_ + "/d/b") << "b";
  EXPECT_EQ(Names(d), (std::vector<std::string>{"a", "b"}));
  NextTick();
  ASSERT_EQ(0, unlink((upper_ + "/d/b").c_str()));
  EXPECT_EQ(Names(d), (std::vector<std::string>{"a"}));
}

TEST_F(ReadDirCacheTest, SeesLowerChangesMadeBehindTheServersBack) {
  Lower(0, "d/a", "a");
  Lower(1, "d/b", "b");
  Open();
  Node d = MustWalk("d");
  EXPECT_EQ(Names(d), (std::vector<std::string>{"a", "b"}));
  NextTick();
  Lower(1, "d/c", "c");
  EXPECT_EQ(Names(d), (std::vector<std::string>{"a", "b", "c"}));
  NextTick();
  ASSERT_EQ(0, unlink((lowers_[0] + "/d/a").c_str()));
  EXPECT_EQ(Names(d), (std::vector<std::string>{"b", "c"}));
}

TEST_F(ReadDirCacheTest, OwnChangesShowAtOnce) {
  // No pause anywhere: the server's own changes must not depend on timestamps.
  for (int i = 0; i < 10; ++i) Lower(i % 2, "d/f" + std::to_string(i), "x");
  Open();
  Node d = MustWalk("d");
  std::vector<std::string> want = Names(d);
  ASSERT_EQ(want.size(), 10u);
  for (int round = 0; round < 3; ++round) {
    const std::string n = "new" + std::to_string(round);
    Create(d, n);
    want.push_back(n);
    std::sort(want.begin(), want.end());
    EXPECT_EQ(Names(d), want) << "after create " << n;

    const std::string victim = "f" + std::to_string(round);
    ASSERT_TRUE(fs_->Remove(d, victim).ok());
    want.erase(std::find(want.begin(), want.end(), victim));
    EXPECT_EQ(Names(d), want) << "after remove " << victim;

    // A copy-up changes the upper directory but not the listing.
    ASSERT_TRUE(WriteAll(MustWalk("d/f" + std::to_string(round + 5)), "y").ok());
    EXPECT_EQ(Names(d), want) << "after copy-up";

    const std::string linked = "link" + std::to_string(round);
    ASSERT_TRUE(fs_->Link(MustWalk("d/f9"), d, linked).ok());
    want.push_back(linked);
    std::sort(want.begin(), want.end());
    EXPECT_EQ(Names(d), want) << "after link " << linked;

    const std::string moved = "moved" + std::to_string(round);
    ASSERT_TRUE(fs_->Rename(d, linked, d, moved).ok());
    *std::find(want.begin(), want.end(), linked) = moved;
    std::sort(want.begin(), want.end());
    EXPECT_EQ(Names(d), want) << "after rename to " << moved;
  }
  ASSERT_TRUE(fs_->MkDir(d, "sub", 0755, root_cred_).ok());
  want.push_back("sub");
  std::sort(want.begin(), want.end());
  EXPECT_EQ(Names(d), want);
  Create(MustWalk("d/sub"), "inner");
  EXPECT_EQ(Names(MustWalk("d/sub")), (std::vector<std::string>{"inner"}));
  // Creating in a lower-only directory copies it up: its listing now merges the upper dir.
  Lower(1, "e/x", "x");
  Open();
  Node e = MustWalk("e");
  EXPECT_EQ(Names(e), (std::vector<std::string>{"x"}));
  Create(e, "y");
  EXPECT_EQ(Names(e), (std::vector<std::string>{"x", "y"}));
}

TEST_F(ReadDirCacheTest, BigDirectoryPagedAcrossChanges) {
  for (int i = 0; i < 300; ++i) Lower(i % 2, "big/l" + std::to_string(i), "x");
  Open();
  Node big = MustWalk("big");
  for (int i = 0; i < 100; ++i) Create(big, "u" + std::to_string(i));
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(WriteAll(MustWalk("big/l" + std::to_string(i)), "y").ok());

  // Pages of 37 with changes in between: every name present throughout is seen exactly once.
  std::multiset<std::string> seen;
  std::set<std::string> touched;
  uint64_t cookie = 0;
  int pages = 0;
  for (; pages < 1000; ++pages) {
    auto page = fs_->ReadDir(big, cookie, 37, pages % 2 == 1);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& e : page->entries) {
      seen.insert(e.name);
      cookie = e.cookie;
      if (e.node) {
        EXPECT_EQ(e.node->handle, MustWalk("big/" + e.name).handle) << e.name;
        ASSERT_TRUE(e.attr.has_value()) << e.name;
        EXPECT_EQ(e.attr->fileid, e.fileid) << e.name;
      }
    }
    if (page->eof) break;
    const std::string made = "late" + std::to_string(pages);
    Create(big, made);
    touched.insert(made);
    const std::string gone = "u" + std::to_string(pages);
    ASSERT_TRUE(fs_->Remove(big, gone).ok());
    touched.insert(gone);
    if (pages == 3) fs_->DropCaches();
    if (pages == 5) {
      NextTick();
      Lower(1, "big/behind", "x");
      touched.insert("behind");
    }
  }
  EXPECT_GT(pages, 5);
  for (const auto& name : seen) EXPECT_EQ(seen.count(name), 1u) << name;
  for (int i = 0; i < 300; ++i) EXPECT_EQ(seen.count("l" + std::to_string(i)), 1u) << i;
  for (int i = pages + 1; i < 100; ++i) {
    if (!touched.count("u" + std::to_string(i))) {
      EXPECT_EQ(seen.count("u" + std::to_string(i)), 1u) << i;
    }
  }
  // And the whole listing afterwards is exactly the union.
  std::set<std::string> now;
  for (const auto& e : All(big, 50, false)) EXPECT_TRUE(now.insert(e.name).second) << e.name;
  EXPECT_EQ(now.count("behind"), 1u);
  EXPECT_EQ(now.count("u0"), 0u);
  EXPECT_EQ(now.count("late0"), 1u);
  EXPECT_EQ(now.size(), 300u + 100u + 1u);  // each round made one name and removed one
}

TEST_F(ReadDirCacheTest, EntriesAgreeWithLookupAfterCopyUp) {
  Lower(0, "d/lower", "1");
  Lower(1, "d/copied", "22");
  Open();
  Node d = MustWalk("d");
  Create(d, "upper");
  auto check = [&](const std::string& when) {
    for (bool plus : {false, true}) {
      for (const auto& e : All(d, 2, plus)) {
        Node n = MustWalk("d/" + e.name);
        auto attr = fs_->GetAttr(n);
        ASSERT_TRUE(attr.ok());
        EXPECT_EQ(e.fileid, attr->fileid) << when << " " << e.name;
        if (plus) {
          ASSERT_TRUE(e.node && e.attr) << when << " " << e.name;
          EXPECT_EQ(e.node->handle, n.handle) << when << " " << e.name;
          EXPECT_EQ(e.attr->size, attr->size) << when << " " << e.name;
        }
      }
    }
  };
  check("first");
  ASSERT_TRUE(WriteAll(MustWalk("d/copied"), "333").ok());
  check("after copy-up");
  // A copy-up through the handle alone (no name known) keeps the listing but not the object.
  Node lower = MustWalk("d/lower");
  fs_->DropCaches();
  ASSERT_TRUE(WriteAll(lower, "4444").ok());
  check("after copy-up by handle");
}

TEST_F(ReadDirCacheTest, FitsEndsThePageExactly) {
  for (int i = 0; i < 20; ++i) Lower(0, "d/f" + std::to_string(i), "x");
  Open();
  Node d = MustWalk("d");
  std::vector<std::string> seen;
  uint64_t cookie = 0;
  for (int pages = 0; pages < 100; ++pages) {
    int budget = 3;
    int asked = 0;
    auto page = fs_->ReadDir(d, cookie, 1000, pages % 2 == 0, [&](const DirEntryPlus&) {
      ++asked;
      return budget-- > 0;
    });
    ASSERT_TRUE(page.ok());
    EXPECT_LE(page->entries.size(), 3u);
    EXPECT_LE(asked, 4);
    for (const auto& e : page->entries) {
      seen.push_back(e.name);
      cookie = e.cookie;
    }
    if (page->eof) break;
    EXPECT_EQ(page->entries.size(), 3u);
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen.size(), 20u);
  EXPECT_TRUE(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
}

}  // namespace
}  // namespace ovl
