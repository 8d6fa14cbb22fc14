// ovlnfsd: the reference overlay NFS server (NFSv3, NFSv4.1). Parses the command line, opens the
// union, serves NFS (versions 3 and 4) and MOUNT on one port and handles signals synchronously in
// the main thread:
//   SIGTERM, SIGINT  clean shutdown (exit 0)
//   SIGUSR1          drop every in-memory cache of the union
//   SIGUSR2          print the union's counters
// Exit codes: 0 clean shutdown, 1 startup failure, 2 usage error.
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "nfs/export_policy.h"
#include "nfs/mount_program.h"
#include "nfs/nfs3_program.h"
#include "nfs4/nfs4_program.h"
#include "ovlnfsd/flags.h"
#include "rpc/rpcbind.h"
#include "rpc/server.h"
#include "rpc/version_mux.h"
#include "union/union_fs.h"

namespace ovl::ovlnfsd {
namespace {

// One line on stderr, flushed at once: the harness reads it through a pipe.
void Say(const std::string& line) {
  std::fputs(("ovlnfsd: " + line + "\n").c_str(), stderr);
  std::fflush(stderr);
}

// A new one at every start; the planted mistake derives it from the export's UUID instead,
// which never changes.
Result<std::array<uint8_t, 8>> WriteVerifier(const UnionFs& fs, const Plants& plants) {
  std::array<uint8_t, 8> verf{};
  if (plants.Has(Plant::kWriteVerifierConstant)) {
    const std::array<uint8_t, 16> uuid = fs.ExportUuid();
    std::copy_n(uuid.begin(), verf.size(), verf.begin());
    return verf;
  }
  if (getrandom(verf.data(), verf.size(), 0) != static_cast<ssize_t>(verf.size())) {
    return Status::FromErrno("getrandom");
  }
  return verf;
}

std::string CountersLine(const UnionCounters& c) {
  return "counters decode_cache_hits=" + std::to_string(c.decode_cache_hits) +
         " decode_index_lookups=" + std::to_string(c.decode_index_lookups) +
         " decode_stale=" + std::to_string(c.decode_stale) +
         " decode_bad=" + std::to_string(c.decode_bad) + " copy_ups=" + std::to_string(c.copy_ups) +
         " cache_drops=" + std::to_string(c.cache_drops);
}

// The programs registered with rpcbind under --rpcbind.
constexpr std::array<std::pair<uint32_t, uint32_t>, 3> kRegistered = {{
    {nfs::kNfsProgram, nfs::kNfsVersion},
    {nfs::kNfsProgram, nfs4::kNfs4Version},
    {nfs::kMountProgram, nfs::kMountVersion},
}};

// Unregisters the first `count` entries of kRegistered.
void Unregister(size_t count) {
  for (size_t i = 0; i < count; ++i) {
    Status st = rpc::RpcbindUnregister(kRegistered[i].first, kRegistered[i].second);
    if (!st.ok()) Say("rpcbind: " + st.ToString());
  }
}

int Run(const Flags& flags, const sigset_t& signals) {
  // Modes come from clients and must be applied exactly as sent.
  umask(0);

  UnionOptions options;
  options.lower_dirs = flags.lower_dirs;
  options.upper_dir = flags.upper_dir;
  options.work_dir = flags.work_dir;
  options.handle_mode = flags.handle_mode;
  options.use_index = flags.use_index;
  options.plants = flags.plants;
  options.read_only = flags.export_options.read_only;
  options.log = Say;
  Result<std::unique_ptr<UnionFs>> fs = UnionFs::Open(options);
  if (!fs.ok()) {
    // A layer on a filesystem that cannot encode file handles (an overlay mounted without
    // nfs_export, ...) is a setup this server cannot serve; the harness reports this line as
    // the reason its cases are unsupported (backend/local_nodes.cc).
    if (fs.status().code() == EOPNOTSUPP) Say("unsupported layer setup: " + fs.status().message());
    Say(fs.status().ToString());
    return 1;
  }
  Result<std::array<uint8_t, 8>> verifier = WriteVerifier(**fs, flags.plants);
  if (!verifier.ok()) {
    Say(verifier.status().ToString());
    return 1;
  }

  nfs::ExportPolicy policy(flags.export_options);
  nfs::Nfs3Program nfs3_program(fs->get(), &policy, *verifier);
  nfs4::Nfs4Options nfs4_options;
  nfs4_options.limits.lease_s = static_cast<uint32_t>(flags.lease_s);
  nfs4_options.limits.grace_s =
      static_cast<uint32_t>(flags.grace_s < 0 ? flags.lease_s : flags.grace_s);
  nfs4_options.work_dir = flags.work_dir;
  Result<std::unique_ptr<nfs4::Nfs4Program>> nfs4_program =
      nfs4::Nfs4Program::Create(fs->get(), &policy, *verifier, nfs4_options);
  if (!nfs4_program.ok()) {
    Say(nfs4_program.status().ToString());
    return 1;
  }
  // NFS versions 3 and 4 share program number 100003 and the port.
  rpc::VersionMux nfs_program({&nfs3_program, nfs4_program->get()});
  nfs::Mount3Program mount_program(fs->get(), &policy);
  rpc::ServerOptions server_options;
  server_options.address = flags.listen_address;
  server_options.port = flags.listen_port;
  server_options.workers = flags.threads;
  server_options.max_connections = flags.max_connections;
  server_options.max_connections_per_address = flags.max_per_address;
  server_options.idle_timeout_ms = flags.idle_timeout_s * 1000;
  // Peers outside --allow get their first call refused by the programs, then lose the
  // connection, and never displace an allowed peer's connection.
  server_options.peer_allowed = [&policy](uint32_t ipv4) { return policy.Allows(ipv4); };
  Result<std::unique_ptr<rpc::RpcServer>> server =
      rpc::RpcServer::Start(server_options, {&nfs_program, &mount_program});
  if (!server.ok()) {
    Say(server.status().ToString());
    return 1;
  }
  const uint16_t port = (*server)->port();
  if (flags.rpcbind) {
    for (size_t i = 0; i < kRegistered.size(); ++i) {
      Status st = rpc::RpcbindRegister(kRegistered[i].first, kRegistered[i].second, port);
      if (!st.ok()) {
        Say("rpcbind: " + st.ToString());
        (*server)->Stop();
        Unregister(i);
        return 1;
      }
    }
  }
  Say("listening on " + flags.listen_address + ":" + std::to_string(port));

  for (;;) {
    int sig = sigwaitinfo(&signals, nullptr);
    if (sig == SIGTERM || sig == SIGINT) break;
    if (sig == SIGUSR1) {
      (*fs)->DropCaches();
      Say("caches dropped");
    } else if (sig == SIGUSR2) {
      Say(CountersLine((*fs)->Counters()));
    }
  }
  (*server)->Stop();
  if (flags.rpcbind) Unregister(kRegistered.size());
  return 0;
}

}  // namespace
}  // namespace ovl::ovlnfsd

int main(int argc, char** argv) {
  // Block the handled signals before any thread starts, so every thread inherits the mask and
  // they are only ever received by sigwaitinfo in Run.
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGTERM, SIGINT, SIGUSR1, SIGUSR2}) sigaddset(&signals, sig);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A client that disconnects mid-reply must not kill the server.
  std::signal(SIGPIPE, SIG_IGN);
  // Every connection is a descriptor and the default soft limit (often 1024) is below
  // --max-connections: take what the hard limit allows. Failing leaves the soft limit, which
  // only means accepts fail sooner (the server rests its listener, see rpc/server.cc).
  if (rlimit limit{}; getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }

  using ovl::ovlnfsd::Flags;
  ovl::Result<Flags> flags =
      ovl::ovlnfsd::ParseFlags(std::vector<std::string>(argv + 1, argv + argc));
  if (!flags.ok()) {
    std::fprintf(stderr, "ovlnfsd: %s\n", flags.status().message().c_str());
    return 2;
  }
  if (flags->help) {
    std::fputs(ovl::ovlnfsd::kUsage, stdout);
    return 0;
  }
  return ovl::ovlnfsd::Run(*flags, signals);
}
