// report.html in a real browser: headless Chromium (Debian's chromium) loads a page rendered from
// a synthetic run with the real Chart.js, and the page itself reports how many charts drew.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "report/html_report.h"
#include "report/report_test_util.h"

namespace ovl::report {
namespace {

class ReportBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "ovl_report_browser.XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    const std::string why = testing::ChromiumUnavailable(dir_);
    if (!why.empty()) GTEST_SKIP() << "headless chromium cannot run here: " << why;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
};

TEST_F(ReportBrowserTest, EveryChartOfASyntheticRunDraws) {
  const ChartJs chartjs = LoadChartJs();
  ASSERT_TRUE(chartjs.note.empty()) << chartjs.note << " (scripts/install-deps installs it)";
  const std::string run = dir_ + "/run";
  ASSERT_TRUE(testing::WriteRun(run, testing::FullResults()).ok());
  std::string note;
  auto html = RenderRunDirectory(run, &note);
  ASSERT_TRUE(html.ok()) << html.status().ToString();
  const std::string page = run + "/report.html";
  std::ofstream(page) << *html;

  auto dom = testing::DumpDom(page, dir_);
  ASSERT_TRUE(dom.ok()) << dom.status().ToString();
  EXPECT_EQ(dom->find("data-chart-error=\""), std::string::npos) << *dom;
  EXPECT_EQ(testing::IntAttribute(*dom, "data-charts-expected"), 7);
  EXPECT_EQ(testing::IntAttribute(*dom, "data-charts-drawn"), 7);
  // The hostile strings stayed text: no element came out of them.
  EXPECT_EQ(dom->find("<img src=\"x\""), std::string::npos);
  EXPECT_EQ(dom->find("<b>bold</b>"), std::string::npos);

  const std::string png = dir_ + "/report.png";
  ASSERT_TRUE(testing::Screenshot(page, png, dir_).ok());
  EXPECT_GT(std::filesystem::file_size(png), 50000u) << "a blank page compresses to far less";
}

TEST_F(ReportBrowserTest, PageWithoutChartJsSaysSoInsteadOfBreaking) {
  const std::string run = dir_ + "/run";
  ASSERT_TRUE(testing::WriteRun(run, testing::FullResults()).ok());
  auto files = LoadRunFiles(run);
  ASSERT_TRUE(files.ok());
  const std::string page = run + "/report.html";
  std::ofstream(page) << RenderHtmlReport(*files, {"", "Chart.js not found at /nowhere"});
  auto dom = testing::DumpDom(page, dir_);
  ASSERT_TRUE(dom.ok()) << dom.status().ToString();
  EXPECT_EQ(testing::IntAttribute(*dom, "data-charts-drawn"), 0);
  EXPECT_NE(dom->find("data-chart-error=\"Chart.js is not in the page\""), std::string::npos);
}

}  // namespace
}  // namespace ovl::report
