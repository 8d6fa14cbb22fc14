#include "integration/overlay_fixture.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <iostream>
#include <sstream>
#include <vector>

#include "support/child_process.h"
#include "support/scratch_dir.h"
#include "xdr/xdr.h"

namespace ovl::integration {
namespace {

constexpr uint32_t kReadChunk = 64 * 1024;
// Files the helpers read are small test fixtures; this bounds the read loop.
constexpr int kMaxReadCalls = 4096;

std::string TimeString(const timespec& ts) {
  return std::to_string(ts.tv_sec) + "." + std::to_string(ts.tv_nsec);
}

// "name=value;..." of every xattr of `path` (not following a symlink).
std::string Xattrs(const std::string& path) {
  std::vector<char> names(65536);
  ssize_t len = llistxattr(path.c_str(), names.data(), names.size());
  if (len < 0) return "xattrs-error:" + std::to_string(errno);
  std::string out;
  for (ssize_t at = 0; at < len;) {
    std::string name(names.data() + at);
    at += static_cast<ssize_t>(name.size()) + 1;
    std::vector<char> value(65536);
    ssize_t vlen = lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    out += name + "=" + (vlen < 0 ? "?" : std::string(value.data(), vlen)) + ";";
  }
  return out;
}

void Snapshot(const std::string& dir, const std::string& rel,
              std::map<std::string, std::string>* out) {
  const std::string path = rel.empty() ? dir : dir + "/" + rel;
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    (*out)[rel] = "lstat-error:" + std::to_string(errno);
    return;
  }
  std::ostringstream d;
  d << "mode=" << std::oct << st.st_mode << std::dec << " uid=" << st.st_uid << " gid=" << st.st_gid
    << " size=" << st.st_size << " ino=" << st.st_ino << " nlink=" << st.st_nlink
    << " rdev=" << major(st.st_rdev) << ":" << minor(st.st_rdev)
    << " mtime=" << TimeString(st.st_mtim) << " ctime=" << TimeString(st.st_ctim)
    << " xattrs=" << Xattrs(path);
  if (S_ISLNK(st.st_mode)) {
    std::vector<char> target(PATH_MAX);
    ssize_t n = readlink(path.c_str(), target.data(), target.size());
    d << " target=" << (n < 0 ? "?" : std::string(target.data(), n));
  } else if (S_ISREG(st.st_mode)) {
    Result<std::string> bytes = testsupport::ReadFile(path);
    d << " bytes=" << (bytes.ok() ? *bytes : "read-error");
  }
  (*out)[rel] = d.str();
  if (!S_ISDIR(st.st_mode)) return;
  DIR* dp = opendir(path.c_str());
  if (dp == nullptr) return;
  std::vector<std::string> names;
  while (dirent* e = readdir(dp)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(dp);
  for (const std::string& name : names) Snapshot(dir, rel.empty() ? name : rel + "/" + name, out);
}

}  // namespace

const char* FaultName(Fault fault) {
  switch (fault) {
    case Fault::kEvict:
      return "evict";
    case Fault::kReboot:
      return "reboot";
    case Fault::kCrash:
      return "crash";
  }
  return "?";
}

Result<rpc::Reply> RawCall(rpc::RpcClient& client, uint32_t prog, uint32_t vers, uint32_t proc,
                           const std::string& args) {
  static std::atomic<uint32_t> next_xid{1};
  xdr::Encoder cred;  // authsys_parms: stamp, machine name, uid, gid, no groups
  cred.U32(0);
  cred.String("integration-test");
  cred.U32(0);
  cred.U32(0);
  cred.U32(0);
  rpc::CallHeader header;
  header.xid = next_xid++;
  header.prog = prog;
  header.vers = vers;
  header.proc = proc;
  header.cred_flavor = rpc::kAuthSys;
  header.cred_body = cred.Take();
  return client.Call(header, args);
}

Result<ToolRun> RunTool(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  OVL_ASSIGN_OR_RETURN(testsupport::ScratchDir scratch, testsupport::ScratchDir::Create("tool"));
  const std::string out_path = scratch.path() + "/output";
  Fd out(open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!out.valid()) return Status::FromErrno("open " + out_path);
  OVL_ASSIGN_OR_RETURN(testsupport::ChildProcess child,
                       testsupport::ChildProcess::Spawn(argv, out.get()));
  ToolRun run;
  OVL_ASSIGN_OR_RETURN(run.exit_status, child.Wait(timeout));
  OVL_ASSIGN_OR_RETURN(run.output, testsupport::ReadFile(out_path));
  return run;
}

testsupport::ServerOptions BaseOptions() {
  testsupport::ServerOptions options;
  options.binary = OVLNFSD_PATH;
  // The tests run as root on trees root owns; the client acts as that owner. The default
  // (--squash root) has a test of its own.
  options.squash = "none";
  return options;
}

std::map<std::string, std::string> TreeSnapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  Snapshot(dir, "", &out);
  return out;
}

