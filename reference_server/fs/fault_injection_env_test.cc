#include "fs/fault_injection_env.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/temp_dir_for_test.h"

namespace ovl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Mode = FaultInjectionEnv::Mode;

class FaultInjectionEnvTest : public ::testing::Test {
 protected:
  bool Exists(const std::string& name) { return DefaultFsEnv()->Stat(dir_.fd(), name).ok(); }

  TempDir dir_;
  FaultInjectionEnv env_{DefaultFsEnv()};
};

TEST_F(FaultInjectionEnvTest, PassesCallsThroughAndCountsOnlyMutatingOnes) {
  ASSERT_TRUE(env_.MkDir(dir_.fd(), "d", 0755).ok());
  EXPECT_EQ(env_.mutating_calls(), 1u);
  ASSERT_TRUE(env_.Stat(dir_.fd(), "d").ok());
  ASSERT_TRUE(env_.ReadDir(dir_.fd()).ok());
  ASSERT_TRUE(env_.GetXattr(dir_.fd(), "d", "user.nope").ok());
  ASSERT_TRUE(env_.StatFs(dir_.fd()).ok());
  EXPECT_EQ(env_.mutating_calls(), 1u);

  Result<Fd> f = env_.OpenBeneath(dir_.fd(), "d/f", O_RDWR | O_CREAT, 0644);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_TRUE(env_.PWrite(f->get(), "abc", 3, 0).ok());
  ASSERT_TRUE(env_.Fsync(f->get()).ok());
  EXPECT_EQ(env_.mutating_calls(), 4u);
  char buf[3];
  ASSERT_TRUE(env_.PRead(f->get(), buf, 3, 0).ok());
  EXPECT_EQ(std::string(buf, 3), "abc");
  EXPECT_EQ(env_.mutating_calls(), 4u);
  EXPECT_TRUE(Exists("d/f"));
}

TEST_F(FaultInjectionEnvTest, OpenCountsOnlyWhenItCanChangeTheDisk) {
  ASSERT_TRUE(env_.OpenBeneath(dir_.fd(), "f", O_WRONLY | O_CREAT, 0644).ok());
  EXPECT_EQ(env_.mutating_calls(), 1u);
  ASSERT_TRUE(env_.OpenBeneath(dir_.fd(), "f", O_RDWR).ok());
  ASSERT_TRUE(env_.OpenBeneath(dir_.fd(), "", O_RDONLY | O_DIRECTORY).ok());
  EXPECT_EQ(env_.mutating_calls(), 1u);
  ASSERT_TRUE(env_.OpenBeneath(dir_.fd(), "f", O_WRONLY | O_TRUNC).ok());
  EXPECT_EQ(env_.mutating_calls(), 2u);
  ASSERT_TRUE(env_.OpenBeneath(dir_.fd(), "", O_TMPFILE | O_RDWR, 0600).ok());
  EXPECT_EQ(env_.mutating_calls(), 3u);
}

TEST_F(FaultInjectionEnvTest, OnceFailsOnlyTheNthMutatingCall) {
  env_.FailAt(2, EIO, Mode::kOnce);
  EXPECT_TRUE(env_.MkDir(dir_.fd(), "a", 0755).ok());
  EXPECT_TRUE(env_.Stat(dir_.fd(), "a").ok());  // reads do not advance the count
  Status failed = env_.MkDir(dir_.fd(), "b", 0755);
  EXPECT_EQ(failed.code(), EIO);
  EXPECT_THAT(failed.message(), HasSubstr("MkDir(b)"));
  EXPECT_TRUE(env_.MkDir(dir_.fd(), "c", 0755).ok());
  EXPECT_FALSE(env_.crashed());
  EXPECT_EQ(env_.mutating_calls(), 3u);

  EXPECT_TRUE(Exists("a"));
  EXPECT_FALSE(Exists("b"));  // the failed call never reached the disk
  EXPECT_TRUE(Exists("c"));
}

