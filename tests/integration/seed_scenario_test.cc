// The seed scenario of docs/design.md, "Scenario catalogue" (seed-unlink-reboot) end to end, and
// the negative controls failing it: they prove that a weaker handle scheme is caught by the same
// checks.
//
//   lower: a, hard link b. Client holds H(a). Remove a. Reboot.
//   H decodes and reads the original data. Then remove b: after E, H is STALE.
#include <string>

#include "integration/overlay_fixture.h"

namespace ovl::integration {
namespace {

using nfsclient::kNfs3ErrStale;
using nfsclient::kNfs3Ok;

constexpr char kSeedData[] = "seed data, written to the lower layer before the server started\n";

class SeedScenarioTest : public OverlayTest {
 protected:
  // Fills lower0 with a, b (a hard link of a) and an unrelated file, and starts `options`.
  void StartSeed(testsupport::ServerOptions options) {
    ASSERT_NO_FATAL_FAILURE(CreateServer(std::move(options)));
    ASSERT_NO_FATAL_FAILURE(WriteLower("a", kSeedData));
    ASSERT_EQ(link(Lower("a").c_str(), Lower("b").c_str()), 0);
    ASSERT_NO_FATAL_FAILURE(WriteLower("probe", "probe"));
    ASSERT_NO_FATAL_FAILURE(StartAndMount());
    held_ = Lookup(root_, "a");
    ASSERT_FALSE(held_.empty());
  }

  void RemoveName(const std::string& name) {
    auto res = client_.Remove(root_, name);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    ASSERT_NFS(res->status, kNfs3Ok) << "REMOVE " << name;
  }

  std::string held_;
};

TEST_F(SeedScenarioTest, SeedUnlinkReboot) {
  ASSERT_NO_FATAL_FAILURE(StartSeed(BaseOptions()));
  ASSERT_NO_FATAL_FAILURE(RemoveName("a"));
  ASSERT_NO_FATAL_FAILURE(Inject(Fault::kReboot, held_));
  EXPECT_EQ(ReadAll(held_), kSeedData);
  EXPECT_EQ(Lookup(root_, "b"), held_) << "the remaining name has the held handle";
  EXPECT_EQ(Getattr(held_).nlink, 1u);

  ASSERT_NO_FATAL_FAILURE(RemoveName("b"));
  EXPECT_NFS(GetattrStatus(held_), kNfs3ErrStale);
  const std::string probe = Lookup(root_, "probe");
  for (Fault fault : kAllFaults) {
    SCOPED_TRACE(FaultName(fault));
    ASSERT_NO_FATAL_FAILURE(Inject(fault, probe));
    EXPECT_NFS(GetattrStatus(held_), kNfs3ErrStale);
    auto read = client_.Read(held_, 0, 4096);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_NFS(read->status, kNfs3ErrStale);
    EXPECT_EQ(read->data, "") << "a stale handle returned data";
  }
}

// The same scenario after a crash instead of a clean reboot.
TEST_F(SeedScenarioTest, SeedUnlinkCrash) {
  ASSERT_NO_FATAL_FAILURE(StartSeed(BaseOptions()));
  ASSERT_NO_FATAL_FAILURE(RemoveName("a"));
  ASSERT_NO_FATAL_FAILURE(Inject(Fault::kCrash, held_));
  EXPECT_EQ(ReadAll(held_), kSeedData);
  ASSERT_NO_FATAL_FAILURE(RemoveName("b"));
  ASSERT_NO_FATAL_FAILURE(Inject(Fault::kCrash, Lookup(root_, "probe")));
  EXPECT_NFS(GetattrStatus(held_), kNfs3ErrStale);
}

// Negative control --handles volatile: handles carry a per-start generation, so the seed
// scenario's first check (H decodes after the reboot) must fail, with STALE.
TEST_F(SeedScenarioTest, VolatileHandlesControlFailsAfterReboot) {
  testsupport::ServerOptions options = BaseOptions();
  options.handles = "volatile";
  ASSERT_NO_FATAL_FAILURE(StartSeed(options));
  EXPECT_EQ(ReadAll(held_), kSeedData) << "volatile handles work within one server start";
  ASSERT_NO_FATAL_FAILURE(RemoveName("a"));
  ASSERT_NO_FATAL_FAILURE(Inject(Fault::kReboot, Lookup(root_, "b")));
  EXPECT_NFS(GetattrStatus(held_), kNfs3ErrStale) << "the negative control did not fail";
  EXPECT_NE(Lookup(root_, "b"), held_) << "a new start hands out a new handle";
}

// Negative control --no-index: decode only through an in-memory map, so the held handle must be
// STALE after SIGUSR1 eviction even though the file is untouched.
TEST_F(SeedScenarioTest, NoIndexControlFailsAfterEviction) {
  testsupport::ServerOptions options = BaseOptions();
  options.no_index = true;
  ASSERT_NO_FATAL_FAILURE(StartSeed(options));
  EXPECT_EQ(ReadAll(held_), kSeedData) << "the in-memory map works until eviction";
  ASSERT_OK(server_->DropCaches());
  EXPECT_NFS(GetattrStatus(held_), kNfs3ErrStale) << "the negative control did not fail";
}

// --no-index also loses every handle on a restart.
TEST_F(SeedScenarioTest, NoIndexControlFailsAfterReboot) {
  testsupport::ServerOptions options = BaseOptions();
  options.no_index = true;
  ASSERT_NO_FATAL_FAILURE(StartSeed(options));
  ASSERT_OK(server_->Terminate().status());
  ASSERT_OK(server_->Start());
  ASSERT_NO_FATAL_FAILURE(Mount());
  EXPECT_NFS(GetattrStatus(held_), kNfs3ErrStale) << "the negative control did not fail";
}

}  // namespace
}  // namespace ovl::integration
