// crash-during-copyup (docs/design.md, "Scenario catalogue"), over the wire: the server is killed
// while a WRITE copies a large lower file up. After a restart the held handle is valid and the file
// is wholly old or wholly new (never partial), the lower file is unchanged, and the work dir holds
// no leftovers of the interrupted copy.
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "integration/overlay_fixture.h"

namespace ovl::integration {
namespace {

constexpr size_t kFileSize = 16 << 20;
constexpr uint64_t kWriteOffset = kFileSize / 2;
constexpr char kOldByte = 'o';
// Kill delays after the WRITE is sent, from before the copy starts to after it ended.
constexpr int kDelaysMs[] = {0, 2, 5, 10, 20, 40, 80};

class CrashCopyUpTest : public OverlayTest, public ::testing::WithParamInterface<int> {};

TEST_P(CrashCopyUpTest, KillDuringCopyUpLeavesOldOrNewFile) {
  ASSERT_NO_FATAL_FAILURE(CreateServer());
  ASSERT_NO_FATAL_FAILURE(WriteLower("big", std::string(kFileSize, kOldByte)));
  const std::map<std::string, std::string> lower_before = TreeSnapshot(server_->lower_dirs()[0]);
  ASSERT_NO_FATAL_FAILURE(StartAndMount());
  const std::string held = Lookup(root_, "big");
  const uint64_t fileid = Getattr(held).fileid;
  ASSERT_FALSE(HasFailure());

  const std::string update(4096, 'N');
  const uint16_t port = server_->port();
  // The writer has its own connection; its call is cut off by the kill or completes first.
  std::thread writer([&] {
    NfsClient client;
    client.set_timeout(std::chrono::seconds(5));
    if (client.Connect(kHost, port, port).ok()) {
      client.Write(held, kWriteOffset, update, nfsclient::kFileSync).status().IgnoreError();
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(GetParam()));
  Status killed = server_->Kill();
  writer.join();
  ASSERT_OK(killed);
  ASSERT_OK(server_->Start());
  ASSERT_NO_FATAL_FAILURE(Mount());
  // Startup cleared the scratch area of an interrupted copy.
  const std::map<std::string, std::string> scratch = TreeSnapshot(server_->work_dir() + "/work");
  EXPECT_EQ(scratch.size(), 1u) << "leftovers in work/work, e.g. " << scratch.rbegin()->first;

  Fattr attrs = Getattr(held);
  EXPECT_EQ(attrs.fileid, fileid);
  EXPECT_EQ(attrs.size, kFileSize);
  const std::string data = ReadAll(held);
  std::string updated(kFileSize, kOldByte);
  updated.replace(kWriteOffset, update.size(), update);
  const bool old_file = data == std::string(kFileSize, kOldByte);
  EXPECT_TRUE(old_file || data == updated) << "the file is neither the old nor the new one";
  EXPECT_EQ(LookupPath("big"), held);
  EXPECT_EQ(TreeSnapshot(server_->lower_dirs()[0]), lower_before) << "the lower file changed";

  // The copy-up can be done again.
  Write(held, kWriteOffset, update);
  EXPECT_TRUE(ReadAll(held) == updated);
}

INSTANTIATE_TEST_SUITE_P(DelaysMs, CrashCopyUpTest, ::testing::ValuesIn(kDelaysMs));

}  // namespace
}  // namespace ovl::integration
