#include "backend/loopback.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <fstream>

#include "base/fd.h"
#include "base/temp_dir_for_test.h"

namespace ovl::backend {
namespace {

// A unix socket is only good while someone listens on it: rpcbind's stays on disk after rpcbind
// is gone, and a daemon registering through it then fails obscurely.
TEST(UnixSocketAcceptsTest, OnlyAListeningSocketAccepts) {
  TempDir dir;
  const std::string path = dir.path() + "/sock";
  EXPECT_FALSE(UnixSocketAccepts(path));  // missing
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  {
    Fd s(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_EQ(listen(s.get(), 1), 0);
    EXPECT_TRUE(UnixSocketAccepts(path));
  }
  EXPECT_FALSE(UnixSocketAccepts(path));  // still on disk, nobody listening
  std::ofstream(dir.path() + "/file") << "x";
  EXPECT_FALSE(UnixSocketAccepts(dir.path() + "/file"));
}

}  // namespace
}  // namespace ovl::backend
