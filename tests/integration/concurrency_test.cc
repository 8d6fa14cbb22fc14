// Many clients at once (issue 2, "Robustness and security"): 8 threads, one connection each,
// run a bounded mix of namespace and data calls on their own files while all of them also
// copy up one shared lower file through disjoint ranges, and the server's caches are dropped
// over and over. Every result must be right.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "integration/overlay_fixture.h"

namespace ovl::integration {
namespace {

using nfsclient::kNfs3Ok;

constexpr int kClients = 8;
constexpr int kRounds = 40;
constexpr size_t kBlock = 4096;
constexpr int kMaxDrops = 500;
constexpr auto kDropInterval = std::chrono::milliseconds(10);

std::string Block(int client, int round) {
  return std::string(kBlock, static_cast<char>('A' + (client * 7 + round) % 26));
}

class ConcurrencyTest : public OverlayTest {
 protected:
  void SetUp() override {
    testsupport::ServerOptions options = BaseOptions();
    options.threads = 4;
    ASSERT_NO_FATAL_FAILURE(CreateServer(options));
    ASSERT_NO_FATAL_FAILURE(WriteLower("shared", std::string(kClients * kBlock, '.')));
    ASSERT_NO_FATAL_FAILURE(MkdirLower("dir"));
    for (int c = 0; c < kClients; ++c) {
      ASSERT_NO_FATAL_FAILURE(WriteLower("dir/lower" + std::to_string(c), "lower file"));
    }
    ASSERT_NO_FATAL_FAILURE(StartAndMount());
  }

  // One client's work; the first problem is returned as text ("" when all went right).
  std::string RunClient(int c) {
    NfsClient client;
    client.set_timeout(std::chrono::seconds(5));
    if (Status st = client.Connect(kHost, server_->port(), server_->port()); !st.ok()) {
      return "connect: " + st.ToString();
    }
    auto mnt = client.Mnt(kExportPath);
    if (!mnt.ok() || mnt->status != 0) return "MNT failed";
    const std::string root = mnt->handle;
    auto dir = client.Lookup(root, "dir");
    if (!dir.ok() || dir->status != kNfs3Ok) return "LOOKUP dir";
    const std::string me = "c" + std::to_string(c);

    // The shared lower file: each client writes its own block, racing the others' copy-up.
    auto shared = client.Lookup(root, "shared");
    if (!shared.ok() || shared->status != kNfs3Ok) return "LOOKUP shared";
    auto sw = client.Write(shared->handle, c * kBlock, Block(c, 0), nfsclient::kFileSync);
    if (!sw.ok() || sw->status != kNfs3Ok || sw->count != kBlock) return "WRITE shared";

    nfsclient::SetAttrs mode;
    mode.mode = 0644;
    auto made = client.Create(dir->handle, me, nfsclient::kGuarded, mode);
    if (!made.ok() || made->status != kNfs3Ok || !made->handle) return "CREATE " + me;
    const std::string fh = *made->handle;
    for (int r = 0; r < kRounds; ++r) {
      const std::string round = " round " + std::to_string(r);
      auto w = client.Write(fh, r * kBlock, Block(c, r),
                            r % 2 == 0 ? nfsclient::kUnstable : nfsclient::kFileSync);
      if (!w.ok() || w->status != kNfs3Ok || w->count != kBlock) return "WRITE" + round;
      auto rd = client.Read(fh, r * kBlock, kBlock);
      if (!rd.ok() || rd->status != kNfs3Ok || rd->data != Block(c, r)) return "READ" + round;
      auto attrs = client.Getattr(fh);
      if (!attrs.ok() || attrs->status != kNfs3Ok || attrs->attrs->size != (r + 1) * kBlock) {
        return "GETATTR size" + round;
      }
      // Rename back and forth; the handle must follow.
      const std::string from = r % 2 == 0 ? me : me + "-renamed";
      const std::string to = r % 2 == 0 ? me + "-renamed" : me;
      auto mv = client.Rename(dir->handle, from, dir->handle, to);
      if (!mv.ok() || mv->status != kNfs3Ok) return "RENAME" + round;
      auto found = client.Lookup(dir->handle, to);
      if (!found.ok() || found->status != kNfs3Ok || found->handle != fh) return "LOOKUP" + round;
      // Copy up and read this client's own lower file.
      auto lower = client.Lookup(dir->handle, "lower" + std::to_string(c));
      if (!lower.ok() || lower->status != kNfs3Ok) return "LOOKUP lower" + round;
      if (r == 0) {
        auto lw = client.Write(lower->handle, 0, "LOWER", nfsclient::kFileSync);
        if (!lw.ok() || lw->status != kNfs3Ok) return "WRITE lower";
      }
      auto lr = client.Read(lower->handle, 0, 100);
      if (!lr.ok() || lr->status != kNfs3Ok || lr->data != "LOWER file")
        return "READ lower" + round;
      // A short-lived file.
      const std::string tmp = me + "-tmp";
      auto t = client.Create(dir->handle, tmp, nfsclient::kGuarded, mode);
      if (!t.ok() || t->status != kNfs3Ok) return "CREATE tmp" + round;
      auto rm = client.Remove(dir->handle, tmp);
      if (!rm.ok() || rm->status != kNfs3Ok) return "REMOVE tmp" + round;
    }
    auto commit = client.Commit(fh, 0, 0);
    if (!commit.ok() || commit->status != kNfs3Ok) return "COMMIT";
    return "";
  }
};

TEST_F(ConcurrencyTest, EightClientsManyCallsEachAllCorrect) {
  std::vector<std::string> errors(kClients);
  std::vector<std::thread> threads;
  std::atomic<int> running{kClients};
  const auto start = std::chrono::steady_clock::now();
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([this, c, &errors, &running] {
      errors[c] = RunClient(c);
      --running;
    });
  }
  // Caches are dropped again and again under the load: decodes race the eviction.
  int drops = 0;
  for (; running > 0 && drops < kMaxDrops; ++drops) {
    if (Status st = server_->DropCaches(); !st.ok()) {
      ADD_FAILURE() << st.ToString();
      break;
    }
    std::this_thread::sleep_for(kDropInterval);
  }
  for (std::thread& t : threads) t.join();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  for (int c = 0; c < kClients; ++c) EXPECT_EQ(errors[c], "") << "client " << c;
  EXPECT_LT(elapsed, std::chrono::seconds(10));
  EXPECT_GT(drops, 1) << "the clients finished before any eviction";

  // Everything each client wrote is there, read through a single connection afterwards.
  std::string dir = Lookup(root_, "dir");
  for (int c = 0; c < kClients; ++c) {
    std::string want;
    for (int r = 0; r < kRounds; ++r) want += Block(c, r);
    EXPECT_EQ(ReadAll(Lookup(dir, "c" + std::to_string(c))), want) << "client " << c;
  }
  std::string shared;
  for (int c = 0; c < kClients; ++c) shared += Block(c, 0);
  EXPECT_EQ(ReadAll(Lookup(root_, "shared")), shared) << "a racing copy-up lost a write";
}

}  // namespace
}  // namespace ovl::integration
