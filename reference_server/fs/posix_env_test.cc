#include <dirent.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <string>
#include <vector>

#include "fs/fs_env.h"
#include "base/temp_dir_for_test.h"

namespace ovl {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

class PosixEnvTest : public ::testing::Test {
 protected:
  // Creates (or replaces) dir/name holding `content`.
  void WriteFile(int dirfd, const std::string& name, const std::string& content) {
    Result<Fd> fd = env_->OpenBeneath(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_TRUE(fd.ok()) << fd.status().ToString();
    Result<size_t> n = env_->PWrite(fd->get(), content.data(), content.size(), 0);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    ASSERT_EQ(*n, content.size());
  }

  // Whole content of dir/name; "<error>" when it cannot be read.
  std::string ReadFile(int dirfd, const std::string& name) {
    Result<Fd> fd = env_->OpenBeneath(dirfd, name, O_RDONLY);
    if (!fd.ok()) return "<error>";
    Result<struct stat> st = env_->Stat(fd->get(), "");
    if (!st.ok()) return "<error>";
    std::string buf(static_cast<size_t>(st->st_size), '\0');
    Result<size_t> n = env_->PRead(fd->get(), buf.data(), buf.size(), 0);
    if (!n.ok()) return "<error>";
    buf.resize(*n);
    return buf;
  }

  static bool IsRoot() { return geteuid() == 0; }

  FsEnv* env_ = DefaultFsEnv();
  TempDir dir_;
};

TEST_F(PosixEnvTest, OpenBeneathCreatesAndOpensNestedPaths) {
  ASSERT_TRUE(env_->MkDir(dir_.fd(), "a", 0755).ok());
  Result<Fd> a = env_->OpenBeneath(dir_.fd(), "a", O_RDONLY | O_DIRECTORY);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(env_->MkDir(a->get(), "b", 0755).ok());
  WriteFile(dir_.fd(), "a/b/f", "hello");
  EXPECT_EQ(ReadFile(dir_.fd(), "a/b/f"), "hello");

  Result<struct stat> st = env_->Stat(dir_.fd(), "a");
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(S_ISDIR(st->st_mode));
}

TEST_F(PosixEnvTest, OpenBeneathEmptyAndDotOpenDirItself) {
  Result<struct stat> self = env_->Stat(dir_.fd(), "");
  ASSERT_TRUE(self.ok());
  for (const char* path : {"", "."}) {
    Result<Fd> fd = env_->OpenBeneath(dir_.fd(), path, O_RDONLY | O_DIRECTORY);
    ASSERT_TRUE(fd.ok()) << "'" << path << "': " << fd.status().ToString();
    Result<struct stat> st = env_->Stat(fd->get(), "");
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->st_ino, self->st_ino);
    EXPECT_EQ(st->st_dev, self->st_dev);
  }
}

TEST_F(PosixEnvTest, OpenBeneathRefusesEscapes) {
  ASSERT_TRUE(env_->MkDir(dir_.fd(), "a", 0755).ok());
  for (const char* path : {"../x", "a/../../x", "/etc/passwd", "/"}) {
    Result<Fd> fd = env_->OpenBeneath(dir_.fd(), path, O_RDONLY);
    EXPECT_FALSE(fd.ok()) << path;
    EXPECT_EQ(fd.status().code(), EXDEV) << path << ": " << fd.status().ToString();
  }
}

TEST_F(PosixEnvTest, OpenBeneathRefusesSymlinkComponents) {
  ASSERT_TRUE(env_->MkDir(dir_.fd(), "real", 0755).ok());
  WriteFile(dir_.fd(), "real/f", "x");
  ASSERT_TRUE(env_->Symlink("real", dir_.fd(), "dirlink").ok());
  ASSERT_TRUE(env_->Symlink("real/f", dir_.fd(), "filelink").ok());

  Result<Fd> through = env_->OpenBeneath(dir_.fd(), "dirlink/f", O_RDONLY);
  EXPECT_EQ(through.status().code(), ELOOP) << through.status().ToString();
  Result<Fd> trailing = env_->OpenBeneath(dir_.fd(), "filelink", O_RDONLY);
  EXPECT_EQ(trailing.status().code(), ELOOP) << trailing.status().ToString();
  Result<Fd> magic = env_->OpenBeneath(dir_.fd(), "/proc/self/fd/0", O_RDONLY);
  EXPECT_FALSE(magic.ok());

  // O_PATH | O_NOFOLLOW is the one way to get at the symlink itself.
  Result<Fd> link = env_->OpenBeneath(dir_.fd(), "filelink", O_PATH | O_NOFOLLOW);
  ASSERT_TRUE(link.ok()) << link.status().ToString();
  Result<struct stat> st = env_->Stat(link->get(), "");
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(S_ISLNK(st->st_mode));
}

TEST_F(PosixEnvTest, OpenBeneathAlwaysSetsCloexec) {
  Result<Fd> fd = env_->OpenBeneath(dir_.fd(), "f", O_RDWR | O_CREAT, 0600);
  ASSERT_TRUE(fd.ok()) << fd.status().ToString();
  EXPECT_NE(fcntl(fd->get(), F_GETFD) & FD_CLOEXEC, 0);
  Result<Fd> dir = env_->OpenBeneath(dir_.fd(), "", O_PATH);
  ASSERT_TRUE(dir.ok());
  EXPECT_NE(fcntl(dir->get(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST_F(PosixEnvTest, HandleRoundTrip) {
  if (!IsRoot()) GTEST_SKIP() << "open_by_handle_at needs CAP_DAC_READ_SEARCH";
  WriteFile(dir_.fd(), "f", "data");
  Result<RealFh> by_name = env_->NameToHandle(dir_.fd(), "f");
  ASSERT_TRUE(by_name.ok()) << by_name.status().ToString();
  EXPECT_FALSE(by_name->bytes.empty());

  {
    Result<Fd> f = env_->OpenBeneath(dir_.fd(), "f", O_PATH);
    ASSERT_TRUE(f.ok());
    Result<RealFh> by_fd = env_->NameToHandle(f->get(), "");
    ASSERT_TRUE(by_fd.ok()) << by_fd.status().ToString();
    EXPECT_EQ(*by_fd, *by_name);

    Result<Fd> opened = env_->OpenByHandle(dir_.fd(), *by_name, O_RDONLY);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_NE(fcntl(opened->get(), F_GETFD) & FD_CLOEXEC, 0);
    Result<struct stat> a = env_->Stat(opened->get(), "");
    Result<struct stat> b = env_->Stat(f->get(), "");
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->st_ino, b->st_ino);
    std::string buf(4, '\0');
    Result<size_t> n = env_->PRead(opened->get(), buf.data(), buf.size(), 0);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(buf, "data");
  }

  // Once the inode is gone the handle is stale.
  ASSERT_TRUE(env_->Unlink(dir_.fd(), "f", 0).ok());
  Result<Fd> stale = env_->OpenByHandle(dir_.fd(), *by_name, O_RDONLY);
  EXPECT_EQ(stale.status().code(), ESTALE) << stale.status().ToString();
}

TEST_F(PosixEnvTest, HandleOfDirectoryAndSymlink) {
  if (!IsRoot()) GTEST_SKIP() << "open_by_handle_at needs CAP_DAC_READ_SEARCH";
  ASSERT_TRUE(env_->MkDir(dir_.fd(), "d", 0755).ok());
  ASSERT_TRUE(env_->Symlink("d", dir_.fd(), "l").ok());
  Result<RealFh> dh = env_->NameToHandle(dir_.fd(), "d");
  Result<RealFh> lh = env_->NameToHandle(dir_.fd(), "l");
  ASSERT_TRUE(dh.ok() && lh.ok());
  EXPECT_NE(*dh, *lh);  // the symlink itself, not its target

  Result<Fd> link = env_->OpenByHandle(dir_.fd(), *lh, O_PATH);
  ASSERT_TRUE(link.ok()) << link.status().ToString();
  Result<std::string> target = env_->ReadLink(link->get(), "");
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  EXPECT_EQ(*target, "d");
}

TEST_F(PosixEnvTest, OpenByHandleRejectsOversizedHandle) {
  RealFh fh;
  fh.type = 1;
  fh.bytes.assign(MAX_HANDLE_SZ + 1, 'x');
  EXPECT_EQ(env_->OpenByHandle(dir_.fd(), fh, O_RDONLY).status().code(), EINVAL);
}

TEST_F(PosixEnvTest, WhiteoutIsZeroZeroCharDevice) {
  if (!IsRoot()) GTEST_SKIP() << "mknod of a device needs CAP_MKNOD";
  Status s = env_->MkNod(dir_.fd(), "wh", S_IFCHR | 0, makedev(0, 0));
  ASSERT_TRUE(s.ok()) << s.ToString();
  Result<struct stat> st = env_->Stat(dir_.fd(), "wh");
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(S_ISCHR(st->st_mode));
  EXPECT_EQ(st->st_rdev, makedev(0, 0));
  Result<std::vector<DirEntry>> entries = env_->ReadDir(dir_.fd());
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].name, "wh");
  EXPECT_EQ((*entries)[0].type, DT_CHR);
}

TEST_F(PosixEnvTest, XattrsOnFileDirAndSymlink) {
  if (!IsRoot()) GTEST_SKIP() << "trusted.* xattrs need CAP_SYS_ADMIN";
  WriteFile(dir_.fd(), "f", "x");
  ASSERT_TRUE(env_->MkDir(dir_.fd(), "d", 0755).ok());
  ASSERT_TRUE(env_->Symlink("f", dir_.fd(), "l").ok());
  const std::string attr = "trusted.overlay.test";

  for (const char* name : {"f", "d", "l"}) {
    SCOPED_TRACE(name);
    Result<std::optional<std::string>> missing = env_->GetXattr(dir_.fd(), name, attr);
    ASSERT_TRUE(missing.ok()) << missing.status().ToString();
    EXPECT_FALSE(missing->has_value());

    const std::string value = std::string("v-") + name + std::string(1, '\0') + "tail";
    Status set = env_->SetXattr(dir_.fd(), name, attr, value);
    ASSERT_TRUE(set.ok()) << set.ToString();
    Result<std::optional<std::string>> got = env_->GetXattr(dir_.fd(), name, attr);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ(**got, value);
    Result<std::vector<std::string>> names = env_->ListXattr(dir_.fd(), name);
    ASSERT_TRUE(names.ok()) << names.status().ToString();
    EXPECT_THAT(*names, Contains(attr));
  }

  // Setting on the symlink did not touch its target: "f" still holds its own value.
  Result<std::optional<std::string>> f = env_->GetXattr(dir_.fd(), "f", attr);
  ASSERT_TRUE(f.ok() && f->has_value());
  EXPECT_EQ(**f, std::string("v-f") + std::string(1, '\0') + "tail");

  for (const char* name : {"f", "d", "l"}) {
    SCOPED_TRACE(name);
    Status removed = env_->RemoveXattr(dir_.fd(), name, attr);
    ASSERT_TRUE(removed.ok()) << removed.ToString();
    Result<std::optional<std::string>> gone = env_->GetXattr(dir_.fd(), name, attr);
    ASSERT_TRUE(gone.ok());
    EXPECT_FALSE(gone->has_value());
    EXPECT_EQ(env_->RemoveXattr(dir_.fd(), name, attr).code(), ENODATA);
  }
}

TEST_F(PosixEnvTest, XattrsThroughOPathFdWithEmptyName) {
  if (!IsRoot()) GTEST_SKIP() << "trusted.* xattrs need CAP_SYS_ADMIN";
  ASSERT_TRUE(env_->MkDir(dir_.fd(), "d", 0755).ok());
  ASSERT_TRUE(env_->Symlink("d", dir_.fd(), "l").ok());
  const std::string attr = "trusted.overlay.opaque";

  // An O_PATH fd of the symlink addresses the symlink, not the directory it points to.
  Result<Fd> link = env_->OpenBeneath(dir_.fd(), "l", O_PATH | O_NOFOLLOW);
  ASSERT_TRUE(link.ok());
  ASSERT_TRUE(env_->SetXattr(link->get(), "", attr, "y").ok());
  Result<std::optional<std::string>> on_link = env_->GetXattr(dir_.fd(), "l", attr);
  ASSERT_TRUE(on_link.ok() && on_link->has_value());
  EXPECT_EQ(**on_link, "y");
  Result<std::optional<std::string>> on_dir = env_->GetXattr(dir_.fd(), "d", attr);
  ASSERT_TRUE(on_dir.ok());
  EXPECT_FALSE(on_dir->has_value());

  // A named entry under an O_PATH parent works too.
  Result<Fd> parent = env_->OpenBeneath(dir_.fd(), "", O_PATH);
  ASSERT_TRUE(parent.ok());
  Result<std::optional<std::string>> via_parent = env_->GetXattr(parent->get(), "l", attr);
  ASSERT_TRUE(via_parent.ok() && via_parent->has_value()) << via_parent.status().ToString();
  EXPECT_EQ(**via_parent, "y");

  Result<Fd> d = env_->OpenBeneath(dir_.fd(), "d", O_PATH | O_DIRECTORY);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(env_->SetXattr(d->get(), "", attr, "z").ok());
  Result<std::optional<std::string>> got = env_->GetXattr(d->get(), "", attr);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, "z");
  Result<std::vector<std::string>> names = env_->ListXattr(d->get(), "");
  ASSERT_TRUE(names.ok());
  EXPECT_THAT(*names, Contains(attr));
  ASSERT_TRUE(env_->RemoveXattr(d->get(), "", attr).ok());
  Result<std::optional<std::string>> gone = env_->GetXattr(dir_.fd(), "d", attr);
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
}

TEST_F(PosixEnvTest, XattrOfMissingEntryIsAnError) {
  Result<std::optional<std::string>> got = env_->GetXattr(dir_.fd(), "nope", "user.x");
  EXPECT_EQ(got.status().code(), ENOENT);
  EXPECT_THAT(got.status().message(), HasSubstr("nope"));
}

TEST_F(PosixEnvTest, RenameFlags) {
  WriteFile(dir_.fd(), "a", "A");
  WriteFile(dir_.fd(), "b", "B");

  Status noreplace = env_->Rename(dir_.fd(), "a", dir_.fd(), "b", RENAME_NOREPLACE);
  EXPECT_EQ(noreplace.code(), EEXIST) << noreplace.ToString();
  EXPECT_EQ(ReadFile(dir_.fd(), "a"), "A");
  EXPECT_EQ(ReadFile(dir_.fd(), "b"), "B");

  Status exchange = env_->Rename(dir_.fd(), "a", dir_.fd(), "b", RENAME_EXCHANGE);
  ASSERT_TRUE(exchange.ok()) << exchange.ToString();
  EXPECT_EQ(ReadFile(dir_.fd(), "a"), "B");
  EXPECT_EQ(ReadFile(dir_.fd(), "b"), "A");

  ASSERT_TRUE(env_->Rename(dir_.fd(), "a", dir_.fd(), "c", RENAME_NOREPLACE).ok());
  ASSERT_TRUE(env_->Rename(dir_.fd(), "c", dir_.fd(), "b", 0).ok());
  EXPECT_EQ(ReadFile(dir_.fd(), "b"), "B");
  EXPECT_EQ(env_->Stat(dir_.fd(), "a").status().code(), ENOENT);
  EXPECT_EQ(env_->Stat(dir_.fd(), "c").status().code(), ENOENT);
}

TEST_F(PosixEnvTest, RenameWhiteoutLeavesWhiteout) {
  if (!IsRoot()) GTEST_SKIP() << "RENAME_WHITEOUT needs CAP_MKNOD";
  WriteFile(dir_.fd(), "a", "A");
  Status s = env_->Rename(dir_.fd(), "a", dir_.fd(), "b", RENAME_WHITEOUT);
  ASSERT_TRUE(s.ok()) << s.ToString();
  Result<struct stat> st = env_->Stat(dir_.fd(), "a");
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(S_ISCHR(st->st_mode));
  EXPECT_EQ(st->st_rdev, makedev(0, 0));
  EXPECT_EQ(ReadFile(dir_.fd(), "b"), "A");
}

// A 3 MiB pattern that differs in every 4 KiB block, so misplaced blocks are caught.
std::string Pattern(size_t size) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>((i * 7 + i / 4096) & 0xff);
  return data;
}