TEST_F(FaultInjectionEnvTest, FailAtCountsFromArming) {
  ASSERT_TRUE(env_.MkDir(dir_.fd(), "setup1", 0755).ok());
  ASSERT_TRUE(env_.MkDir(dir_.fd(), "setup2", 0755).ok());
  env_.FailAt(1, ENOSPC, Mode::kOnce);
  EXPECT_EQ(env_.MkDir(dir_.fd(), "next", 0755).code(), ENOSPC);
  EXPECT_EQ(env_.mutating_calls(), 3u);

  env_.FailAt(0, ENOSPC, Mode::kOnce);  // 0 behaves as 1
  EXPECT_EQ(env_.MkDir(dir_.fd(), "next", 0755).code(), ENOSPC);
}

TEST_F(FaultInjectionEnvTest, CrashFailsEveryLaterCallUntilDisarm) {
  env_.FailAt(2, EIO, Mode::kCrash);
  ASSERT_TRUE(env_.MkDir(dir_.fd(), "a", 0755).ok());
  EXPECT_FALSE(env_.crashed());
  EXPECT_EQ(env_.Symlink("a", dir_.fd(), "l").code(), EIO);
  EXPECT_TRUE(env_.crashed());

  // Nothing gets through any more, reads included, so callers cannot clean up.
  EXPECT_EQ(env_.Stat(dir_.fd(), "a").status().code(), EIO);
  EXPECT_EQ(env_.OpenBeneath(dir_.fd(), "a", O_RDONLY).status().code(), EIO);
  EXPECT_EQ(env_.ReadDir(dir_.fd()).status().code(), EIO);
  EXPECT_EQ(env_.Unlink(dir_.fd(), "a", AT_REMOVEDIR).code(), EIO);
  EXPECT_EQ(env_.MkDir(dir_.fd(), "b", 0755).code(), EIO);
  EXPECT_EQ(env_.mutating_calls(), 2u);  // refused calls never happened
  EXPECT_TRUE(Exists("a"));
  EXPECT_FALSE(Exists("l"));
  EXPECT_FALSE(Exists("b"));

  // "Restart": the same env sees the disk as the crash left it.
  env_.Disarm();
  EXPECT_FALSE(env_.crashed());
  EXPECT_TRUE(env_.Stat(dir_.fd(), "a").ok());
  EXPECT_TRUE(env_.MkDir(dir_.fd(), "b", 0755).ok());
}

TEST_F(FaultInjectionEnvTest, DisarmCancelsAnArmedFault) {
  env_.FailAt(1, EIO, Mode::kCrash);
  env_.Disarm();
  EXPECT_TRUE(env_.MkDir(dir_.fd(), "a", 0755).ok());
  EXPECT_FALSE(env_.crashed());
}

TEST_F(FaultInjectionEnvTest, LogNamesCallsAndMarksFaults) {
  ASSERT_TRUE(env_.MkDir(dir_.fd(), "d", 0755).ok());
  ASSERT_TRUE(env_.Stat(dir_.fd(), "d").ok());
  env_.FailAt(2, EROFS, Mode::kCrash);
  ASSERT_TRUE(env_.SetTimes(dir_.fd(), "d", nullptr).ok());
  EXPECT_FALSE(env_.Rename(dir_.fd(), "d", dir_.fd(), "e", 0).ok());
  EXPECT_FALSE(env_.GetXattr(dir_.fd(), "d", "user.x").ok());
  EXPECT_THAT(env_.log(), ElementsAre("MkDir(d)", "Stat(d)", "SetTimes(d)",
                                      "Rename(d, e) [injected]", "GetXattr(d, user.x) [crashed]"));
}

