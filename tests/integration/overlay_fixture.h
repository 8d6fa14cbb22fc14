// Shared fixture of the ovlnfsd integration tests: a real ovlnfsd on a temporary overlay tree on
// 127.0.0.1, driven over the wire by the raw NFSv3 client, which holds handles as bytes across
// evictions, restarts and crashes.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nfsclient/nfs_client.h"
#include "nfsclient/nfs_client_assertions.h"
#include "rpc/client.h"
#include "support/server_process.h"

namespace ovl::integration {

using nfsclient::Fattr;
using nfsclient::NfsClient;
using nfsclient::Nfsstat3Name;

inline constexpr char kHost[] = "127.0.0.1";
inline constexpr char kExportPath[] = "/export";

// ONC RPC numbers for calls built by hand.
inline constexpr uint32_t kNfsProgram = 100003;
inline constexpr uint32_t kNfsVersion = 3;
inline constexpr uint32_t kMountProgram = 100005;
inline constexpr uint32_t kMountVersion = 3;
inline constexpr uint32_t kNfsGetattr = 1;
inline constexpr uint32_t kNfsLookup = 3;
inline constexpr uint32_t kNfsRead = 6;
inline constexpr uint32_t kNfsCreate = 8;
inline constexpr uint32_t kMountMnt = 1;

// One call with hand-made argument bytes over `client`, with an AUTH_SYS credential for uid 0
// and a fresh xid; the reply as parsed (not checked).
Result<rpc::Reply> RawCall(rpc::RpcClient& client, uint32_t prog, uint32_t vers, uint32_t proc,
                           const std::string& args);

// The events a held handle must survive ("after E" in docs/design.md, "Scenario catalogue").
enum class Fault {
  kEvict,   // SIGUSR1: every in-memory cache dropped
  kReboot,  // SIGTERM, then a new start on the same dirs
  kCrash,   // SIGKILL, then a new start on the same dirs
};
inline constexpr std::array<Fault, 3> kAllFaults = {Fault::kEvict, Fault::kReboot, Fault::kCrash};
const char* FaultName(Fault fault);

// Options naming the real server binary, with --squash none.
testsupport::ServerOptions BaseOptions();

// A description of every entry under `dir` (type, mode, owner, size, inode, link count, mtime,
// ctime, xattrs, symlink target, file bytes), keyed by relative path: two snapshots are equal
// only if nothing under `dir` was written, created, removed or re-attributed in between.
std::map<std::string, std::string> TreeSnapshot(const std::string& dir);

// Writes `content` to `path` (created or truncated, mode 0644), creating no directories.
void WriteLocalFile(const std::string& path, const std::string& content);
void MakeLocalDir(const std::string& path, int mode = 0755);

// Runs a command-line tool to completion (at most `timeout`): its exit status (128 + N after
// signal N) and its stdout and stderr together.
struct ToolRun {
  int exit_status = -1;
  std::string output;
};
Result<ToolRun> RunTool(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

class OverlayTest : public ::testing::Test {
 protected:
  void TearDown() override;

  // Creates the server's temp tree (not started) so the test can fill the lower dirs.
  void CreateServer(testsupport::ServerOptions options = BaseOptions());
  // Starts the server and mounts the export.
  void StartAndMount();
  // (Re)connects the client to the running server and mounts the export into root_.
  void Mount();
  // Applies `fault` and reconnects. After kEvict it proves through the counters that eviction
  // happened: a GETATTR of `probe` (a valid handle other than the root) must go to the index.
  void Inject(Fault fault, const std::string& probe);

  // Paths in the top lower layer.
  std::string Lower(const std::string& rel) const;
  void WriteLower(const std::string& rel, const std::string& content);
  void MkdirLower(const std::string& rel);

  // Procedure helpers that expect NFS3_OK. On a transport error or another status they record
  // a failure naming the call and return an empty value, so callers check HasFailure() at step
  // boundaries.
  std::string Lookup(const std::string& dir, const std::string& name);
  // Walks '/'-separated `path` from root_ with one LOOKUP per component.
  std::string LookupPath(const std::string& path);
  Fattr Getattr(const std::string& fh);
  // The whole file, read in 64 KiB calls.
  std::string ReadAll(const std::string& fh);
  std::string CreateFile(const std::string& dir, const std::string& name, uint32_t mode = 0644);
  std::string Mkdir(const std::string& dir, const std::string& name);
  // Writes with `stable` and returns the write verifier.
  uint64_t Write(const std::string& fh, uint64_t offset, const std::string& data,
                 nfsclient::StableHow stable = nfsclient::kFileSync);

  // The status GETATTR gets for `fh` (records a failure on a transport error).
  uint32_t GetattrStatus(const std::string& fh);

  std::unique_ptr<testsupport::ServerProcess> server_;
  NfsClient client_;
  std::string root_;  // root handle of the current mount
};

}  // namespace ovl::integration
