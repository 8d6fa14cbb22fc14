#include "rpc/rpcbind.h"

#include <gtest/gtest.h>

namespace ovl::rpc {
namespace {

// A program number from the range RFC 5531 leaves to local use, so no real service is touched.
constexpr uint32_t kProg = 0x2f0f0f01;

class RpcbindTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto self = RpcbindGetPort(kPmapProgram, kPmapVersion);
    if (!self.ok()) {
      // ctest starts it first (fixture "rpcbind"): only a host without rpcbind installed gets here.
      GTEST_SKIP() << "no rpcbind on 127.0.0.1:111 (start it with `rpcbind -w`): "
                   << self.status().ToString();
    }
  }
  void TearDown() override { RpcbindUnregister(kProg, 1).IgnoreError(); }
};

TEST_F(RpcbindTest, RegisterQueryUnregister) {
  ASSERT_TRUE(RpcbindRegister(kProg, 1, 40123).ok());
  auto port = RpcbindGetPort(kProg, 1);
  ASSERT_TRUE(port.ok()) << port.status().ToString();
  EXPECT_EQ(*port, 40123);

  ASSERT_TRUE(RpcbindUnregister(kProg, 1).ok());
  port = RpcbindGetPort(kProg, 1);
  EXPECT_EQ(port.status().code(), ENOENT);
  // Unregistering what is not registered is fine.
  EXPECT_TRUE(RpcbindUnregister(kProg, 1).ok());
}

TEST_F(RpcbindTest, RegisterReplacesAStaleMapping) {
  ASSERT_TRUE(RpcbindRegister(kProg, 1, 40123).ok());
  ASSERT_TRUE(RpcbindRegister(kProg, 1, 40124).ok());
  auto port = RpcbindGetPort(kProg, 1);
  ASSERT_TRUE(port.ok());
  EXPECT_EQ(*port, 40124);
}

TEST_F(RpcbindTest, PortmapperFindsItself) {
  auto port = RpcbindGetPort(kPmapProgram, kPmapVersion);
  ASSERT_TRUE(port.ok());
  EXPECT_EQ(*port, kPmapPort);
}

}  // namespace
}  // namespace ovl::rpc