// Every mutating call, by name, with a way to invoke it against `dir`.
std::vector<std::pair<std::string, std::function<Status(FsEnv&, int dir, int file)>>>
MutatingCalls() {
  const struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
  return {
      {"MkDir", [](FsEnv& e, int d, int) { return e.MkDir(d, "n", 0755); }},
      {"MkNod", [](FsEnv& e, int d, int) { return e.MkNod(d, "n", S_IFIFO | 0644, 0); }},
      {"Symlink", [](FsEnv& e, int d, int) { return e.Symlink("t", d, "n"); }},
      {"Link", [](FsEnv& e, int d, int) { return e.Link(d, "f", d, "n"); }},
      {"Rename", [](FsEnv& e, int d, int) { return e.Rename(d, "f", d, "n", 0); }},
      {"Unlink", [](FsEnv& e, int d, int) { return e.Unlink(d, "f", 0); }},
      {"PWrite", [](FsEnv& e, int, int f) { return e.PWrite(f, "x", 1, 0).status(); }},
      {"CopyData", [](FsEnv& e, int, int f) { return e.CopyData(f, f, 0); }},
      {"Truncate", [](FsEnv& e, int, int f) { return e.Truncate(f, 0); }},
      {"Fsync", [](FsEnv& e, int, int f) { return e.Fsync(f); }},
      {"Fdatasync", [](FsEnv& e, int, int f) { return e.Fdatasync(f); }},
      {"Chmod", [](FsEnv& e, int d, int) { return e.Chmod(d, "f", 0600); }},
      {"Chown", [](FsEnv& e, int d, int) { return e.Chown(d, "f", -1, -1); }},
      {"SetTimes", [now](FsEnv& e, int d, int) { return e.SetTimes(d, "f", now); }},
      {"SetXattr", [](FsEnv& e, int d, int) { return e.SetXattr(d, "f", "user.x", "v"); }},
      {"RemoveXattr", [](FsEnv& e, int d, int) { return e.RemoveXattr(d, "f", "user.x"); }},
      {"OpenBeneath", [](FsEnv& e, int d,
                         int) { return e.OpenBeneath(d, "n", O_WRONLY | O_CREAT, 0644).status(); }},
  };
}

TEST_F(FaultInjectionEnvTest, EveryMutatingCallCountsAndCanFail) {
  Result<Fd> file = DefaultFsEnv()->OpenBeneath(dir_.fd(), "f", O_RDWR | O_CREAT, 0644);
  ASSERT_TRUE(file.ok());
  for (const auto& [name, call] : MutatingCalls()) {
    SCOPED_TRACE(name);
    const uint64_t before = env_.mutating_calls();
    env_.FailAt(1, ENOSPC, Mode::kOnce);
    Status s = call(env_, dir_.fd(), file->get());
    EXPECT_EQ(s.code(), ENOSPC) << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr(name));
    EXPECT_EQ(env_.mutating_calls(), before + 1);
  }
  EXPECT_FALSE(Exists("n"));
  EXPECT_TRUE(Exists("f"));
}

TEST_F(FaultInjectionEnvTest, ConcurrentCallsAreCountedExactly) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100;
  env_.FailAt(150, ENOSPC, Mode::kOnce);
  std::atomic<int> failures = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string name = std::to_string(t) + "-" + std::to_string(i);
        if (!env_.MkDir(dir_.fd(), name, 0755).ok()) ++failures;
        EXPECT_TRUE(env_.Stat(dir_.fd(), "").ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(env_.mutating_calls(), uint64_t{kThreads * kPerThread});
  EXPECT_EQ(failures.load(), 1);
  EXPECT_EQ(env_.log().size(), size_t{2 * kThreads * kPerThread});
}

// Atomic replace by write-to-temp + fsync + rename: the kind of sequence the server's copy-up
// uses. A crash at any point must leave either the old content or the new one under "target".
Status AtomicReplace(FsEnv& env, int dirfd, const std::string& content) {
  OVL_ASSIGN_OR_RETURN(Fd tmp,
                       env.OpenBeneath(dirfd, "target.tmp", O_WRONLY | O_CREAT | O_TRUNC, 0644));
  OVL_RETURN_IF_ERROR(env.PWrite(tmp.get(), content.data(), content.size(), 0).status());
  OVL_RETURN_IF_ERROR(env.Fsync(tmp.get()));
  OVL_RETURN_IF_ERROR(env.Rename(dirfd, "target.tmp", dirfd, "target", 0));
  return env.Fsync(dirfd);
}