TEST_F(PosixEnvTest, CopyDataCopiesThreeMiB) {
  const std::string data = Pattern(3 << 20);
  WriteFile(dir_.fd(), "src", data);
  Result<Fd> src = env_->OpenBeneath(dir_.fd(), "src", O_RDONLY);
  Result<Fd> dst = env_->OpenBeneath(dir_.fd(), "dst", O_WRONLY | O_CREAT | O_EXCL, 0644);
  ASSERT_TRUE(src.ok() && dst.ok());
  Status s = env_->CopyData(src->get(), dst->get(), data.size());
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(ReadFile(dir_.fd(), "dst") == data);
  // Offsets are explicit: the fds' own positions are untouched.
  EXPECT_EQ(lseek(src->get(), 0, SEEK_CUR), 0);
  EXPECT_EQ(lseek(dst->get(), 0, SEEK_CUR), 0);
}

TEST_F(PosixEnvTest, CopyDataAcrossFilesystems) {
  // A memfd lives on the internal shmem mount, so copy_file_range from /tmp crosses
  // filesystems (EXDEV since 5.19) and the read/write fallback does the work.
  const std::string data = Pattern((3 << 20) + 123);
  WriteFile(dir_.fd(), "src", data);
  Result<Fd> src = env_->OpenBeneath(dir_.fd(), "src", O_RDONLY);
  ASSERT_TRUE(src.ok());
  Fd mem(memfd_create("ovl_copy", MFD_CLOEXEC));
  ASSERT_TRUE(mem.valid());
  Status s = env_->CopyData(src->get(), mem.get(), data.size());
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::string back(data.size(), '\0');
  Result<size_t> n = env_->PRead(mem.get(), back.data(), back.size(), 0);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, data.size());
  EXPECT_TRUE(back == data);
}

