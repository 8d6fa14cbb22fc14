// The ctest fixture "rpcbind": starts rpcbind for the cases that need one running and cannot
// start it themselves (reference_server/rpc/rpcbind_test.cc: reference_server does not link this
// test support). A fresh host runs no rpcbind, and those cases used to be skipped there.
#include <gtest/gtest.h>

#include "backend/local_ganesha.h"

namespace ovl::testsupport {
namespace {

TEST(RpcbindUpTest, RpcbindAnswersOnLoopback) {
  Status st = backend::EnsureRpcbind();
  if (st.code() == ENOENT) GTEST_SKIP() << st.message();
  ASSERT_TRUE(st.ok()) << st.ToString();
}

}  // namespace
}  // namespace ovl::testsupport