std::string ReadAll(int dirfd, const std::string& name) {
  Result<Fd> fd = DefaultFsEnv()->OpenBeneath(dirfd, name, O_RDONLY);
  if (!fd.ok()) return "<missing>";
  std::string buf(64, '\0');
  Result<size_t> n = DefaultFsEnv()->PRead(fd->get(), buf.data(), buf.size(), 0);
  if (!n.ok()) return "<error>";
  buf.resize(*n);
  return buf;
}

TEST_F(FaultInjectionEnvTest, CrashAtEveryPointOfAnAtomicReplace) {
  // A dry run learns how many mutating calls the operation makes.
  ASSERT_TRUE(AtomicReplace(env_, dir_.fd(), "old").ok());
  const uint64_t before = env_.mutating_calls();
  ASSERT_TRUE(AtomicReplace(env_, dir_.fd(), "old").ok());
  const uint64_t steps = env_.mutating_calls() - before;
  ASSERT_EQ(steps, 5u);

  for (uint64_t n = 1; n <= steps; ++n) {
    SCOPED_TRACE("crash at step " + std::to_string(n));
    env_.FailAt(n, EIO, Mode::kCrash);
    Status s = AtomicReplace(env_, dir_.fd(), "new");
    EXPECT_EQ(s.code(), EIO);
    EXPECT_TRUE(env_.crashed());
    const std::string content = ReadAll(dir_.fd(), "target");
    // Before the rename the old file is intact; from the rename on, the new one is in place.
    EXPECT_EQ(content, n <= 4 ? "old" : "new");
    env_.Disarm();
    ASSERT_TRUE(AtomicReplace(env_, dir_.fd(), "old").ok());
  }
}

// ---- Power-loss mode (fs/power_loss_env.h): what a cut takes back and what it keeps.

class PowerLossTest : public FaultInjectionEnvTest {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.StartPowerLossTracking(scratch_.fd()).ok()); }

  // Writes a file directly (not through the env): part of the state before tracking.
  void Put(const std::string& name, const std::string& content) {
    Result<Fd> fd =
        DefaultFsEnv()->OpenBeneath(dir_.fd(), name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_TRUE(fd.ok()) << fd.status().ToString();
    ASSERT_TRUE(DefaultFsEnv()->PWrite(fd->get(), content.data(), content.size(), 0).ok());
  }
  Fd Open(const std::string& name, int flags = O_RDWR) {
    Result<Fd> fd = env_.OpenBeneath(dir_.fd(), name, flags, 0644);
    EXPECT_TRUE(fd.ok()) << name << ": " << fd.status().ToString();
    return fd.ok() ? std::move(*fd) : Fd();
  }
  void Write(int fd, const std::string& content) {
    ASSERT_TRUE(env_.Truncate(fd, 0).ok());
    ASSERT_TRUE(env_.PWrite(fd, content.data(), content.size(), 0).ok());
  }
  ino_t Ino(const std::string& name) {
    Result<struct stat> st = DefaultFsEnv()->Stat(dir_.fd(), name);
    return st.ok() ? st->st_ino : 0;
  }
  std::optional<std::string> Xattr(const std::string& name, const std::string& attr) {
    auto v = DefaultFsEnv()->GetXattr(dir_.fd(), name, attr);
    return v.ok() ? *v : std::nullopt;
  }
  void Cut() {
    Status st = env_.PowerCut();
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_TRUE(env_.crashed());
    env_.Disarm();
  }

  TempDir scratch_;
};