TEST_F(PosixEnvTest, CopyDataFromShortSourceFails) {
  WriteFile(dir_.fd(), "src", "short");
  Result<Fd> src = env_->OpenBeneath(dir_.fd(), "src", O_RDONLY);
  Result<Fd> dst = env_->OpenBeneath(dir_.fd(), "dst", O_WRONLY | O_CREAT, 0644);
  ASSERT_TRUE(src.ok() && dst.ok());
  Status s = env_->CopyData(src->get(), dst->get(), 100);
  EXPECT_EQ(s.code(), EIO) << s.ToString();
}

TEST_F(PosixEnvTest, LinkWithEmptyOldNameLinksTheFdItself) {
  if (!IsRoot()) GTEST_SKIP() << "linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH";
  // The O_TMPFILE + link pattern: build an anonymous file, then give it a name.
  Result<Fd> tmp = env_->OpenBeneath(dir_.fd(), "", O_TMPFILE | O_RDWR, 0640);
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString();
  Result<size_t> n = env_->PWrite(tmp->get(), "anon", 4, 0);
  ASSERT_TRUE(n.ok());
  Status s = env_->Link(tmp->get(), "", dir_.fd(), "named");
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(ReadFile(dir_.fd(), "named"), "anon");

  // And a second name for a file that already has one.
  Result<Fd> named = env_->OpenBeneath(dir_.fd(), "named", O_PATH);
  ASSERT_TRUE(named.ok());
  ASSERT_TRUE(env_->Link(named->get(), "", dir_.fd(), "again").ok());
  Result<struct stat> st = env_->Stat(dir_.fd(), "again");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->st_nlink, 2u);
  EXPECT_EQ(env_->Link(named->get(), "", dir_.fd(), "again").code(), EEXIST);
}

