// scripts/nightly end to end on the local backend: real `harness run`s of topologies/local-quick
// into a temporary results root, each night diffed against the last good one; a planted handle
// bug is a regression; two nightlies never overlap. Each night's report.html is loaded in headless
// Chromium to check that its charts drew. Without root the reference server is UNSUPPORTED, so the
// runs still happen but the planted-bug test is skipped.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "proc/process.h"
#include "report/report_test_util.h"

namespace ovl {
namespace {

namespace stdfs = std::filesystem;
using proc::Exited;
using proc::Process;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kNightly = std::string(SOURCE_DIR) + "/scripts/nightly";
const std::string kLocalQuick = std::string(SOURCE_DIR) + "/topologies/local-quick.yaml";

class NightlyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (stdfs::temp_directory_path() / "ovl_nightly.XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    results_ = dir_ + "/results";
  }
  void TearDown() override {
    std::error_code ec;
    stdfs::remove_all(dir_, ec);
  }

  // Runs scripts/nightly local-quick results_ with HARNESS set (no build) and `env`; returns its
  // exit code, its output in log_.
  int Nightly(const std::vector<std::string>& env = {}) {
    std::vector<std::string> argv = {"env", "HARNESS=" + std::string(HARNESS_PATH)};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.insert(argv.end(), {kNightly, kLocalQuick, results_});
    const std::string log = dir_ + "/nightly" + std::to_string(++nights_) + ".log";
    auto p = Process::Start({argv, log});
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (!p.ok()) return -1;
    auto st = (*p)->Wait(std::chrono::seconds(600));
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    log_ = (*p)->Tail(200);
    return st.ok() && std::holds_alternative<Exited>(*st) ? std::get<Exited>(*st).code : -1;
  }
  // The run directory results_/latest points at.
  std::string Latest() { return stdfs::read_symlink(results_ + "/latest").string(); }

  // report.html of `run` in headless Chromium: every chart it announces drew.
  void ExpectChartsDraw(const std::string& run) {
    ASSERT_TRUE(stdfs::exists(run + "/report.html"));
    const std::string why = report::testing::ChromiumUnavailable(dir_);
    if (!why.empty()) {
      std::cout << "not loading report.html: headless chromium cannot run here: " << why << "\n";
      return;
    }
    auto dom = report::testing::DumpDom(run + "/report.html", dir_);
    ASSERT_TRUE(dom.ok()) << dom.status().ToString();
    const int expected = report::testing::IntAttribute(*dom, "data-charts-expected");
    EXPECT_GE(expected, 2) << "the scenario phases of each server have ops/s and MB/s charts";
    EXPECT_EQ(report::testing::IntAttribute(*dom, "data-charts-drawn"), expected);
    EXPECT_EQ(dom->find("data-chart-error=\""), std::string::npos);
  }

  std::string dir_, results_, log_;
  int nights_ = 0;
};

TEST_F(NightlyTest, SecondNightDiffsAgainstTheFirst) {
  ASSERT_EQ(Nightly(), 0) << log_;
  EXPECT_THAT(log_, HasSubstr("no earlier good run of local-quick"));
  const std::string first = Latest();
  EXPECT_TRUE(stdfs::exists(results_ + "/junit.xml"));
  ExpectChartsDraw(first);

  ASSERT_EQ(Nightly(), 0) << log_;
  const std::string second = Latest();
  ASSERT_NE(first, second);
  EXPECT_THAT(log_, HasSubstr("A: " + first + "\n"));
  EXPECT_THAT(log_, HasSubstr("B: " + second + "\n"));
  EXPECT_THAT(log_, HasSubstr("Result: no regression"));
  EXPECT_THAT(log_, HasSubstr("junit: " + results_ + "/junit.xml"));
  EXPECT_TRUE(stdfs::exists(stdfs::path(second).parent_path() / "diff.txt"));
  std::ifstream junit(results_ + "/junit.xml");
  const std::string xml((std::istreambuf_iterator<char>(junit)), {});
  EXPECT_THAT(xml, HasSubstr("<testsuites name=\"local-quick\""));
}

TEST_F(NightlyTest, PlantedBugIsARegressionAndTheNextNightDiffsAgainstTheLastGood) {
  if (geteuid() != 0) GTEST_SKIP() << "the reference server needs root";
  ASSERT_EQ(Nightly(), 0) << log_;
  const std::string good = Latest();
  EXPECT_EQ(Nightly({"OVL_OVLNFSD=" + std::string(PLANTED_BUG_OVLNFSD),
                     "OVL_REAL_OVLNFSD=" + std::string(OVLNFSD_PATH)}),
            1)
      << log_;
  const std::string bad = Latest();
  EXPECT_THAT(log_, HasSubstr("A: " + good + "\n"));
  EXPECT_THAT(log_, HasSubstr("New failures ("));
  EXPECT_THAT(log_, Not(HasSubstr("New failures (0)")));
  EXPECT_THAT(log_, HasSubstr("nightly: REGRESSION"));
  ExpectChartsDraw(bad);

  // The failing night is not a baseline: the next one is compared with the last good one.
  ASSERT_EQ(Nightly(), 0) << log_;
  EXPECT_THAT(log_, HasSubstr("A: " + good + "\n"));
  EXPECT_THAT(log_, Not(HasSubstr(bad)));
}

TEST_F(NightlyTest, SecondNightlyOnTheSameRootDoesNotStart) {
  stdfs::create_directories(results_);
  const int fd = open((results_ + "/.nightly.lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_EX | LOCK_NB), 0);
  EXPECT_EQ(Nightly(), 3) << log_;
  EXPECT_THAT(log_, HasSubstr("another nightly holds"));
  EXPECT_FALSE(stdfs::exists(results_ + "/latest"));
  close(fd);
}

}  // namespace
}  // namespace ovl