TEST_F(PowerLossTest, UnsyncedFileDataIsDropped) {
  Put("f", "old");
  Fd f = Open("f");
  Write(f.get(), "new data");
  Cut();
  EXPECT_EQ(ReadAll(dir_.fd(), "f"), "old");
}

TEST_F(PowerLossTest, FileDataIsKeptAsOfItsLastSync) {
  Put("f", "old");
  Fd f = Open("f");
  Write(f.get(), "synced");
  ASSERT_TRUE(env_.Fsync(f.get()).ok());
  Write(f.get(), "later, unsynced");
  Cut();
  EXPECT_EQ(ReadAll(dir_.fd(), "f"), "synced");
}

TEST_F(PowerLossTest, FdatasyncKeepsTheBytesButNotTheXattrs) {
  Put("f", "old");
  Fd f = Open("f");
  Write(f.get(), "new");
  ASSERT_TRUE(env_.SetXattr(dir_.fd(), "f", "user.k", "v").ok());
  ASSERT_TRUE(env_.Fdatasync(f.get()).ok());
  Cut();
  EXPECT_EQ(ReadAll(dir_.fd(), "f"), "new");
  EXPECT_EQ(Xattr("f", "user.k"), std::nullopt);
}

TEST_F(PowerLossTest, XattrsAndModeAreKeptAsOfTheFilesFsync) {
  Put("f", "x");
  ASSERT_TRUE(env_.SetXattr(dir_.fd(), "f", "user.synced", "1").ok());
  Fd f = Open("f", O_RDONLY);
  ASSERT_TRUE(env_.Fsync(f.get()).ok());
  ASSERT_TRUE(env_.SetXattr(dir_.fd(), "f", "user.unsynced", "2").ok());
  ASSERT_TRUE(env_.RemoveXattr(dir_.fd(), "f", "user.synced").ok());
  ASSERT_TRUE(env_.Chmod(dir_.fd(), "f", 0600).ok());
  Cut();
  EXPECT_EQ(Xattr("f", "user.synced"), "1");
  EXPECT_EQ(Xattr("f", "user.unsynced"), std::nullopt);
  EXPECT_EQ(DefaultFsEnv()->Stat(dir_.fd(), "f")->st_mode & 07777, 0644u);
}

TEST_F(PowerLossTest, UnsyncedNewEntriesVanish) {
  ASSERT_TRUE(env_.MkDir(dir_.fd(), "d", 0755).ok());
  Fd f = Open("n", O_WRONLY | O_CREAT);
  ASSERT_TRUE(env_.Symlink("t", dir_.fd(), "l").ok());
  ASSERT_TRUE(env_.Fsync(f.get()).ok());  // the file's own fsync does not make its name durable
  Cut();
  EXPECT_FALSE(Exists("d"));
  EXPECT_FALSE(Exists("n"));
  EXPECT_FALSE(Exists("l"));
}

TEST_F(PowerLossTest, EntriesSyncedByTheirDirectoryStay) {
  ASSERT_TRUE(env_.MkDir(dir_.fd(), "d", 0755).ok());
  Fd f = Open("n", O_WRONLY | O_CREAT);
  Write(f.get(), "never synced");
  ASSERT_TRUE(env_.Fsync(dir_.fd()).ok());
  ASSERT_TRUE(env_.MkDir(dir_.fd(), "after", 0755).ok());
  Cut();
  EXPECT_TRUE(Exists("d"));
  EXPECT_EQ(ReadAll(dir_.fd(), "n"), "");  // its name is durable, its bytes are not
  EXPECT_FALSE(Exists("after"));
}