TEST_F(PosixEnvTest, LinkByName) {
  WriteFile(dir_.fd(), "f", "x");
  ASSERT_TRUE(env_->Link(dir_.fd(), "f", dir_.fd(), "g").ok());
  Result<struct stat> f = env_->Stat(dir_.fd(), "f");
  Result<struct stat> g = env_->Stat(dir_.fd(), "g");
  ASSERT_TRUE(f.ok() && g.ok());
  EXPECT_EQ(f->st_ino, g->st_ino);
  EXPECT_EQ(g->st_nlink, 2u);
}

TEST_F(PosixEnvTest, ChmodRefusesSymlinkAndWorksOnFilesAndFds) {
  WriteFile(dir_.fd(), "f", "x");
  ASSERT_TRUE(env_->Symlink("f", dir_.fd(), "l").ok());

  EXPECT_EQ(env_->Chmod(dir_.fd(), "l", 0600).code(), EOPNOTSUPP);
  Result<Fd> link = env_->OpenBeneath(dir_.fd(), "l", O_PATH | O_NOFOLLOW);
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(env_->Chmod(link->get(), "", 0600).code(), EOPNOTSUPP);

  ASSERT_TRUE(env_->Chmod(dir_.fd(), "f", 0604).ok());
  Result<struct stat> st = env_->Stat(dir_.fd(), "f");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->st_mode & 07777, 0604u);

  Result<Fd> f = env_->OpenBeneath(dir_.fd(), "f", O_PATH);
  ASSERT_TRUE(f.ok());
  Status s = env_->Chmod(f->get(), "", 04750);
  ASSERT_TRUE(s.ok()) << s.ToString();
  st = env_->Stat(dir_.fd(), "f");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->st_mode & 07777, 04750u);

  EXPECT_EQ(env_->Chmod(dir_.fd(), "missing", 0600).code(), ENOENT);
}

