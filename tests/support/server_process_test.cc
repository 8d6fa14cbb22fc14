#include "support/server_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace ovl::testsupport {
namespace {

ServerOptions FakeOptions() {
  ServerOptions options;
  options.binary = FAKE_OVLNFSD_PATH;
  options.start_timeout = std::chrono::seconds(10);
  return options;
}

std::unique_ptr<ServerProcess> MakeServer(ServerOptions options) {
  Result<std::unique_ptr<ServerProcess>> server = ServerProcess::Create(std::move(options));
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(server).value() : nullptr;
}

// The "fake-ovlnfsd: args ..." line of the latest start.
std::string LastArgs(const ServerProcess& server) {
  std::vector<std::string> lines = server.Lines();
  auto it = std::find_if(lines.rbegin(), lines.rend(), [](const std::string& l) {
    return l.rfind("fake-ovlnfsd: args ", 0) == 0;
  });
  return it == lines.rend() ? "" : it->substr(sizeof("fake-ovlnfsd: args ") - 1);
}

bool IsDir(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

TEST(ServerProcessTest, BuildsTreeAndCommandLine) {
  ServerOptions options = FakeOptions();
  options.lower_count = 2;
  options.export_path = "/export";
  options.squash = "none";
  options.handles = "volatile";
  options.no_index = true;
  options.threads = 3;
  auto server = MakeServer(options);
  ASSERT_NE(server, nullptr);
  ASSERT_EQ(server->lower_dirs().size(), 2u);
  for (const std::string& dir : server->lower_dirs()) EXPECT_TRUE(IsDir(dir)) << dir;
  EXPECT_TRUE(IsDir(server->upper_dir()));
  EXPECT_TRUE(IsDir(server->work_dir()));

  ASSERT_TRUE(server->Start().ok());
  const std::string& r = server->root();
  EXPECT_EQ(LastArgs(*server), "--lower " + r + "/lower0:" + r + "/lower1 --upper " + r +
                                   "/upper --work " + r +
                                   "/work --listen 127.0.0.1:0 --export-path /export --squash "
                                   "none --handles volatile --no-index --threads 3");
}

TEST(ServerProcessTest, StartReportsPortAndTerminateIsClean) {
  auto server = MakeServer(FakeOptions());
  ASSERT_NE(server, nullptr);
  EXPECT_FALSE(server->IsRunning());
  Status st = server->Start();
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_NE(server->port(), 0);
  EXPECT_TRUE(server->IsRunning());
  EXPECT_EQ(server->Start().code(), EBUSY);

  Result<int> exit_status = server->Terminate();
  ASSERT_TRUE(exit_status.ok()) << exit_status.status().ToString();
  EXPECT_EQ(*exit_status, 0);
  EXPECT_FALSE(server->IsRunning());
  EXPECT_EQ(server->port(), 0);
  EXPECT_EQ(server->Terminate().status().code(), ECHILD);
}

TEST(ServerProcessTest, RestartOnSamePortOrNewPort) {
  auto server = MakeServer(FakeOptions());
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->Start().ok());
  const uint16_t first = server->port();

  Status st = server->Restart(ServerProcess::PortChoice::kSame);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(server->port(), first);
  EXPECT_NE(LastArgs(*server).find("--listen 127.0.0.1:" + std::to_string(first)),
            std::string::npos);

  ASSERT_TRUE(server->Restart(ServerProcess::PortChoice::kNew).ok());
  EXPECT_NE(LastArgs(*server).find("--listen 127.0.0.1:0"), std::string::npos);
}

TEST(ServerProcessTest, KillThenRestartOnSamePort) {
  auto server = MakeServer(FakeOptions());
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->Start(40123).ok());
  EXPECT_EQ(server->port(), 40123);
  ASSERT_TRUE(server->Kill().ok());
  EXPECT_FALSE(server->IsRunning());
  EXPECT_EQ(server->last_port(), 40123);
  Status st = server->Restart(ServerProcess::PortChoice::kSame);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(server->port(), 40123);
}

TEST(ServerProcessTest, DropCachesAndCounters) {
  auto server = MakeServer(FakeOptions());
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->Start().ok());
  Status st = server->DropCaches();
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(server->DropCaches().ok());
  Result<std::map<std::string, uint64_t>> counters = server->Counters();
  ASSERT_TRUE(counters.ok()) << counters.status().ToString();
  EXPECT_EQ(*counters, (std::map<std::string, uint64_t>{{"decode_cache_hits", 7},
                                                        {"decode_index_lookups", 2}}));
}

TEST(ServerProcessTest, StartFailsWithOutputWhenServerExits) {
  ServerOptions options = FakeOptions();
  options.extra_args = {"--fake-fail"};
  auto server = MakeServer(options);
  ASSERT_NE(server, nullptr);
  Status st = server->Start();
  EXPECT_EQ(st.code(), ECHILD);
  EXPECT_NE(st.message().find("failing as asked"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("exit status 3"), std::string::npos) << st.message();
  EXPECT_FALSE(server->IsRunning());
}

TEST(ServerProcessTest, TerminateKillsAServerThatIgnoresSigterm) {
  ServerOptions options = FakeOptions();
  options.extra_args = {"--fake-ignore-term"};
  options.stop_timeout = std::chrono::milliseconds(300);
  auto server = MakeServer(options);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->Start().ok());
  EXPECT_EQ(server->Terminate().status().code(), ETIMEDOUT);
  EXPECT_FALSE(server->IsRunning());
}

TEST(ServerProcessTest, LogFileGetsTheOutput) {
  auto server = MakeServer(FakeOptions());
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->Start().ok());
  ASSERT_TRUE(server->Terminate().ok());
  Result<std::string> log = ReadFile(server->log_path());
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_NE(log->find("ovlnfsd: listening on 127.0.0.1:"), std::string::npos) << *log;
}

TEST(ServerProcessTest, DestructorKillsServerAndRemovesTree) {
  auto server = MakeServer(FakeOptions());
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->Start().ok());
  const std::string root = server->root();
  ASSERT_TRUE(IsDir(root));
  server.reset();
  EXPECT_FALSE(IsDir(root));
}

// The real server, once reference_server builds it: it starts, answers both signals and stops
// cleanly on SIGTERM.
TEST(ServerProcessTest, RealOvlnfsdLifecycle) {
#ifndef OVLNFSD_PATH
  GTEST_SKIP() << "no ovlnfsd target in this build (reference_server/ovlnfsd defines none yet)";
#else
  if (geteuid() != 0) GTEST_SKIP() << "ovlnfsd needs root (open_by_handle_at)";
  ServerOptions options;
  options.binary = OVLNFSD_PATH;
  auto server = MakeServer(options);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(WriteFile(server->lower_dirs()[0] + "/a", "hello").ok());
  Status st = server->Start();
  ASSERT_TRUE(st.ok()) << st.ToString();
  st = server->DropCaches();
  EXPECT_TRUE(st.ok()) << st.ToString();
  Result<std::map<std::string, uint64_t>> counters = server->Counters();
  EXPECT_TRUE(counters.ok()) << counters.status().ToString();
  Result<int> exit_status = server->Terminate();
  ASSERT_TRUE(exit_status.ok()) << exit_status.status().ToString();
  EXPECT_EQ(*exit_status, 0) << server->Tail(20);
#endif
}

}  // namespace
}  // namespace ovl::testsupport