TEST_F(PowerLossTest, UnsyncedRemovalsAreUndoneWithTheSameInode) {
  Put("f", "content");
  ASSERT_TRUE(env_.MkDir(dir_.fd(), "d", 0755).ok());
  ASSERT_TRUE(env_.Fsync(dir_.fd()).ok());
  const ino_t f_ino = Ino("f"), d_ino = Ino("d");
  ASSERT_TRUE(env_.Unlink(dir_.fd(), "f", 0).ok());
  ASSERT_TRUE(env_.Unlink(dir_.fd(), "d", AT_REMOVEDIR).ok());
  EXPECT_FALSE(Exists("f"));
  EXPECT_FALSE(Exists("d"));
  Cut();
  EXPECT_EQ(ReadAll(dir_.fd(), "f"), "content");
  EXPECT_EQ(Ino("f"), f_ino);
  EXPECT_EQ(Ino("d"), d_ino);
}

TEST_F(PowerLossTest, SyncedRemovalsStay) {
  Put("f", "content");
  ASSERT_TRUE(env_.Unlink(dir_.fd(), "f", 0).ok());
  ASSERT_TRUE(env_.Fsync(dir_.fd()).ok());
  Cut();
  EXPECT_FALSE(Exists("f"));
}

TEST_F(PowerLossTest, UnsyncedRenameIsRevertedWhole) {
  Put("a", "A");
  Put("b", "B");
  const ino_t b_ino = Ino("b");
  ASSERT_TRUE(env_.Rename(dir_.fd(), "a", dir_.fd(), "b", 0).ok());  // replaces b
  ASSERT_TRUE(env_.Rename(dir_.fd(), "b", dir_.fd(), "c", 0).ok());
  Cut();
  EXPECT_EQ(ReadAll(dir_.fd(), "a"), "A");
  EXPECT_EQ(ReadAll(dir_.fd(), "b"), "B");
  EXPECT_EQ(Ino("b"), b_ino);
  EXPECT_FALSE(Exists("c"));
}

TEST_F(PowerLossTest, ARenameIsDurableWithEitherDirectorysSync) {
  ASSERT_TRUE(DefaultFsEnv()->MkDir(dir_.fd(), "from", 0755).ok());
  ASSERT_TRUE(DefaultFsEnv()->MkDir(dir_.fd(), "to", 0755).ok());
  Fd from = Open("from", O_RDONLY | O_DIRECTORY);
  Fd to = Open("to", O_RDONLY | O_DIRECTORY);
  for (int synced : {from.get(), to.get()}) {
    SCOPED_TRACE(synced == from.get() ? "source synced" : "target synced");
    ASSERT_TRUE(env_.StartPowerLossTracking(scratch_.fd()).ok());
    Put("from/f", "F");
    ASSERT_TRUE(env_.Rename(from.get(), "f", to.get(), "g", RENAME_WHITEOUT).ok());
    ASSERT_TRUE(env_.Fsync(synced).ok());  // one directory's sync carries the whole rename
    Cut();
    EXPECT_EQ(ReadAll(dir_.fd(), "to/g"), "F");
    Result<struct stat> whiteout = DefaultFsEnv()->Stat(dir_.fd(), "from/f");
    ASSERT_TRUE(whiteout.ok());
    EXPECT_TRUE(S_ISCHR(whiteout->st_mode));
    ASSERT_TRUE(DefaultFsEnv()->Unlink(from.get(), "f", 0).ok());
    ASSERT_TRUE(DefaultFsEnv()->Unlink(to.get(), "g", 0).ok());
  }
}

TEST_F(PowerLossTest, AnExchangeIsRevertedOrKeptWhole) {
  for (bool sync : {false, true}) {
    SCOPED_TRACE(sync ? "synced" : "not synced");
    ASSERT_TRUE(env_.StartPowerLossTracking(scratch_.fd()).ok());
    Put("x", "X");
    ASSERT_TRUE(DefaultFsEnv()->MkDir(dir_.fd(), "y", 0755).ok());
    ASSERT_TRUE(env_.Rename(dir_.fd(), "x", dir_.fd(), "y", RENAME_EXCHANGE).ok());
    if (sync) {
      ASSERT_TRUE(env_.Fsync(dir_.fd()).ok());
    }
    Cut();
    EXPECT_EQ(ReadAll(dir_.fd(), sync ? "y" : "x"), "X");
    Result<struct stat> d = DefaultFsEnv()->Stat(dir_.fd(), sync ? "x" : "y");
    ASSERT_TRUE(d.ok());
    EXPECT_TRUE(S_ISDIR(d->st_mode));
    ASSERT_TRUE(DefaultFsEnv()->Unlink(dir_.fd(), sync ? "x" : "y", AT_REMOVEDIR).ok());
    ASSERT_TRUE(DefaultFsEnv()->Unlink(dir_.fd(), sync ? "y" : "x", 0).ok());
  }
}