TEST_F(PosixEnvTest, ChownDoesNotFollowSymlinks) {
  if (!IsRoot()) GTEST_SKIP() << "chown to another user needs CAP_CHOWN";
  WriteFile(dir_.fd(), "f", "x");
  ASSERT_TRUE(env_->Symlink("f", dir_.fd(), "l").ok());
  ASSERT_TRUE(env_->Chown(dir_.fd(), "l", 1234, 5678).ok());
  Result<struct stat> l = env_->Stat(dir_.fd(), "l");
  Result<struct stat> f = env_->Stat(dir_.fd(), "f");
  ASSERT_TRUE(l.ok() && f.ok());
  EXPECT_EQ(l->st_uid, 1234u);
  EXPECT_EQ(l->st_gid, 5678u);
  EXPECT_EQ(f->st_uid, 0u);

  Result<Fd> fd = env_->OpenBeneath(dir_.fd(), "f", O_PATH);
  ASSERT_TRUE(fd.ok());
  ASSERT_TRUE(env_->Chown(fd->get(), "", 42, 43).ok());
  f = env_->Stat(dir_.fd(), "f");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->st_uid, 42u);
  EXPECT_EQ(f->st_gid, 43u);
}

TEST_F(PosixEnvTest, SetTimesDoesNotFollowSymlinks) {
  WriteFile(dir_.fd(), "f", "x");
  ASSERT_TRUE(env_->Symlink("f", dir_.fd(), "l").ok());
  const struct timespec times[2] = {{1000, 5}, {2000, 7}};
  ASSERT_TRUE(env_->SetTimes(dir_.fd(), "l", times).ok());
  Result<struct stat> l = env_->Stat(dir_.fd(), "l");
  Result<struct stat> f = env_->Stat(dir_.fd(), "f");
  ASSERT_TRUE(l.ok() && f.ok());
  EXPECT_EQ(l->st_atim.tv_sec, 1000);
  EXPECT_EQ(l->st_mtim.tv_sec, 2000);
  EXPECT_EQ(l->st_mtim.tv_nsec, 7);
  EXPECT_NE(f->st_mtim.tv_sec, 2000);

  // Through an O_PATH fd, with UTIME_OMIT keeping the atime.
  Result<Fd> fd = env_->OpenBeneath(dir_.fd(), "f", O_PATH);
  ASSERT_TRUE(fd.ok());
  const struct timespec mtime_only[2] = {{0, UTIME_OMIT}, {3000, 0}};
  Status s = env_->SetTimes(fd->get(), "", mtime_only);
  ASSERT_TRUE(s.ok()) << s.ToString();
  Result<struct stat> after = env_->Stat(dir_.fd(), "f");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->st_mtim.tv_sec, 3000);
  EXPECT_EQ(after->st_atim.tv_sec, f->st_atim.tv_sec);
}

