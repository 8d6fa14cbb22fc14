#include "ovlnfsd/flags.h"

#include <gtest/gtest.h>

namespace ovl::ovlnfsd {
namespace {

std::vector<std::string> Required() {
  return {"--lower", "/l1:/l2", "--upper", "/u", "--work", "/w", "--listen", "127.0.0.1:2049"};
}

std::vector<std::string> With(std::vector<std::string> extra) {
  std::vector<std::string> args = Required();
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::string ErrorOf(const std::vector<std::string>& args) {
  Result<Flags> f = ParseFlags(args);
  EXPECT_FALSE(f.ok());
  if (f.ok()) return "";
  EXPECT_EQ(f.status().code(), EINVAL);
  return f.status().message();
}

TEST(FlagsTest, RequiredOnlyGivesDefaults) {
  Result<Flags> f = ParseFlags(Required());
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->lower_dirs, (std::vector<std::string>{"/l1", "/l2"}));
  EXPECT_EQ(f->upper_dir, "/u");
  EXPECT_EQ(f->work_dir, "/w");
  EXPECT_EQ(f->listen_address, "127.0.0.1");
  EXPECT_EQ(f->listen_port, 2049);
  EXPECT_EQ(f->export_options.path, "/export");
  ASSERT_EQ(f->export_options.allow.size(), 1u);
  EXPECT_EQ(f->export_options.allow[0].ToString(), "127.0.0.0/8");
  EXPECT_EQ(f->export_options.squash, nfs::Squash::kRoot);
  EXPECT_FALSE(f->export_options.read_only);
  EXPECT_FALSE(f->rpcbind);
  EXPECT_EQ(f->handle_mode, UnionOptions::HandleMode::kPersistent);
  EXPECT_TRUE(f->use_index);
  EXPECT_EQ(f->max_connections, 1024);
  EXPECT_EQ(f->max_per_address, 128);
  EXPECT_EQ(f->idle_timeout_s, 360);
  EXPECT_EQ(f->lease_s, 10);
  EXPECT_EQ(f->grace_s, -1);  // the lease time
  EXPECT_TRUE(f->plants.empty());
  EXPECT_FALSE(f->help);
}

TEST(FlagsTest, AllOptions) {
  Result<Flags> f = ParseFlags(With({"--export-path=/data",
                                     "--allow",
                                     "10.0.0.0/8",
                                     "--allow",
                                     "192.168.1.1",
                                     "--read-only",
                                     "--squash",
                                     "all",
                                     "--rpcbind",
                                     "--handles",
                                     "volatile",
                                     "--no-index",
                                     "--threads=8",
                                     "--max-connections",
                                     "50",
                                     "--max-per-address=5",
                                     "--idle-timeout",
                                     "30",
                                     "--plant",
                                     "handle-tag-unchecked",
                                     "--lease-seconds=30",
                                     "--grace-seconds",
                                     "0"}));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->export_options.path, "/data");
  ASSERT_EQ(f->export_options.allow.size(), 2u);
  EXPECT_EQ(f->export_options.allow[0].ToString(), "10.0.0.0/8");
  EXPECT_EQ(f->export_options.allow[1].ToString(), "192.168.1.1/32");
  EXPECT_TRUE(f->export_options.read_only);
  EXPECT_EQ(f->export_options.squash, nfs::Squash::kAll);
  EXPECT_TRUE(f->rpcbind);
  EXPECT_EQ(f->handle_mode, UnionOptions::HandleMode::kVolatile);
  EXPECT_FALSE(f->use_index);
  EXPECT_EQ(f->threads, 8);
  EXPECT_EQ(f->max_connections, 50);
  EXPECT_EQ(f->max_per_address, 5);
  EXPECT_EQ(f->idle_timeout_s, 30);
  EXPECT_TRUE(f->plants.Has(Plant::kHandleTagUnchecked));
  EXPECT_EQ(f->lease_s, 30);
  EXPECT_EQ(f->grace_s, 0);
}

TEST(FlagsTest, PortZeroAndEqualsForm) {
  Result<Flags> f =
      ParseFlags({"--lower=/l", "--upper=/u", "--work=/w", "--listen=0.0.0.0:0", "--squash=none"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->listen_port, 0);
  EXPECT_EQ(f->lower_dirs, (std::vector<std::string>{"/l"}));
  EXPECT_EQ(f->export_options.squash, nfs::Squash::kNone);
}

TEST(FlagsTest, ErrorsNameTheArgument) {
  EXPECT_EQ(ErrorOf({"--lower", "/l", "--upper", "/u", "--work", "/w", "--listen", "x"}),
            "--listen: expected ADDR:PORT, got 'x'");
  EXPECT_EQ(ErrorOf(With({"--listen", "127.0.0.1:65536"})),
            "--listen: expected ADDR:PORT, got '127.0.0.1:65536'");
  EXPECT_EQ(ErrorOf(With({"--listen", "localhost:1"})),
            "--listen: expected ADDR:PORT, got 'localhost:1'");
  EXPECT_EQ(ErrorOf(With({"--squash", "some"})), "--squash: expected root|all|none, got 'some'");
  EXPECT_EQ(ErrorOf(With({"--allow", "10.0.0.0/40"})),
            "--allow: expected A.B.C.D[/N], got '10.0.0.0/40'");
  EXPECT_EQ(ErrorOf(With({"--handles", "x"})), "--handles: expected persistent|volatile, got 'x'");
  EXPECT_EQ(ErrorOf(With({"--threads", "0"})),
            "--threads: expected a thread count from 1 to 1024, got '0'");
  EXPECT_EQ(ErrorOf(With({"--max-connections", "0"})),
            "--max-connections: expected a connection count from 1 to 1000000, got '0'");
  EXPECT_EQ(ErrorOf(With({"--idle-timeout", "1m"})),
            "--idle-timeout: expected seconds from 1 to 86400, got '1m'");
  EXPECT_EQ(ErrorOf(With({"--lease-seconds", "0"})),
            "--lease-seconds: expected seconds from 1 to 3600, got '0'");
  EXPECT_EQ(ErrorOf(With({"--grace-seconds", "-1"})),
            "--grace-seconds: expected seconds from 0 to 3600, got '-1'");
  EXPECT_EQ(ErrorOf(With({"--export-path", "rel"})),
            "--export-path: expected an absolute path, got 'rel'");
  EXPECT_EQ(ErrorOf(With({"--lower", "/a::/b"})), "--lower: expected DIR[:DIR...], got '/a::/b'");
  EXPECT_EQ(ErrorOf(With({"--plant", "typo"})),
            "--plant: expected a planted bug (docs/planted-bugs.md), got 'typo'");
  EXPECT_EQ(ErrorOf(With({"--bogus"})), "--bogus: unknown argument");
  EXPECT_EQ(ErrorOf(With({"--bogus=1"})), "--bogus: unknown argument");
  EXPECT_EQ(ErrorOf(With({"stray"})), "stray: unknown argument");
  EXPECT_EQ(ErrorOf(With({"--threads"})), "--threads: missing value");
  EXPECT_EQ(ErrorOf({"--upper", "/u", "--work", "/w", "--listen", "127.0.0.1:1"}),
            "--lower: required");
  EXPECT_EQ(ErrorOf({"--lower", "/l", "--upper", "/u", "--listen", "127.0.0.1:1"}),
            "--work: required");
  EXPECT_EQ(ErrorOf({"--lower", "/l", "--upper", "/u", "--work", "/w"}), "--listen: required");
}

TEST(FlagsTest, WithoutUpperTheExportIsLowerOnlyAndReadOnly) {
  Result<Flags> f = ParseFlags({"--lower", "/l1:/l2", "--work", "/w", "--listen", "127.0.0.1:1"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_TRUE(f->upper_dir.empty());
  EXPECT_TRUE(f->export_options.read_only);
  f = ParseFlags(Required());
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_FALSE(f->export_options.read_only);
}

TEST(FlagsTest, Help) {
  Result<Flags> f = ParseFlags({"--help"});
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->help);
}

}  // namespace
}  // namespace ovl::ovlnfsd
