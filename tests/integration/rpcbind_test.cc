// --rpcbind (issue 2): ovlnfsd registers NFS v3 and MOUNT v3 on its TCP port with the local
// rpcbind, so a client that asks the portmapper finds it, and withdraws both on SIGTERM. A crash
// leaves the registrations behind; the next start replaces them.
//
// These cases change machine-wide rpcbind state and carry the ctest RESOURCE_LOCK "rpcbind".
#include "rpc/rpcbind.h"

#include <sstream>
#include <string>

#include "backend/local_ganesha.h"
#include "integration/overlay_fixture.h"
#include "support/loopback.h"

namespace ovl::integration {
namespace {

constexpr auto kToolTimeout = std::chrono::seconds(10);

// The `rpcinfo -p 127.0.0.1` line of program `prog` version `vers` over tcp, or "".
std::string RpcinfoLine(uint32_t prog, uint32_t vers) {
  Result<ToolRun> run = RunTool({"rpcinfo", "-p", "127.0.0.1"}, kToolTimeout);
  if (!run.ok() || run->exit_status != 0) {
    ADD_FAILURE() << "rpcinfo -p: " << (run.ok() ? run->output : run.status().ToString());
    return "";
  }
  std::istringstream lines(run->output);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string p, v, proto;
    if (words >> p >> v >> proto && p == std::to_string(prog) && v == std::to_string(vers) &&
        proto == "tcp") {
      return line;
    }
  }
  return "";
}

class RpcbindTest : public OverlayTest {
 protected:
  void SetUp() override {
    Status st = backend::EnsureRpcbind();
    if (st.code() == ENOENT) GTEST_SKIP() << st.message();
    ASSERT_TRUE(st.ok()) << st.ToString();
    testsupport::ServerOptions options = BaseOptions();
    options.extra_args = {"--rpcbind"};
    ASSERT_NO_FATAL_FAILURE(CreateServer(options));
    ASSERT_NO_FATAL_FAILURE(WriteLower("file", "found through the portmapper\n"));
    ASSERT_OK(server_->Start());
  }

  void ExpectRegistered(uint16_t port) {
    for (uint32_t prog : {kNfsProgram, kMountProgram}) {
      Result<uint16_t> got = rpc::RpcbindGetPort(prog, 3);
      ASSERT_TRUE(got.ok()) << prog << ": " << got.status().ToString();
      EXPECT_EQ(*got, port) << prog;
      const std::string line = RpcinfoLine(prog, 3);
      EXPECT_NE(line.find(" " + std::to_string(port)), std::string::npos)
          << "rpcinfo -p shows " << prog << " v3 as '" << line << "'";
    }
  }

  void ExpectUnregistered() {
    for (uint32_t prog : {kNfsProgram, kMountProgram}) {
      EXPECT_EQ(rpc::RpcbindGetPort(prog, 3).status().code(), ENOENT) << prog;
      EXPECT_EQ(RpcinfoLine(prog, 3), "") << prog;
    }
  }
};

TEST_F(RpcbindTest, RegistersBothProgramsAndWithdrawsThemOnSigterm) {
  ASSERT_NO_FATAL_FAILURE(ExpectRegistered(server_->port()));
  // A client that knows no ports finds the server through the portmapper.
  Result<ToolRun> cat = RunTool({"nfs-cat", "nfs://127.0.0.1/export/file?version=3"}, kToolTimeout);
  ASSERT_TRUE(cat.ok()) << cat.status().ToString();
  EXPECT_EQ(cat->exit_status, 0) << cat->output;
  EXPECT_EQ(cat->output, "found through the portmapper\n");

  ASSERT_RESULT(status, server_->Terminate());
  EXPECT_EQ(*status, 0);
  ExpectUnregistered();
}

TEST_F(RpcbindTest, RestartAfterCrashReplacesStaleRegistrations) {
  const uint16_t first = server_->port();
  ASSERT_OK(server_->Kill());
  // A crash cannot withdraw anything: the old port stays registered.
  ASSERT_NO_FATAL_FAILURE(ExpectRegistered(first));
  ASSERT_RESULT(ports, testsupport::PickFreeLoopbackPorts(2));
  ASSERT_OK(server_->Start((*ports)[0] != first ? (*ports)[0] : (*ports)[1]));
  ASSERT_NO_FATAL_FAILURE(ExpectRegistered(server_->port()));
  ASSERT_RESULT(status, server_->Terminate());
  EXPECT_EQ(*status, 0);
  ExpectUnregistered();
}

}  // namespace
}  // namespace ovl::integration
