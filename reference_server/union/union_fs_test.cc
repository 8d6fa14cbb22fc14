// Handle persistence requirements of the union layer (docs/handle-format.md), each checked after
// eviction, after a clean restart and after a "crash" (the union is dropped without shutdown).
#include "union/union_fs.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "union/union_test_util.h"

namespace ovl {
namespace {

class UnionFsTest : public UnionTest {
 protected:
  // The planted-bug tests run their steps twice, on fresh names in the same layers: with the
  // plant, where the mistake shows, and without it, where the same steps come out right.
  void OpenPlanted(bool planted, Plant plant) {
    UnionOptions o = Options();
    if (planted) o.plants.Add(plant);
    Open(o);
  }
  // A name of its own for each of the two runs.
  static std::string Name(bool planted, const std::string& base) {
    return (planted ? "planted-" : "correct-") + base;
  }
};

TEST_F(UnionFsTest, MergesLayersTopDown) {
  Lower(0, "a", "top");
  Lower(1, "a", "bottom");
  Lower(1, "b", "b1");
  Lower(0, "d/x", "x");
  Lower(1, "d/y", "y");
  Open();
  EXPECT_EQ(ReadAll(MustWalk("a")), "top");
  EXPECT_EQ(ReadAll(MustWalk("d/y")), "y");
  EXPECT_EQ(Names(Root()), (std::vector<std::string>{"a", "b", "d"}));
  EXPECT_EQ(Names(MustWalk("d")), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(Walk("nope").status().code(), ENOENT);
}

TEST_F(UnionFsTest, CopyUpKeepsHandle) {
  Lower(0, "dir/f", "old data");
  Open();
  Node h = MustWalk("dir/f");
  auto fileid = fs_->GetAttr(h)->fileid;
  ASSERT_TRUE(WriteAll(h, "new").ok());
  EXPECT_EQ(Slurp(lowers_[0] + "/dir/f"), "old data") << "the lower layer was modified";
  EXPECT_EQ(MustWalk("dir/f").handle, h.handle);
  AfterEviction([&](const char* when) {
    auto n = fs_->Decode(h.handle);
    ASSERT_TRUE(n.ok()) << when << ": " << n.status().ToString();
    EXPECT_EQ(ReadAll(*n), "new data") << when;
    EXPECT_EQ(MustWalk("dir/f").handle, h.handle) << when;
    EXPECT_EQ(fs_->GetAttr(*n)->fileid, fileid) << when;
  });
}

TEST_F(UnionFsTest, EvictionForcesIndexDecode) {
  Lower(0, "f", "x");
  Open();
  Node h = MustWalk("f");
  ASSERT_TRUE(WriteAll(h, "y").ok());
  ASSERT_TRUE(fs_->Decode(h.handle).ok());
  auto before = fs_->Counters();
  fs_->DropCaches();
  ASSERT_TRUE(fs_->Decode(h.handle).ok());
  auto after = fs_->Counters();
  EXPECT_EQ(after.cache_drops, before.cache_drops + 1);
  EXPECT_EQ(after.decode_index_lookups, before.decode_index_lookups + 1);
  EXPECT_EQ(after.decode_cache_hits, before.decode_cache_hits);
}

TEST_F(UnionFsTest, RenameFileParentGrandparent) {
  Lower(0, "g/p/f", "payload");
  Lower(1, "g/p/other", "o");
  Open();
  Node f = MustWalk("g/p/f");
  Node p = MustWalk("g/p");
  Node g = MustWalk("g");
  ASSERT_TRUE(fs_->Rename(p, "f", p, "f2").ok());
  ASSERT_TRUE(fs_->Rename(g, "p", g, "p2").ok());
  ASSERT_TRUE(fs_->Rename(Root(), "g", Root(), "g2").ok());
  AfterEviction([&](const char* when) {
    EXPECT_EQ(MustWalk("g2/p2/f2").handle, f.handle) << when;
    EXPECT_EQ(MustWalk("g2/p2").handle, p.handle) << when;
    EXPECT_EQ(MustWalk("g2").handle, g.handle) << when;
    auto n = fs_->Decode(f.handle);
    ASSERT_TRUE(n.ok()) << when << ": " << n.status().ToString();
    EXPECT_EQ(ReadAll(*n), "payload");
    ASSERT_TRUE(fs_->Decode(p.handle).ok()) << when;
    EXPECT_EQ(Names(*fs_->Decode(p.handle)), (std::vector<std::string>{"f2", "other"})) << when;
    EXPECT_EQ(Walk("g").status().code(), ENOENT) << when;
  });
}

TEST_F(UnionFsTest, MoveToNewParent) {
  Lower(0, "a/b/f", "data");
  Open();
  Node f = MustWalk("a/b/f");
  auto n = fs_->MkDir(Root(), "new", 0755, root_cred_);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  ASSERT_TRUE(fs_->Rename(MustWalk("a/b"), "f", *n, "moved").ok());
  AfterEviction([&](const char* when) {
    EXPECT_EQ(MustWalk("new/moved").handle, f.handle) << when;
    EXPECT_EQ(ReadAll(*fs_->Decode(f.handle)), "data") << when;
    EXPECT_EQ(Walk("a/b/f").status().code(), ENOENT) << when;
  });
}

TEST_F(UnionFsTest, SeedUnlinkReboot) {
  Lower(0, "a", "original");
  LowerLink(0, "a", "b");
  Open();
  Node h = MustWalk("a");
  ASSERT_TRUE(fs_->Remove(Root(), "a").ok());
  Open();  // reboot
  auto n = fs_->Decode(h.handle);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(ReadAll(*n), "original");
  EXPECT_EQ(fs_->GetAttr(*n)->nlink, 1u);
  EXPECT_EQ(MustWalk("b").handle, h.handle);
  ASSERT_TRUE(fs_->Remove(Root(), "b").ok());
  EXPECT_TRUE(IsStale(fs_->Decode(h.handle).status()));
  AfterEviction([&](const char* when) {
    EXPECT_TRUE(IsStale(fs_->Decode(h.handle).status())) << when;
    EXPECT_TRUE(Names(Root()).empty()) << when;
  });
}

TEST_F(UnionFsTest, LowerHardlinksCopyUp) {
  Lower(0, "a", "old");
  LowerLink(0, "a", "b");
  Open();
  Node a = MustWalk("a");
  auto fileid = fs_->GetAttr(a)->fileid;
  ASSERT_TRUE(WriteAll(a, "NEW").ok());
  AfterEviction([&](const char* when) {
    Node b = MustWalk("b");
    EXPECT_EQ(b.handle, a.handle) << when;
    EXPECT_EQ(ReadAll(b), "NEW") << when;
    auto attr = fs_->GetAttr(b);
    EXPECT_EQ(attr->fileid, fileid) << when;
    EXPECT_EQ(attr->nlink, 2u) << when;
  });
}

TEST_F(UnionFsTest, UnlinkAllIsStaleForever) {
  Lower(1, "d/f", "x");
  Open();
  Node h = MustWalk("d/f");
  ASSERT_TRUE(fs_->Remove(MustWalk("d"), "f").ok());
  AfterEviction([&](const char* when) {
    EXPECT_TRUE(IsStale(fs_->Decode(h.handle).status())) << when;
    EXPECT_EQ(Walk("d/f").status().code(), ENOENT) << when;
  });
  // A new file of the same name is a new object.
  auto made = fs_->Create(MustWalk("d"), "f", CreateMode::kGuarded, 0644, {}, root_cred_);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_NE(made->handle, h.handle);
  EXPECT_TRUE(IsStale(fs_->Decode(h.handle).status()));
  EXPECT_EQ(Names(MustWalk("d")), std::vector<std::string>{"f"});
}

TEST_F(UnionFsTest, DirHandles) {
  Lower(0, "d/child", "c");
  Lower(1, "d/deep/x", "x");
  Open();
  Node d = MustWalk("d");
  ASSERT_TRUE(WriteAll(MustWalk("d/child"), "copied").ok());  // copies d up
  ASSERT_TRUE(fs_->Rename(Root(), "d", Root(), "e").ok());
  AfterEviction([&](const char* when) {
    EXPECT_EQ(MustWalk("e").handle, d.handle) << when;
    auto n = fs_->Decode(d.handle);
    ASSERT_TRUE(n.ok()) << when;
    EXPECT_EQ(Names(*n), (std::vector<std::string>{"child", "deep"})) << when;
  });
  ASSERT_TRUE(fs_->Remove(MustWalk("e/deep"), "x").ok());
  ASSERT_TRUE(fs_->RmDir(MustWalk("e"), "deep").ok());
  ASSERT_TRUE(fs_->Remove(MustWalk("e"), "child").ok());
  EXPECT_EQ(fs_->RmDir(Root(), "nope").code(), ENOENT);
  ASSERT_TRUE(fs_->RmDir(Root(), "e").ok());
  AfterEviction([&](const char* when) {
    EXPECT_TRUE(IsStale(fs_->Decode(d.handle).status())) << when;
    EXPECT_TRUE(Names(Root()).empty()) << when;
  });
}

TEST_F(UnionFsTest, PureLowerDirHandleSurvivesParentRename) {
  Lower(0, "a/b/c/f", "f");
  Open();
  Node c = MustWalk("a/b/c");
  ASSERT_TRUE(fs_->Rename(Root(), "a", Root(), "z").ok());
  AfterEviction([&](const char* when) {
    auto n = fs_->Decode(c.handle);
    ASSERT_TRUE(n.ok()) << when << ": " << n.status().ToString();
    EXPECT_EQ(Names(*n), std::vector<std::string>{"f"}) << when;
    EXPECT_EQ(MustWalk("z/b/c").handle, c.handle) << when;
  });
}

// fstests overlay/054: merge dirs that an overlay without index copied up (here: the union's own
// copy-ups with their dir index entries removed) have no index entry. Renaming them must not cut
// the handles of them and of the lower dirs below them, saved once they were merge dirs.
TEST_F(UnionFsTest, MergeDirsCopiedUpWithoutIndexKeepTheirHandlesAcrossRenames) {
  for (bool planted : {false, true}) {
    SCOPED_TRACE(planted ? "planted rename-skips-merge-dir-index" : "correct");
    std::filesystem::remove_all(upper_);
    std::filesystem::remove_all(work_);
    std::filesystem::remove_all(lowers_[0]);
    mkdir(upper_.c_str(), 0755);
    mkdir(work_.c_str(), 0755);
    mkdir(lowers_[0].c_str(), 0755);
    Lower(0, "a/b/c/f", "f");
    Lower(0, "a/x/y", "y");
    Open();
    ASSERT_TRUE(
        fs_->Create(MustWalk("a/b"), "new", CreateMode::kUnchecked, 0644, {}, root_cred_).ok());
    fs_.reset();
    const std::string index = work_ + "/index";
    std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(index.c_str()), closedir);
    ASSERT_TRUE(dir);
    int unindexed = 0;
    while (struct dirent* e = readdir(dir.get())) {
      if (e->d_name[0] != '.' && rmdir((index + "/" + e->d_name).c_str()) == 0) ++unindexed;
    }
    ASSERT_EQ(unindexed, 2) << "a and a/b were indexed";
    UnionOptions o = Options();
    if (planted) o.plants.Add(Plant::kRenameSkipsMergeDirIndex);
    Open(o);
    const Node a = MustWalk("a"), b = MustWalk("a/b"), c = MustWalk("a/b/c"), x = MustWalk("a/x");
    ASSERT_TRUE(fs_->Rename(a, "b", a, "b2").ok());
    ASSERT_TRUE(fs_->Rename(Root(), "a", Root(), "a2").ok());
    fs_->DropCaches();
    if (planted) {
      EXPECT_TRUE(IsStale(fs_->Decode(c.handle).status())) << "the plant no longer cuts c";
      continue;
    }
    AfterEviction([&](const char* when) {
      for (const Node& n : {a, b, c, x}) {
        auto d = fs_->Decode(n.handle);
        ASSERT_TRUE(d.ok()) << when << ": " << d.status().ToString();
      }
      EXPECT_EQ(Names(*fs_->Decode(c.handle)), std::vector<std::string>{"f"}) << when;
      EXPECT_EQ(MustWalk("a2/b2/c").handle, c.handle) << when;
      EXPECT_EQ(MustWalk("a2/b2").handle, b.handle) << when;
      EXPECT_EQ(MustWalk("a2/x").handle, x.handle) << when;
    });
  }
}

// A lower layer edited while the server is down changes the merged directories' entries: their
// ctime (the NFSv3 change attribute clients check their cached names by) must change too, even
// where the upper directory, whose ctime it is otherwise, was not touched.
TEST_F(UnionFsTest, OfflineLowerChangeShowsInTheMergedDirectorysCtime) {
  Lower(0, "d/x", "x");
  Lower(1, "d/y", "y");
  Open();
  ASSERT_TRUE(WriteAll(MustWalk("d/x"), "copied").ok());  // copies d up, and the root's upper
  const Attr root = *fs_->GetAttr(Root());
  const Attr d = *fs_->GetAttr(MustWalk("d"));
  fs_.reset();
  usleep(20'000);  // past the filesystem's timestamp granularity
  ASSERT_EQ(0, rename((lowers_[0] + "/d").c_str(), (lowers_[0] + "/e").c_str()));
  ASSERT_EQ(0, unlink((lowers_[1] + "/d/y").c_str()));
  Open();
  auto later = [](const Attr& a, const Attr& b) {
    return a.ctime.tv_sec > b.ctime.tv_sec ||
           (a.ctime.tv_sec == b.ctime.tv_sec && a.ctime.tv_nsec > b.ctime.tv_nsec);
  };
  EXPECT_TRUE(later(*fs_->GetAttr(Root()), root)) << "the root gained e";
  EXPECT_TRUE(later(*fs_->GetAttr(MustWalk("d")), d)) << "d lost y";
  EXPECT_EQ(fs_->GetAttr(Root())->mtime.tv_nsec, root.mtime.tv_nsec) << "mtime stays the upper's";
}

TEST_F(UnionFsTest, RmdirNotEmptyAndOpaqueRecreate) {
  Lower(0, "d/f", "x");
  Open();
  EXPECT_EQ(fs_->RmDir(Root(), "d").code(), ENOTEMPTY);
  ASSERT_TRUE(fs_->Remove(MustWalk("d"), "f").ok());
  ASSERT_TRUE(fs_->RmDir(Root(), "d").ok());
  ASSERT_TRUE(fs_->MkDir(Root(), "d", 0755, root_cred_).ok());
  EXPECT_TRUE(Names(MustWalk("d")).empty()) << "lower entries leaked into a re-created dir";
}

TEST_F(UnionFsTest, UpperOnlyObjects) {
  Open();
  auto f = fs_->Create(Root(), "new", CreateMode::kGuarded, 0644, {}, root_cred_);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(WriteAll(*f, "upper").ok());
  auto dir = fs_->MkDir(Root(), "dir", 0755, root_cred_);
  ASSERT_TRUE(dir.ok());
  ASSERT_TRUE(fs_->Rename(Root(), "new", *dir, "renamed").ok());
  AfterEviction([&](const char* when) {
    EXPECT_EQ(ReadAll(*fs_->Decode(f->handle)), "upper") << when;
    EXPECT_EQ(MustWalk("dir/renamed").handle, f->handle) << when;
    EXPECT_EQ(MustWalk("dir").handle, dir->handle) << when;
  });
}

TEST_F(UnionFsTest, InodeReuseNeverResolves) {
  Open();
  auto f = fs_->Create(Root(), "victim", CreateMode::kGuarded, 0644, {}, root_cred_);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(fs_->Remove(Root(), "victim").ok());
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(
        fs_->Create(Root(), "n" + std::to_string(i), CreateMode::kGuarded, 0644, {}, root_cred_)
            .ok());
  }
  AfterEviction(
      [&](const char* when) { EXPECT_TRUE(IsStale(fs_->Decode(f->handle).status())) << when; });
}

TEST_F(UnionFsTest, MalformedHandles) {
  Lower(0, "f", "x");
  Open();
  std::string h = MustWalk("f").handle;
  auto bad = [&](std::string bytes) { return fs_->Decode(bytes).status().code(); };
  EXPECT_EQ(bad(""), kErrBadHandle);
  EXPECT_EQ(bad(h.substr(0, 10)), kErrBadHandle);
  EXPECT_EQ(bad(h + std::string(64, 'x')), kErrBadHandle);
  std::string m = h;
  m[0] = 'X';
  EXPECT_EQ(bad(m), kErrBadHandle);
  m = h;
  m[2] = 9;
  EXPECT_EQ(bad(m), kErrBadHandle);
  m = h;
  m[3] = static_cast<char>(0x80);
  EXPECT_EQ(bad(m), kErrBadHandle);
  m = h;
  m[m.size() - 1] ^= 1;  // the MAC: a forged real handle is refused
  EXPECT_EQ(bad(m), kErrBadHandle);
  m = h;
  m[24] ^= 1;
  EXPECT_EQ(bad(m), kErrBadHandle);
  m = h;
  m[8] ^= 1;  // another export's UUID
  EXPECT_EQ(bad(m), ESTALE);
  for (int len = 0; len <= 64; ++len) {  // no crash on any length of garbage
    (void)fs_->Decode(std::string(len, '\xff'));
  }
  EXPECT_GE(fs_->Counters().decode_bad, 7u);
}

TEST_F(UnionFsTest, ExclusiveCreateReplay) {
  Open();
  std::array<uint8_t, 8> v{1, 2, 3, 4, 5, 6, 7, 8};
  auto a = fs_->Create(Root(), "x", CreateMode::kExclusive, 0644, v, root_cred_);
  ASSERT_TRUE(a.ok());
  Open();
  auto b = fs_->Create(Root(), "x", CreateMode::kExclusive, 0644, v, root_cred_);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(a->handle, b->handle);
  v[0] = 9;
  EXPECT_EQ(fs_->Create(Root(), "x", CreateMode::kExclusive, 0644, v, root_cred_).status().code(),
            EEXIST);
  EXPECT_EQ(fs_->Create(Root(), "x", CreateMode::kGuarded, 0644, v, root_cred_).status().code(),
            EEXIST);
}

TEST_F(UnionFsTest, ReaddirCookiesStableAcrossEviction) {
  for (int i = 0; i < 60; ++i) Lower(i % 2, "d/f" + std::to_string(i), "x");
  Lower(1, "d/gone", "x");
  Open();
  ASSERT_TRUE(fs_->Remove(MustWalk("d"), "gone").ok());
  Node d = MustWalk("d");
  std::vector<std::string> seen;
  uint64_t cookie = 0;
  for (int pages = 0; pages < 100; ++pages) {
    auto page = fs_->ReadDir(d, cookie, 7, pages % 2 == 0);
    ASSERT_TRUE(page.ok());
    for (const auto& e : page->entries) {
      seen.push_back(e.name);
      cookie = e.cookie;
      if (e.node) {
        EXPECT_EQ(e.node->handle, MustWalk("d/" + e.name).handle);
      }
    }
    if (page->eof) break;
    if (pages % 3 == 0) fs_->DropCaches();
    if (pages == 4) Open();
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen.size(), 60u);
  EXPECT_TRUE(std::adjacent_find(seen.begin(), seen.end()) == seen.end()) << "duplicate entry";
}

TEST_F(UnionFsTest, WhiteoutHidesLowerAndReplacedByCreate) {
  Lower(1, "f", "lower");
  Open();
  ASSERT_TRUE(fs_->Remove(Root(), "f").ok());
  EXPECT_TRUE(Names(Root()).empty());
  auto n = fs_->Create(Root(), "f", CreateMode::kGuarded, 0600, {}, root_cred_);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(ReadAll(*n), "");
  EXPECT_EQ(Names(Root()), std::vector<std::string>{"f"});
  ASSERT_TRUE(fs_->Remove(Root(), "f").ok());
  Open();
  EXPECT_TRUE(Names(Root()).empty()) << "lower file came back after removing its replacement";
}

TEST_F(UnionFsTest, SymlinksSpecialFilesAndSetAttr) {
  Lower(0, "f", "0123456789");
  Open();
  ASSERT_TRUE(fs_->Symlink(Root(), "ln", "f", root_cred_).ok());
  EXPECT_EQ(*fs_->ReadLink(MustWalk("ln")), "f");
  ASSERT_TRUE(fs_->MkNod(Root(), "fifo", FileType::kFifo, 0600, 0, 0, root_cred_).ok());
  EXPECT_EQ(fs_->MkNod(Root(), "wh", FileType::kChr, 0600, 0, 0, root_cred_).status().code(),
            EINVAL);
  Node f = MustWalk("f");
  SetAttrRequest req;
  req.size = 4;
  req.mode = 0600;
  req.uid = 1234;
  ASSERT_TRUE(fs_->SetAttr(f, req).ok());
  AfterEviction([&](const char* when) {
    auto a = fs_->GetAttr(f);
    ASSERT_TRUE(a.ok()) << when;
    EXPECT_EQ(a->size, 4u) << when;
    EXPECT_EQ(a->mode, 0600u) << when;
    EXPECT_EQ(a->uid, 1234u) << when;
    EXPECT_EQ(ReadAll(f), "0123") << when;
    EXPECT_EQ(MustWalk("fifo").type, FileType::kFifo) << when;
  });
  EXPECT_EQ(Slurp(lowers_[0] + "/f"), "0123456789");
}

TEST_F(UnionFsTest, LinkCountsAcrossLayers) {
  Lower(0, "a", "x");
  Open();
  Node a = MustWalk("a");
  ASSERT_TRUE(fs_->Link(a, Root(), "b").ok());
  EXPECT_EQ(fs_->GetAttr(a)->nlink, 2u);
  EXPECT_EQ(MustWalk("b").handle, a.handle);
  ASSERT_TRUE(fs_->Remove(Root(), "a").ok());
  Open();
  EXPECT_EQ(fs_->GetAttr(a)->nlink, 1u);
  ASSERT_TRUE(fs_->Remove(Root(), "b").ok());
  EXPECT_TRUE(IsStale(fs_->Decode(a.handle).status()));
}

TEST_F(UnionFsTest, RenameOverExistingTargets) {
  Lower(0, "src", "S");
  Lower(1, "dst", "D");
  Lower(0, "dirA/x", "x");
  Lower(1, "dirB/y", "y");
  Open();
  Node dst = MustWalk("dst");
  ASSERT_TRUE(fs_->Rename(Root(), "src", Root(), "dst").ok());
  EXPECT_EQ(ReadAll(MustWalk("dst")), "S");
  EXPECT_TRUE(IsStale(fs_->Decode(dst.handle).status()));
  EXPECT_EQ(fs_->Rename(Root(), "dirA", Root(), "dirB").code(), ENOTEMPTY);
  ASSERT_TRUE(fs_->Remove(MustWalk("dirB"), "y").ok());
  ASSERT_TRUE(fs_->Rename(Root(), "dirA", Root(), "dirB").ok());
  EXPECT_EQ(Names(MustWalk("dirB")), std::vector<std::string>{"x"});
  EXPECT_EQ(fs_->Rename(Root(), "dirB", MustWalk("dirB"), "inside").code(), EINVAL);
  Open();
  EXPECT_EQ(Names(Root()), (std::vector<std::string>{"dirB", "dst"}));
}

TEST_F(UnionFsTest, NegativeControlVolatileDiesAtRestart) {
  Lower(0, "f", "x");
  UnionOptions o = Options();
  o.handle_mode = UnionOptions::HandleMode::kVolatile;
  Open(o);
  Node f = MustWalk("f");
  fs_->DropCaches();
  EXPECT_TRUE(fs_->Decode(f.handle).ok());
  Open(o);
  EXPECT_TRUE(IsStale(fs_->Decode(f.handle).status()));
}

TEST_F(UnionFsTest, NegativeControlNoIndexDiesAtEviction) {
  Lower(0, "f", "x");
  UnionOptions o = Options();
  o.use_index = false;
  Open(o);
  Node f = MustWalk("f");
  EXPECT_TRUE(fs_->Decode(f.handle).ok());
  fs_->DropCaches();
  EXPECT_TRUE(IsStale(fs_->Decode(f.handle).status()));
  EXPECT_TRUE(fs_->Decode(Root().handle).ok()) << "the root stays reachable for remounts";
}

// The planted bug handle-tag-unchecked (base/planted_bugs.h) must be a real mistake: a copied-up
// file's handle with its layer byte flipped to "upper" then reads the stale lower data. The same
// corruption is BADHANDLE on a correct server.
TEST_F(UnionFsTest, PlantedUncheckedTagReadsStaleLowerData) {
  Lower(0, "f", "old");
  UnionOptions o = Options();
  o.plants.Add(Plant::kHandleTagUnchecked);
  Open(o);
  Node h = MustWalk("f");
  ASSERT_TRUE(WriteAll(h, "new").ok());
  std::string m = h.handle;
  m[4] = static_cast<char>(0xFF);  // layer of the origin: lower 0 -> upper
  fs_->DropCaches();
  auto n = fs_->Decode(m);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(ReadAll(*n), "old") << "the plant no longer reaches the lower inode";
  Open();
  EXPECT_EQ(fs_->Decode(m).status().code(), kErrBadHandle);
}

// The planted bug lookup-ignores-index (base/planted_bugs.h) must be a real mistake: a lower hard
// link added while the server was down to a copied-up file shows the stale lower data, while the
// file's upper name shows the copy. A correct server shows the copy through both.
TEST_F(UnionFsTest, PlantedLookupIgnoringTheIndexShowsStaleLowerData) {
  Lower(0, "d/c", "old");
  Open();
  Node c = MustWalk("d/c");
  ASSERT_TRUE(WriteAll(c, "new").ok());
  fs_.reset();
  LowerLink(0, "d/c", "d/c2");  // offline
  UnionOptions o = Options();
  o.plants.Add(Plant::kLookupIgnoresIndex);
  Open(o);
  EXPECT_EQ(ReadAll(MustWalk("d/c")), "new");
  EXPECT_EQ(ReadAll(MustWalk("d/c2")), "old") << "the plant no longer skips the index";
  Open();
  EXPECT_EQ(ReadAll(MustWalk("d/c2")), "new");
}

TEST_F(UnionFsTest, PlantedUnlinkWithoutTombstoneLeavesTheRemovedFileReachable) {
  for (bool copied : {false, true}) {
    Lower(0, copied ? "d/c" : "d/l", "lower");
    UnionOptions o = Options();
    o.plants.Add(Plant::kUnlinkLeavesNoTombstone);
    Open(o);
    Node f = MustWalk(copied ? "d/c" : "d/l");
    if (copied) {
      ASSERT_TRUE(WriteAll(f, "copied").ok());
    }
    ASSERT_TRUE(fs_->Remove(MustWalk("d"), copied ? "c" : "l").ok());
    fs_->DropCaches();
    EXPECT_TRUE(fs_->Decode(f.handle).ok())
        << (copied ? "copied: " : "lower: ") << "the plant no longer skips the tombstone";
  }
}

// copy-up-records-no-origin: the upper name of the copy no longer leads to the held handle.
TEST_F(UnionFsTest, PlantedCopyUpWithoutOriginGivesTheCopyAnotherHandle) {
  for (bool planted : {false, true}) {
    SCOPED_TRACE(planted ? "planted" : "correct");
    const std::string f = Name(planted, "f");
    Lower(0, f, "old");
    OpenPlanted(planted, Plant::kCopyUpRecordsNoOrigin);
    const Node h = MustWalk(f);
    const uint64_t fileid = fs_->GetAttr(h)->fileid;
    ASSERT_TRUE(WriteAll(h, "new").ok());
    fs_->DropCaches();
    const Node again = MustWalk(f);
    EXPECT_EQ(again.handle != h.handle, planted) << "LOOKUP returns the held handle";
    EXPECT_EQ(fs_->GetAttr(again)->fileid != fileid, planted);
    EXPECT_EQ(ReadAll(*fs_->Decode(h.handle)), "new") << "the index still leads the handle there";
  }
}

// copy-up-drops-tail: the copy ends at the last whole 4 KiB block.
TEST_F(UnionFsTest, PlantedCopyUpDroppingTheTailShortensTheFile) {
  const std::string data(5000, 'x');
  for (bool planted : {false, true}) {
    SCOPED_TRACE(planted ? "planted" : "correct");
    const std::string f = Name(planted, "f");
    Lower(0, f, data);
    OpenPlanted(planted, Plant::kCopyUpDropsTail);
    const Node h = MustWalk(f);
    ASSERT_TRUE(WriteAll(h, "NEW").ok());
    const std::string want = "NEW" + data.substr(3);
    EXPECT_EQ(ReadAll(h), planted ? want.substr(0, 4096) : want);
    EXPECT_EQ(fs_->GetAttr(h)->size, planted ? 4096u : 5000u);
  }
}

// copy-up-nlink-from-upper: a file with one name counts its index entry as a second link.
TEST_F(UnionFsTest, PlantedNlinkFromTheUpperInodeCountsTheIndexEntry) {
  for (bool planted : {false, true}) {
    SCOPED_TRACE(planted ? "planted" : "correct");
    const std::string f = Name(planted, "f");
    Lower(0, f, "x");
    OpenPlanted(planted, Plant::kCopyUpNlinkFromUpper);
    const Node h = MustWalk(f);
    EXPECT_EQ(fs_->GetAttr(h)->nlink, 1u);
    ASSERT_TRUE(WriteAll(h, "y").ok());
    EXPECT_EQ(fs_->GetAttr(h)->nlink, planted ? 2u : 1u);
  }
}

// rename-skips-redirect: a renamed merge dir loses its lower entries, and a lower dir below it
// its handle.
TEST_F(UnionFsTest, PlantedRenameWithoutRedirectLosesTheLowerEntries) {
  for (bool planted : {false, true}) {
    SCOPED_TRACE(planted ? "planted" : "correct");
    const std::string d = Name(planted, "d");
    Lower(0, d + "/f", "f");
    LowerDir(1, d + "/sub");
    OpenPlanted(planted, Plant::kRenameSkipsRedirect);
    const Node sub = MustWalk(d + "/sub");
    ASSERT_TRUE(fs_->Rename(Root(), d, Root(), d + "2").ok());
    fs_->DropCaches();
    const std::vector<std::string> want =
        planted ? std::vector<std::string>{} : std::vector<std::string>{"f", "sub"};
    EXPECT_EQ(Names(MustWalk(d + "2")), want);
    EXPECT_EQ(IsStale(fs_->Decode(sub.handle).status()), planted);
  }
}

// remove-leaves-no-whiteout: one of two lower hard links, and a lower directory, come back.
TEST_F(UnionFsTest, PlantedRemoveWithoutWhiteoutBringsLowerNamesBack) {
  for (bool planted : {false, true}) {
    SCOPED_TRACE(planted ? "planted" : "correct");
    const std::string d = Name(planted, "d");
    Lower(0, d + "/a", "x");
    LowerLink(0, d + "/a", d + "/b");
    Lower(0, d + "/single", "x");
    LowerDir(1, d + "/sub");
    OpenPlanted(planted, Plant::kRemoveLeavesNoWhiteout);
    ASSERT_TRUE(fs_->Remove(MustWalk(d), "a").ok());
    ASSERT_TRUE(fs_->Remove(MustWalk(d), "single").ok());
    ASSERT_TRUE(fs_->RmDir(MustWalk(d), "sub").ok());
    // The last name of a file stays hidden by its tombstone either way.
    const std::vector<std::string> want =
        planted ? std::vector<std::string>{"a", "b", "sub"} : std::vector<std::string>{"b"};
    EXPECT_EQ(Names(MustWalk(d)), want);
  }
}

// remove-keeps-cached-handle: a removed lower file's handle reads it until an eviction.
TEST_F(UnionFsTest, PlantedRemoveKeepingTheCachedHandleStillReadsTheFile) {
  for (bool planted : {false, true}) {
    SCOPED_TRACE(planted ? "planted" : "correct");
    const std::string f = Name(planted, "f");
    Lower(0, f, "removed");
    OpenPlanted(planted, Plant::kRemoveKeepsCachedHandle);
    const Node h = MustWalk(f);
    ASSERT_TRUE(fs_->Remove(Root(), f).ok());
    auto r = fs_->Read(h, 0, 100);
    EXPECT_EQ(r.ok(), planted) << r.status().ToString();
    if (!planted) {
      EXPECT_TRUE(IsStale(r.status()));
    }
    fs_->DropCaches();
    EXPECT_TRUE(IsStale(fs_->Decode(h.handle).status()));
  }
}

// exclusive-verifier-not-persisted: the replay after a restart gets EXIST.
TEST_F(UnionFsTest, PlantedExclusiveCreateWithoutItsVerifierFailsTheReplay) {
  const std::array<uint8_t, 8> v{1, 2, 3, 4, 5, 6, 7, 8};
  for (bool planted : {false, true}) {
    SCOPED_TRACE(planted ? "planted" : "correct");
    const std::string f = Name(planted, "x");
    OpenPlanted(planted, Plant::kExclusiveVerifierNotPersisted);
    ASSERT_TRUE(fs_->Create(Root(), f, CreateMode::kExclusive, 0644, v, root_cred_).ok());
    OpenPlanted(planted, Plant::kExclusiveVerifierNotPersisted);
    auto replay = fs_->Create(Root(), f, CreateMode::kExclusive, 0644, v, root_cred_);
    EXPECT_EQ(replay.status().code(), planted ? EEXIST : 0) << replay.status().ToString();
  }
}

// readdir-cookie-is-position: removing an entry the client has listed shifts the rest, and the
// resumed listing skips one.
TEST_F(UnionFsTest, PlantedPositionalCookiesSkipAnEntryAfterARemoval) {
  for (bool planted : {false, true}) {
    SCOPED_TRACE(planted ? "planted" : "correct");
    const std::string d = Name(planted, "d");
    for (int i = 0; i < 9; ++i) Lower(i % 2, d + "/f" + std::to_string(i), "x");
    OpenPlanted(planted, Plant::kReaddirCookieIsPosition);
    const Node dir = MustWalk(d);
    auto first = fs_->ReadDir(dir, 0, 3, false);
    ASSERT_TRUE(first.ok() && first->entries.size() == 3u);
    std::vector<std::string> seen;
    for (const auto& e : first->entries) seen.push_back(e.name);
    ASSERT_TRUE(fs_->Remove(dir, seen[0]).ok());
    uint64_t cookie = first->entries.back().cookie;
    for (bool eof = false; !eof;) {
      auto page = fs_->ReadDir(dir, cookie, 3, false);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      for (const auto& e : page->entries) {
        seen.push_back(e.name);
        cookie = e.cookie;
      }
      eof = page->eof;
    }
    std::sort(seen.begin(), seen.end());
    EXPECT_TRUE(std::adjacent_find(seen.begin(), seen.end()) == seen.end()) << "duplicate entry";
    EXPECT_EQ(seen.size(), planted ? 8u : 9u) << "every entry there throughout is listed";
  }
}

TEST_F(UnionFsTest, RefusesMismatchedLayers) {
  Lower(0, "f", "x");
  Open();
  fs_.reset();
  UnionOptions o = Options();
  std::string other = tmp_.path() + "/other";
  mkdir(other.c_str(), 0755);
  o.lower_dirs = {other};
  auto u = UnionFs::Open(o);
  EXPECT_EQ(u.status().code(), ESTALE) << "an upper dir was accepted over another lower stack";
}

}  // namespace
}  // namespace ovl