void WriteLocalFile(const std::string& path, const std::string& content) {
  Status st = testsupport::WriteFile(path, content);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(chmod(path.c_str(), 0644), 0) << path;
}

void MakeLocalDir(const std::string& path, int mode) {
  ASSERT_EQ(mkdir(path.c_str(), mode), 0) << path << ": " << strerror(errno);
  // mkdir applies the umask; the tests want exactly `mode`.
  ASSERT_EQ(chmod(path.c_str(), mode), 0) << path;
}

void OverlayTest::TearDown() {
  if (HasFailure() && server_ != nullptr) {
    std::cerr << "--- ovlnfsd log tail (" << server_->log_path() << ")\n" << server_->Tail(40);
  }
}

void OverlayTest::CreateServer(testsupport::ServerOptions options) {
  auto server = testsupport::ServerProcess::Create(std::move(options));
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  server_ = std::move(server).value();
}

void OverlayTest::StartAndMount() {
  ASSERT_OK(server_->Start());
  Mount();
}

void OverlayTest::Mount() {
  ASSERT_OK(client_.Connect(kHost, server_->port(), server_->port()));
  ASSERT_RESULT(mnt, client_.Mnt(kExportPath));
  ASSERT_EQ(mnt->status, 0u) << "MNT " << kExportPath;
  root_ = mnt->handle;
}

void OverlayTest::Inject(Fault fault, const std::string& probe) {
  SCOPED_TRACE(std::string("fault ") + FaultName(fault));
  switch (fault) {
    case Fault::kEvict: {
      // A cold GETATTR right after the drop, then a warm one. Each call decodes the handle more
      // than once, so the cold call may hit the cache it just filled; what proves the drop is
      // that the cold call went to the index, the warm one did not, and the cold one found less
      // in the cache.
      ASSERT_OK(server_->DropCaches());
      ASSERT_RESULT(c0, server_->Counters());
      EXPECT_NFS(GetattrStatus(probe), nfsclient::kNfs3Ok) << "the eviction probe must be valid";
      ASSERT_RESULT(c1, server_->Counters());
      GetattrStatus(probe);
      ASSERT_RESULT(c2, server_->Counters());
      const char* lookups = "decode_index_lookups";
      const char* hits = "decode_cache_hits";
      EXPECT_GT((*c1)[lookups], (*c0)[lookups]) << "the decode after eviction skipped the index";
      EXPECT_EQ((*c2)[lookups], (*c1)[lookups]) << "a warm decode went to the index";
      EXPECT_LT((*c1)[hits] - (*c0)[hits], (*c2)[hits] - (*c1)[hits])
          << "the call after eviction was served from the cache as much as a warm one";
      return;
    }
    case Fault::kReboot: {
      ASSERT_RESULT(status, server_->Terminate());
      ASSERT_EQ(*status, 0) << "unclean exit on SIGTERM";
      break;
    }
    case Fault::kCrash:
      ASSERT_OK(server_->Kill());
      break;
  }
  ASSERT_OK(server_->Start());
  Mount();
}

std::string OverlayTest::Lower(const std::string& rel) const {
  return server_->lower_dirs()[0] + "/" + rel;
}

void OverlayTest::WriteLower(const std::string& rel, const std::string& content) {
  WriteLocalFile(Lower(rel), content);
}

void OverlayTest::MkdirLower(const std::string& rel) {
  MakeLocalDir(Lower(rel));
}

