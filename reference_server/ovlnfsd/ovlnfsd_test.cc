// End-to-end test of the ovlnfsd binary: command-line errors, the listening line, MOUNT and NFS
// over TCP, the signal contract and a clean exit.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "base/temp_dir_for_test.h"
#include "nfs/mount_program.h"
#include "nfs/nfs3_xdr.h"
#include "rpc/client.h"

extern char** environ;

namespace ovl::ovlnfsd {
namespace {

// A running ovlnfsd whose stderr is read line by line.
class Server {
 public:
  explicit Server(const std::vector<std::string>& args) {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
    stderr_ = Fd(fds[0]);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    std::vector<std::string> argv_s = {OVLNFSD_PATH};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, OVLNFSD_PATH, &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
  }
  ~Server() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // The next stderr line (without the newline), or "" after 10 s or at end of file.
  std::string ReadLine() {
    for (;;) {
      if (size_t nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      pollfd p{stderr_.get(), POLLIN, 0};
      if (poll(&p, 1, 10000) != 1) return "";
      char buf[512];
      ssize_t n = read(stderr_.get(), buf, sizeof(buf));
      if (n <= 0) return "";
      buffer_.append(buf, n);
    }
  }

  // Waits for the process to exit; its exit code, or -1 when it did not exit normally.
  int Wait() {
    int status = 0;
    EXPECT_EQ(waitpid(pid_, &status, 0), pid_);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  Fd stderr_;
  std::string buffer_;
};

TEST(OvlnfsdTest, UsageErrorExitsWithTwo) {
  Server s({"--lower", "/l", "--upper", "/u", "--work", "/w", "--listen", "x"});
  EXPECT_EQ(s.ReadLine(), "ovlnfsd: --listen: expected ADDR:PORT, got 'x'");
  EXPECT_EQ(s.ReadLine(), "");
  EXPECT_EQ(s.Wait(), 2);
}

TEST(OvlnfsdTest, UnusableLayersExitWithOne) {
  TempDir tmp;
  Server s({"--lower", tmp.path() + "/missing", "--upper", tmp.path(), "--work", tmp.path(),
            "--listen", "127.0.0.1:0"});
  EXPECT_NE(s.ReadLine(), "");
  EXPECT_EQ(s.Wait(), 1);
}

Result<rpc::Reply> Call(rpc::RpcClient& client, uint32_t xid, uint32_t prog, uint32_t vers,
                        uint32_t proc, const std::string& args) {
  rpc::CallHeader h;
  h.xid = xid;
  h.prog = prog;
  h.vers = vers;
  h.proc = proc;
  return client.Call(h, args);
}

// Layers in `tmp` (lower file "f") and the arguments that serve them as /srv on a free port.
std::vector<std::string> ServeLayers(const TempDir& tmp) {
  for (const char* d : {"/l", "/u", "/w"}) mkdir((tmp.path() + d).c_str(), 0755);
  std::ofstream(tmp.path() + "/l/f") << "data";
  chmod((tmp.path() + "/l/f").c_str(), 0644);
  return {"--lower",         tmp.path() + "/l", "--upper",     tmp.path() + "/u", "--work",
          tmp.path() + "/w", "--listen",        "127.0.0.1:0", "--export-path",   "/srv"};
}

// The port from the server's listening line; 0 (and a failure) without one.
uint16_t ListeningPort(Server& s) {
  const std::string prefix = "ovlnfsd: listening on 127.0.0.1:";
  std::string line = s.ReadLine();
  EXPECT_EQ(line.substr(0, prefix.size()), prefix) << line;
  if (line.rfind(prefix, 0) != 0) return 0;
  return static_cast<uint16_t>(std::stoi(line.substr(prefix.size())));
}

// The root handle from MNT of /srv; empty (and a failure) on an error.
Handle MountRoot(rpc::RpcClient& client) {
  xdr::Encoder path;
  path.String("/srv");
  Result<rpc::Reply> mnt = Call(client, 1, nfs::kMountProgram, nfs::kMountVersion,
                                static_cast<uint32_t>(nfs::MountProc::kMnt), path.bytes());
  EXPECT_TRUE(mnt.ok()) << mnt.status().ToString();
  if (!mnt.ok()) return {};
  EXPECT_EQ(mnt->accept_stat, rpc::AcceptStat::kSuccess);
  xdr::Decoder mnt_in(mnt->results);
  uint32_t mnt_status = 1;
  Handle root;
  EXPECT_TRUE(mnt_in.U32(&mnt_status) && nfs::DecodeFh3(mnt_in, &root));
  EXPECT_EQ(mnt_status, 0u);
  return root;
}

TEST(OvlnfsdTest, ServesMountAndNfsAndHandlesSignals) {
  TempDir tmp;
  Server s(ServeLayers(tmp));
  const uint16_t port = ListeningPort(s);
  ASSERT_NE(port, 0);

  Result<std::unique_ptr<rpc::RpcClient>> client = rpc::RpcClient::Connect("127.0.0.1", port);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  const Handle root = MountRoot(**client);
  ASSERT_FALSE(root.empty());

  xdr::Encoder lookup;
  nfs::EncodeFh3(lookup, root);
  lookup.String("f");
  Result<rpc::Reply> found = Call(**client, 2, nfs::kNfsProgram, nfs::kNfsVersion,
                                  static_cast<uint32_t>(nfs::Nfs3Proc::kLookup), lookup.bytes());
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  xdr::Decoder found_in(found->results);
  uint32_t nfs_status = 1;
  ASSERT_TRUE(found_in.U32(&nfs_status));
  EXPECT_EQ(nfs_status, 0u);

  kill(s.pid(), SIGUSR1);
  EXPECT_EQ(s.ReadLine(), "ovlnfsd: caches dropped");
  kill(s.pid(), SIGUSR2);
  const std::string line = s.ReadLine();
  EXPECT_EQ(line.rfind("ovlnfsd: counters decode_cache_hits=", 0), 0u) << line;
  EXPECT_NE(line.find(" cache_drops=1"), std::string::npos) << line;
  kill(s.pid(), SIGTERM);
  EXPECT_EQ(s.Wait(), 0);
}

// NFS version 4 shares the program number and the port with version 3 (reference_server/nfs4/).
TEST(OvlnfsdTest, ServesNfs4BesideNfs3) {
  TempDir tmp;
  Server s(ServeLayers(tmp));
  const uint16_t port = ListeningPort(s);
  ASSERT_NE(port, 0);
  Result<std::unique_ptr<rpc::RpcClient>> client = rpc::RpcClient::Connect("127.0.0.1", port);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Result<rpc::Reply> null4 = Call(**client, 1, nfs::kNfsProgram, 4, 0, "");
  ASSERT_TRUE(null4.ok());
  EXPECT_EQ(null4->accept_stat, rpc::AcceptStat::kSuccess);
  Result<rpc::Reply> v5 = Call(**client, 2, nfs::kNfsProgram, 5, 0, "");
  ASSERT_TRUE(v5.ok());
  EXPECT_EQ(v5->accept_stat, rpc::AcceptStat::kProgMismatch);
  EXPECT_EQ(v5->low, 3u);
  EXPECT_EQ(v5->high, 4u);
  // COMPOUND (tag "", minor version 1) of PUTROOTFH (24) alone: NFS4ERR_OP_NOT_IN_SESSION.
  xdr::Encoder compound;
  compound.String("");
  compound.U32(1);
  compound.U32(1);
  compound.U32(24);
  Result<rpc::Reply> r = Call(**client, 3, nfs::kNfsProgram, 4, 1, compound.bytes());
  ASSERT_TRUE(r.ok());
  xdr::Decoder in(r->results);
  uint32_t status = 0;
  ASSERT_TRUE(in.U32(&status));
  EXPECT_EQ(status, 10071u);
  kill(s.pid(), SIGTERM);
  EXPECT_EQ(s.Wait(), 0);
}

// The host kernel's NFS client (vers=4.1 and 4.2) over 127.0.0.1: every common file operation,
// and file handles of the mount. Skipped where the kernel has no NFSv4 client or without root.
class KernelMount {
 public:
  KernelMount(const std::string& opts, const std::string& source, const std::string& target)
      : target_(target) {
    mkdir(target.c_str(), 0755);
    const std::string cmd =
        "mount -t nfs -o " + opts + " " + source + " " + target + " >/dev/null 2>&1";
    mounted_ = std::system(cmd.c_str()) == 0;
  }
  ~KernelMount() {
    if (mounted_) {
      EXPECT_EQ(std::system(("umount " + target_).c_str()), 0);
    }
  }
  bool mounted() const { return mounted_; }

 private:
  std::string target_;
  bool mounted_ = false;
};

bool KernelHasNfs4() {
  std::ifstream in("/proc/filesystems");
  for (std::string line; std::getline(in, line);) {
    if (line.size() >= 5 && line.compare(line.size() - 5, 5, "\tnfs4") == 0) return true;
  }
  return false;
}

std::string FileText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(OvlnfsdTest, KernelNfs4Mount) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting needs root";
  TempDir tmp;
  std::vector<std::string> args = ServeLayers(tmp);
  // The client runs as root: unsquashed, it may write in the export root (owned by root).
  args.insert(args.end(), {"--squash", "none"});
  Server s(args);
  const uint16_t port = ListeningPort(s);
  ASSERT_NE(port, 0);
  for (const char* vers : {"4.1", "4.2"}) {
    SCOPED_TRACE(vers);
    const std::string m = tmp.path() + "/mnt";
    KernelMount mount("vers=" + std::string(vers) + ",port=" + std::to_string(port) + ",soft",
                      "127.0.0.1:/srv", m);
    if (!mount.mounted()) {
      if (!KernelHasNfs4()) GTEST_SKIP() << "the kernel has no NFSv4 client";
      FAIL() << "mount -t nfs -o vers=" << vers << " failed";
    }
    EXPECT_EQ(FileText(m + "/f"), "data");
    const std::string name = std::string("new-") + vers;
    std::ofstream(m + "/" + name) << "written";
    EXPECT_EQ(FileText(m + "/" + name), "written");
    EXPECT_EQ(FileText(tmp.path() + "/u/" + name), "written");
    ASSERT_EQ(rename((m + "/" + name).c_str(), (m + "/renamed").c_str()), 0);
    ASSERT_EQ(link((m + "/renamed").c_str(), (m + "/hard").c_str()), 0);
    struct stat st {};
    ASSERT_EQ(stat((m + "/hard").c_str(), &st), 0);
    EXPECT_EQ(st.st_nlink, 2u);
    ASSERT_EQ(symlink("renamed", (m + "/sym").c_str()), 0);
    char target[64] = {};
    EXPECT_EQ(readlink((m + "/sym").c_str(), target, sizeof target - 1), 7);
    ASSERT_EQ(mkdir((m + "/dir").c_str(), 0750), 0);
    ASSERT_EQ(chmod((m + "/renamed").c_str(), 0600), 0);
    ASSERT_EQ(truncate((m + "/renamed").c_str(), 3), 0);
    ASSERT_EQ(stat((m + "/renamed").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(st.st_size, 3);
    std::set<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(m)) {
      names.insert(e.path().filename().string());
    }
    EXPECT_EQ(names, (std::set<std::string>{"f", "renamed", "hard", "sym", "dir"}));
    // File handles of the mount: what name_to_handle_at gives, open_by_handle_at opens.
    struct {
      file_handle fh;
      unsigned char bytes[MAX_HANDLE_SZ];
    } h{};
    h.fh.handle_bytes = MAX_HANDLE_SZ;
    int mount_id = 0;
    ASSERT_EQ(name_to_handle_at(AT_FDCWD, (m + "/renamed").c_str(), &h.fh, &mount_id, 0), 0);
    Fd root(open(m.c_str(), O_RDONLY | O_DIRECTORY));
    Fd opened(open_by_handle_at(root.get(), &h.fh, O_RDONLY));
    ASSERT_GE(opened.get(), 0) << strerror(errno);
    char buf[8] = {};
    EXPECT_EQ(read(opened.get(), buf, sizeof buf), 3);
    EXPECT_EQ(std::string(buf), "wri");
    for (const char* gone : {"renamed", "hard", "sym"}) {
      EXPECT_EQ(unlink((m + "/" + gone).c_str()), 0) << gone;
    }
    EXPECT_EQ(rmdir((m + "/dir").c_str()), 0);
  }
  kill(s.pid(), SIGTERM);
  EXPECT_EQ(s.Wait(), 0);
}

// The write verifier a COMMIT answers with, from a server started (and stopped) on the layers in
// `tmp` with `extra` arguments.
std::array<uint8_t, 8> ServedWriteVerifier(const TempDir& tmp,
                                           const std::vector<std::string>& extra) {
  std::vector<std::string> args = ServeLayers(tmp);
  args.insert(args.end(), extra.begin(), extra.end());
  Server s(args);
  std::array<uint8_t, 8> verf{};
  const uint16_t port = ListeningPort(s);
  Result<std::unique_ptr<rpc::RpcClient>> client = rpc::RpcClient::Connect("127.0.0.1", port);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  if (!client.ok()) return verf;
  xdr::Encoder commit;
  nfs::EncodeFh3(commit, MountRoot(**client));
  commit.U64(0);
  commit.U32(0);
  Result<rpc::Reply> r = Call(**client, 2, nfs::kNfsProgram, nfs::kNfsVersion,
                              static_cast<uint32_t>(nfs::Nfs3Proc::kCommit), commit.bytes());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return verf;
  // nfsstat3, then wcc_data: pre_op_attr (24 bytes of wcc_attr when present) and post_op_attr.
  xdr::Decoder in(r->results);
  uint32_t status = 1;
  bool pre = false, post = false;
  char skip[nfs::kFattr3Size];
  EXPECT_TRUE(in.U32(&status) && in.Bool(&pre) && (!pre || in.FixedOpaque(skip, 24)) &&
              in.Bool(&post) && (!post || in.FixedOpaque(skip, nfs::kFattr3Size)) &&
              nfs::DecodeVerf(in, &verf));
  EXPECT_EQ(status, 0u);
  kill(s.pid(), SIGTERM);
  EXPECT_EQ(s.Wait(), 0);
  return verf;
}

// A client finds out that a restarted server lost its uncommitted writes only by a new write
// verifier. The planted bug write-verifier-constant (base/planted_bugs.h) keeps it.
TEST(OvlnfsdTest, WriteVerifierChangesAcrossRestartsUnlessPlanted) {
  TempDir tmp;
  EXPECT_NE(ServedWriteVerifier(tmp, {}), ServedWriteVerifier(tmp, {}));
  const std::vector<std::string> planted = {"--plant", "write-verifier-constant"};
  EXPECT_EQ(ServedWriteVerifier(tmp, planted), ServedWriteVerifier(tmp, planted))
      << "the plant no longer keeps the verifier";
}

}  // namespace
}  // namespace ovl::ovlnfsd