TEST_F(PosixEnvTest, ReadDirListsEntriesAndRewinds) {
  ASSERT_TRUE(env_->MkDir(dir_.fd(), "sub", 0755).ok());
  WriteFile(dir_.fd(), "file", "x");
  ASSERT_TRUE(env_->Symlink("file", dir_.fd(), "link").ok());
  for (int i = 0; i < 500; ++i) WriteFile(dir_.fd(), "many" + std::to_string(i), "");

  for (int round = 0; round < 2; ++round) {  // a second call starts again from the beginning
    Result<std::vector<DirEntry>> entries = env_->ReadDir(dir_.fd());
    ASSERT_TRUE(entries.ok()) << entries.status().ToString();
    EXPECT_EQ(entries->size(), 503u);
    std::vector<std::string> names;
    for (const DirEntry& e : *entries) {
      names.push_back(e.name);
      if (e.name == "sub") {
        EXPECT_EQ(e.type, DT_DIR);
      } else if (e.name == "file") {
        EXPECT_EQ(e.type, DT_REG);
      } else if (e.name == "link") {
        EXPECT_EQ(e.type, DT_LNK);
      }
      Result<struct stat> st = env_->Stat(dir_.fd(), e.name);
      ASSERT_TRUE(st.ok());
      EXPECT_EQ(st->st_ino, e.ino) << e.name;
    }
    EXPECT_THAT(names, Not(Contains(".")));
    EXPECT_THAT(names, Not(Contains("..")));
    EXPECT_THAT(names, Contains("many499"));
  }
  // The caller's fd is still open.
  EXPECT_GE(fcntl(dir_.fd(), F_GETFD), 0);
}