std::string OverlayTest::Lookup(const std::string& dir, const std::string& name) {
  auto res = client_.Lookup(dir, name);
  if (!res.ok()) {
    ADD_FAILURE() << "LOOKUP " << name << ": " << res.status().ToString();
    return "";
  }
  if (res->status != nfsclient::kNfs3Ok) {
    ADD_FAILURE() << "LOOKUP " << name << ": " << Nfsstat3Name(res->status);
    return "";
  }
  return res->handle;
}

std::string OverlayTest::LookupPath(const std::string& path) {
  std::string fh = root_;
  std::istringstream parts(path);
  for (std::string name; std::getline(parts, name, '/');) {
    fh = Lookup(fh, name);
    if (fh.empty()) return "";
  }
  return fh;
}

Fattr OverlayTest::Getattr(const std::string& fh) {
  auto res = client_.Getattr(fh);
  if (!res.ok()) {
    ADD_FAILURE() << "GETATTR: " << res.status().ToString();
    return {};
  }
  if (res->status != nfsclient::kNfs3Ok || !res->attrs) {
    ADD_FAILURE() << "GETATTR: " << Nfsstat3Name(res->status);
    return {};
  }
  return *res->attrs;
}

std::string OverlayTest::ReadAll(const std::string& fh) {
  std::string data;
  for (int i = 0; i < kMaxReadCalls; ++i) {
    auto res = client_.Read(fh, data.size(), kReadChunk);
    if (!res.ok()) {
      ADD_FAILURE() << "READ: " << res.status().ToString();
      return "";
    }
    if (res->status != nfsclient::kNfs3Ok) {
      ADD_FAILURE() << "READ: " << Nfsstat3Name(res->status);
      return "";
    }
    data += res->data;
    if (res->eof) return data;
    if (res->data.empty()) break;
  }
  ADD_FAILURE() << "READ did not reach eof";
  return data;
}

std::string OverlayTest::CreateFile(const std::string& dir, const std::string& name,
                                    uint32_t mode) {
  nfsclient::SetAttrs attrs;
  attrs.mode = mode;
  auto res = client_.Create(dir, name, nfsclient::kGuarded, attrs);
  if (!res.ok()) {
    ADD_FAILURE() << "CREATE " << name << ": " << res.status().ToString();
    return "";
  }
  if (res->status != nfsclient::kNfs3Ok || !res->handle) {
    ADD_FAILURE() << "CREATE " << name << ": " << Nfsstat3Name(res->status);
    return "";
  }
  return *res->handle;
}

std::string OverlayTest::Mkdir(const std::string& dir, const std::string& name) {
  nfsclient::SetAttrs attrs;
  attrs.mode = 0755;
  auto res = client_.Mkdir(dir, name, attrs);
  if (!res.ok()) {
    ADD_FAILURE() << "MKDIR " << name << ": " << res.status().ToString();
    return "";
  }
  if (res->status != nfsclient::kNfs3Ok || !res->handle) {
    ADD_FAILURE() << "MKDIR " << name << ": " << Nfsstat3Name(res->status);
    return "";
  }
  return *res->handle;
}

uint64_t OverlayTest::Write(const std::string& fh, uint64_t offset, const std::string& data,
                            nfsclient::StableHow stable) {
  auto res = client_.Write(fh, offset, data, stable);
  if (!res.ok()) {
    ADD_FAILURE() << "WRITE: " << res.status().ToString();
    return 0;
  }
  if (res->status != nfsclient::kNfs3Ok) {
    ADD_FAILURE() << "WRITE: " << Nfsstat3Name(res->status);
    return 0;
  }
  EXPECT_EQ(res->count, data.size()) << "short WRITE";
  EXPECT_GE(res->committed, static_cast<uint32_t>(stable)) << "WRITE committed less than asked";
  return res->verifier;
}

uint32_t OverlayTest::GetattrStatus(const std::string& fh) {
  auto res = client_.Getattr(fh);
  if (!res.ok()) {
    ADD_FAILURE() << "GETATTR: " << res.status().ToString();
    return ~0u;
  }
  return res->status;
}

}  // namespace ovl::integration