TEST_F(PowerLossTest, ASymlinksXattrIsDurableWithTheDirectoryNamingIt) {
  ASSERT_TRUE(env_.Symlink("t", dir_.fd(), "l").ok());
  ASSERT_TRUE(env_.SetXattr(dir_.fd(), "l", "trusted.k", "v").ok());
  ASSERT_TRUE(env_.Symlink("t", dir_.fd(), "unsynced").ok());
  ASSERT_TRUE(env_.Fsync(dir_.fd()).ok());
  ASSERT_TRUE(env_.SetXattr(dir_.fd(), "unsynced", "trusted.k", "v").ok());
  ASSERT_TRUE(env_.SetXattr(dir_.fd(), "l", "trusted.after", "v").ok());
  Cut();
  EXPECT_EQ(Xattr("l", "trusted.k"), "v");
  EXPECT_EQ(Xattr("l", "trusted.after"), std::nullopt);
  EXPECT_EQ(Xattr("unsynced", "trusted.k"), std::nullopt);
}

TEST_F(PowerLossTest, ArmedFaultCutsThePowerAndLogsIt) {
  Put("f", "old");
  Fd f = Open("f");
  Write(f.get(), "new");
  env_.FailAt(1, EIO, Mode::kPowerLoss);
  EXPECT_EQ(env_.Fsync(f.get()).code(), EIO);
  EXPECT_TRUE(env_.crashed());
  EXPECT_EQ(env_.Stat(dir_.fd(), "f").status().code(), EIO);
  EXPECT_EQ(ReadAll(dir_.fd(), "f"), "old");
  const std::vector<std::string> log = env_.log();
  EXPECT_THAT(std::vector<std::string>(log.end() - 3, log.end()),
              ElementsAre("Fsync() [injected]", "PowerCut()", "Stat(f) [crashed]"));
}

TEST_F(PowerLossTest, CutWithoutTrackingIsAnError) {
  Cut();
  EXPECT_EQ(env_.PowerCut().code(), EINVAL);
}

// The atomic replace above, with power cuts: until the directory's fsync the rename is not
// durable, so a cut at any of the five calls leaves the old content; once done, the new one.
TEST_F(PowerLossTest, PowerCutAtEveryPointOfAnAtomicReplace) {
  ASSERT_TRUE(AtomicReplace(env_, dir_.fd(), "old").ok());
  for (uint64_t n = 1; n <= 6; ++n) {
    SCOPED_TRACE("power cut at step " + std::to_string(n));
    ASSERT_TRUE(env_.StartPowerLossTracking(scratch_.fd()).ok());
    env_.FailAt(n, EIO, Mode::kPowerLoss);
    Status s = AtomicReplace(env_, dir_.fd(), "new");
    if (n <= 5) {
      EXPECT_EQ(s.code(), EIO);
    } else {
      ASSERT_TRUE(s.ok());
      ASSERT_TRUE(env_.PowerCut().ok());
    }
    EXPECT_EQ(ReadAll(dir_.fd(), "target"), n <= 5 ? "old" : "new");
    EXPECT_FALSE(Exists("target.tmp"));
    env_.Disarm();
    ASSERT_TRUE(AtomicReplace(env_, dir_.fd(), "old").ok());
  }
}

}  // namespace
}  // namespace ovl