TEST_F(PosixEnvTest, ReadDirOfEmptyDirectory) {
  Result<std::vector<DirEntry>> entries = env_->ReadDir(dir_.fd());
  ASSERT_TRUE(entries.ok());
  EXPECT_TRUE(entries->empty());
}

TEST_F(PosixEnvTest, ReadLinkAndFdPath) {
  const std::string target(3000, 'x');  // longer than any small first guess
  ASSERT_TRUE(env_->Symlink(target, dir_.fd(), "l").ok());
  Result<std::string> got = env_->ReadLink(dir_.fd(), "l");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, target);
  EXPECT_EQ(env_->ReadLink(dir_.fd(), "missing").status().code(), ENOENT);

  ASSERT_TRUE(env_->MkDir(dir_.fd(), "d", 0755).ok());
  Result<Fd> d = env_->OpenBeneath(dir_.fd(), "d", O_PATH);
  ASSERT_TRUE(d.ok());
  Result<std::string> path = env_->FdPath(d->get());
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(*path, dir_.path() + "/d");
}

// A tree deeper than PATH_MAX (25 components of 200 bytes) is opened a piece at a time, still
// beneath the start and without symlinks, and a deep directory still has a path.
TEST_F(PosixEnvTest, OpenBeneathAndFdPathPastPathMax) {
  std::string deep;
  Fd cur;
  for (int i = 0; i < 25; ++i) {
    const std::string name(200, static_cast<char>('a' + i));
    ASSERT_TRUE(env_->MkDir(cur.valid() ? cur.get() : dir_.fd(), name, 0755).ok());
    Result<Fd> next =
        env_->OpenBeneath(cur.valid() ? cur.get() : dir_.fd(), name, O_PATH | O_DIRECTORY);
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    cur = std::move(*next);
    deep += (deep.empty() ? "" : "/") + name;
  }
  ASSERT_GT(deep.size(), static_cast<size_t>(PATH_MAX));
  WriteFile(dir_.fd(), deep + "/f", "deep");
  EXPECT_EQ(ReadFile(dir_.fd(), deep + "/f"), "deep");
  ASSERT_TRUE(env_->Symlink(".", cur.get(), "link").ok());
  EXPECT_EQ(env_->OpenBeneath(dir_.fd(), deep + "/link/f", O_RDONLY).status().code(), ELOOP);
  std::string up = deep;
  for (int i = 0; i < 26; ++i) up += "/..";
  EXPECT_EQ(env_->OpenBeneath(dir_.fd(), up, O_PATH).status().code(), EXDEV);

  Result<std::string> path = env_->FdPath(cur.get());
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(*path, dir_.path() + "/" + deep);
}

TEST_F(PosixEnvTest, PReadStopsAtEndOfFileAndPWriteAtOffset) {
  WriteFile(dir_.fd(), "f", "0123456789");
  Result<Fd> fd = env_->OpenBeneath(dir_.fd(), "f", O_RDWR);
  ASSERT_TRUE(fd.ok());
  char buf[32];
  Result<size_t> n = env_->PRead(fd->get(), buf, sizeof(buf), 4);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "456789");
  n = env_->PRead(fd->get(), buf, sizeof(buf), 100);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);

  n = env_->PWrite(fd->get(), "ab", 2, 12);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(ReadFile(dir_.fd(), "f"), std::string("0123456789\0\0ab", 14));

  Result<Fd> ro = env_->OpenBeneath(dir_.fd(), "f", O_RDONLY);
  ASSERT_TRUE(ro.ok());
  EXPECT_EQ(env_->PWrite(ro->get(), "x", 1, 0).status().code(), EBADF);
}

