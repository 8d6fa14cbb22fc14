#include "module_deps.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace ovl::deps {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

const fs::path kSource = OVL_SOURCE_DIR;

std::string ReadFile(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

AllowList Shipped() {
  return ParseAllowList(ReadFile(kSource / "tests/deps/modules.txt"));
}

TEST(ModuleDepsTest, TheListParsesAndHasNoCycle) {
  AllowList allow = Shipped();
  EXPECT_THAT(allow.errors, IsEmpty());
  EXPECT_THAT(FindCycles(allow), IsEmpty());
}

TEST(ModuleDepsTest, ReferenceServerKnowsNothingOfHarness) {
  for (const auto& [module, deps] : Shipped().deps) {
    if (module.rfind("reference_server/", 0) != 0 && module != "base") continue;
    for (const std::string& d : deps)
      EXPECT_EQ(d.rfind("harness/", 0), std::string::npos) << module;
  }
}

TEST(ModuleDepsTest, EveryIncludeOfTheTreeIsAllowed) {
  EXPECT_THAT(CheckTree(kSource, Shipped()), IsEmpty());
}

// Negative controls: a planted tree with a disallowed include and a list with a cycle.
class PlantedTree : public ::testing::Test {
 protected:
  void SetUp() override {
    // One tree per test: ctest runs the tests of this fixture as parallel processes.
    root_ = fs::path(::testing::TempDir()) /
            ("module_deps_planted_" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
    Write("base/status.h", "#pragma once\n");
    Write("harness/ops/ops.h", "#include \"base/status.h\"\n");
    Write("harness/model/model.h", "#include \"ops/ops.h\"\n#include <vector>\n");
    Write("harness/model/model_test.cc", "#include \"runner/runner.h\"\n");
    Write("harness/runner/runner.h", "#include \"model/model.h\"\n");
    Write("reference_server/union/union.h", "#include \"base/status.h\"\n");
  }
  void TearDown() override { fs::remove_all(root_); }
  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text;
  }
  fs::path root_;
};

constexpr char kList[] =
    "base:\nreference_server/union: base\nharness/ops: base\nharness/model: base harness/ops\n"
    "harness/runner: base harness/ops harness/model\n";

TEST_F(PlantedTree, AllowedIncludesPass) {
  Write("harness/model/model_test.cc", "#include \"model/model.h\"\n");
  EXPECT_THAT(CheckTree(root_, ParseAllowList(kList)), IsEmpty());
}

TEST_F(PlantedTree, AnIncludeUpwardsIsReported) {
  Write("reference_server/union/union.cc", "#include \"ops/ops.h\"\n");
  EXPECT_THAT(
      CheckTree(root_, ParseAllowList(kList)),
      ElementsAre("harness/model/model_test.cc: includes \"runner/runner.h\" (module "
                  "harness/runner), not allowed for module harness/model (tests)",
                  "reference_server/union/union.cc: includes \"ops/ops.h\" (module harness/ops), "
                  "not allowed for module reference_server/union"));
  // A test extra allows it for tests only.
  EXPECT_THAT(CheckTree(root_, ParseAllowList(std::string(kList) +
                                              "harness/model [test]: harness/runner\n")),
              ElementsAre(::testing::HasSubstr("reference_server/union/union.cc")));
}

TEST_F(PlantedTree, AnUnlistedModuleIsReported) {
  Write("harness/newmod/new.cc", "#include \"base/status.h\"\n");
  EXPECT_THAT(CheckTree(root_, ParseAllowList(kList)),
              ::testing::Contains("harness/newmod/new.cc: module harness/newmod is not in "
                                  "modules.txt"));
}

TEST(ModuleDepsTest, ACycleIsFound) {
  AllowList allow = ParseAllowList("a: b\nb: c\nc: a\nd: a\n");
  EXPECT_THAT(FindCycles(allow), ElementsAre("a -> b -> c -> a"));
  EXPECT_THAT(ParseAllowList("a b c: d\n").errors, ElementsAre("modules.txt:1: expected "
                                                               "'<module>: <deps>'"));
}

}  // namespace
}  // namespace ovl::deps