TEST_F(PosixEnvTest, TruncateAndSync) {
  WriteFile(dir_.fd(), "f", "0123456789");
  Result<Fd> fd = env_->OpenBeneath(dir_.fd(), "f", O_RDWR);
  ASSERT_TRUE(fd.ok());
  ASSERT_TRUE(env_->Truncate(fd->get(), 3).ok());
  ASSERT_TRUE(env_->Fsync(fd->get()).ok());
  ASSERT_TRUE(env_->Fdatasync(fd->get()).ok());
  ASSERT_TRUE(env_->Fsync(dir_.fd()).ok());  // directories are synced through a read-only fd
  EXPECT_EQ(ReadFile(dir_.fd(), "f"), "012");
  EXPECT_EQ(env_->Truncate(dir_.fd(), 0).code(), EINVAL);
}

TEST_F(PosixEnvTest, UnlinkFilesAndDirectories) {
  WriteFile(dir_.fd(), "f", "x");
  ASSERT_TRUE(env_->MkDir(dir_.fd(), "d", 0755).ok());
  EXPECT_EQ(env_->Unlink(dir_.fd(), "d", 0).code(), EISDIR);
  ASSERT_TRUE(env_->Unlink(dir_.fd(), "d", AT_REMOVEDIR).ok());
  ASSERT_TRUE(env_->Unlink(dir_.fd(), "f", 0).ok());
  EXPECT_EQ(env_->Unlink(dir_.fd(), "f", 0).code(), ENOENT);
  Result<std::vector<DirEntry>> entries = env_->ReadDir(dir_.fd());
  ASSERT_TRUE(entries.ok());
  EXPECT_TRUE(entries->empty());
}

TEST_F(PosixEnvTest, ErrorsNameTheCallAndTheName) {
  Result<struct stat> st = env_->Stat(dir_.fd(), "no-such-entry");
  EXPECT_EQ(st.status().code(), ENOENT);
  EXPECT_THAT(st.status().message(), HasSubstr("fstatat"));
  EXPECT_THAT(st.status().message(), HasSubstr("no-such-entry"));

  Status mk = env_->MkDir(dir_.fd(), "x/y", 0755);
  EXPECT_EQ(mk.code(), ENOENT);
  EXPECT_THAT(mk.message(), HasSubstr("mkdirat"));
  EXPECT_THAT(mk.message(), HasSubstr("x/y"));

  Status rn = env_->Rename(dir_.fd(), "src-missing", dir_.fd(), "dst-name", 0);
  EXPECT_EQ(rn.code(), ENOENT);
  EXPECT_THAT(rn.message(), HasSubstr("src-missing"));
  EXPECT_THAT(rn.message(), HasSubstr("dst-name"));

  Result<Fd> open = env_->OpenBeneath(dir_.fd(), "missing/file", O_RDONLY);
  EXPECT_EQ(open.status().code(), ENOENT);
  EXPECT_THAT(open.status().message(), HasSubstr("openat2"));
  EXPECT_THAT(open.status().message(), HasSubstr("missing/file"));
}

TEST_F(PosixEnvTest, StatFsDescribesTheFilesystem) {
  Result<struct statvfs> st = env_->StatFs(dir_.fd());
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_GT(st->f_blocks, 0u);
  EXPECT_GT(st->f_bsize, 0u);
  EXPECT_GE(st->f_namemax, 255u);
}

TEST_F(PosixEnvTest, MkDirAndSymlinkReportExisting) {
  ASSERT_TRUE(env_->MkDir(dir_.fd(), "d", 0700).ok());
  EXPECT_EQ(env_->MkDir(dir_.fd(), "d", 0700).code(), EEXIST);
  EXPECT_EQ(env_->Symlink("t", dir_.fd(), "d").code(), EEXIST);
  Result<std::vector<DirEntry>> entries = env_->ReadDir(dir_.fd());
  ASSERT_TRUE(entries.ok());
  std::vector<std::string> names;
  for (const DirEntry& e : *entries) names.push_back(e.name);
  EXPECT_THAT(names, UnorderedElementsAre("d"));
}

}  // namespace
}  // namespace ovl
