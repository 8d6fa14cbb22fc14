#include "topology/yaml_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ovl::topology {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;

TEST(ParseDurationTest, AcceptsUnitsAndSums) {
  EXPECT_EQ(ParseDuration("90s"), milliseconds(90'000));
  EXPECT_EQ(ParseDuration("1m30s"), milliseconds(90'000));
  EXPECT_EQ(ParseDuration("500ms"), milliseconds(500));
  EXPECT_EQ(ParseDuration("2h"), milliseconds(7'200'000));
  EXPECT_EQ(ParseDuration("1s250ms"), milliseconds(1250));
}

TEST(ParseDurationTest, RejectsBareNumbersAndJunk) {
  EXPECT_FALSE(ParseDuration("90"));
  EXPECT_FALSE(ParseDuration(""));
  EXPECT_FALSE(ParseDuration("s"));
  EXPECT_FALSE(ParseDuration("1.5s"));
  EXPECT_FALSE(ParseDuration("-1s"));
  EXPECT_FALSE(ParseDuration("10 s"));
}

TEST(FormatDurationTest, RoundTrips) {
  for (int64_t ms : {0, 1, 999, 1000, 1250, 90'000, 3'600'000, 3'723'004}) {
    EXPECT_EQ(ParseDuration(FormatDuration(milliseconds(ms))), milliseconds(ms)) << ms;
  }
  EXPECT_EQ(FormatDuration(milliseconds(90'000)), "1m30s");
}

TEST(ParseSizeTest, BinaryMultiples) {
  EXPECT_EQ(ParseSize("4096"), 4096u);
  EXPECT_EQ(ParseSize("64K"), 65536u);
  EXPECT_EQ(ParseSize("64KiB"), 65536u);
  EXPECT_EQ(ParseSize("2G"), 2ull << 30);
  EXPECT_FALSE(ParseSize("1T"));
  EXPECT_FALSE(ParseSize("K"));
  EXPECT_FALSE(ParseSize("99999999999999999999"));
  EXPECT_EQ(FormatSize(64 << 20), "64M");
  EXPECT_EQ(FormatSize(1000), "1000");
}

// Runs `read` on the root of `yaml` and returns the diagnostics as strings.
template <typename F>
std::vector<std::string> Errors(const std::string& yaml, F read) {
  DiagnosticSink sink("t.yaml");
  read(RootField(YAML::Load(yaml)), &sink);
  std::vector<std::string> out;
  for (const Diagnostic& d : sink.Take()) out.push_back(d.ToString());
  return out;
}

TEST(MapReaderTest, ReportsUnknownAndDuplicateKeysAtTheKey) {
  auto errors = Errors("a: 1\nzz: 2\na: 3\n", [](const Field& root, DiagnosticSink* sink) {
    MapReader m(root, sink);
    m.Optional("a");
    m.Optional("b");
    m.Finish();
  });
  EXPECT_THAT(errors, ElementsAre("t.yaml:2:1: zz: unknown key (expected one of: a, b)",
                                  "t.yaml:3:1: a: duplicate key (first at line 1)"));
}

TEST(MapReaderTest, MissingRequiredKeyPointsAtTheMap) {
  auto errors = Errors("outer:\n  x: 1\n", [](const Field& root, DiagnosticSink* sink) {
    MapReader m(root, sink);
    MapReader inner(m.Optional("outer"), sink);
    inner.Optional("x");
    inner.Required("name");
    inner.Finish();
    m.Finish();
  });
  EXPECT_THAT(errors, ElementsAre("t.yaml:2:3: outer.name: missing required key"));
}

TEST(MapReaderTest, IgnoredKeysAreAccepted) {
  auto errors = Errors("a: 1\nsteps: [x]\n", [](const Field& root, DiagnosticSink* sink) {
    MapReader m(root, sink);
    m.Optional("a");
    m.Ignore("steps");
    m.Finish();
  });
  EXPECT_TRUE(errors.empty());
}

TEST(ScalarReadersTest, WrongTypesNameWhatWasFound) {
  auto errors = Errors("n: abc\nl: {a: 1}\ne:\nd: 90\nb: maybe\n",
                       [](const Field& root, DiagnosticSink* sink) {
                         MapReader m(root, sink);
                         EXPECT_FALSE(ReadUint(m.Optional("n"), sink));
                         EXPECT_FALSE(ReadList(m.Optional("l"), sink));
                         EXPECT_FALSE(ReadString(m.Optional("e"), sink));
                         EXPECT_FALSE(ReadDuration(m.Optional("d"), sink));
                         EXPECT_FALSE(ReadBool(m.Optional("b"), sink));
                         m.Finish();
                       });
  EXPECT_THAT(errors,
              ElementsAre("t.yaml:1:4: n: expected an unsigned integer, got 'abc'",
                          "t.yaml:2:4: l: expected a list, got a map",
                          "t.yaml:3:1: e: expected a string, got nothing",
                          "t.yaml:4:4: d: expected a duration such as 90s, 2m or 1m30s, got '90'",
                          "t.yaml:5:4: b: expected on or off, got 'maybe'"));
}

TEST(ScalarReadersTest, RangesAndListsReportEachElement) {
  auto errors = Errors("n: 9\nl: [a, {b: 1}, c]\n", [](const Field& root, DiagnosticSink* sink) {
    MapReader m(root, sink);
    EXPECT_FALSE(ReadUint(m.Optional("n"), sink, 1, 8));
    EXPECT_FALSE(ReadStringList(m.Optional("l"), sink));
    m.Finish();
  });
  EXPECT_THAT(errors, ElementsAre("t.yaml:1:4: n: value 9 out of range 1..8",
                                  "t.yaml:2:8: l[1]: expected a string, got a map"));
}

TEST(ReadEnumTest, ListsTheAcceptedNames) {
  auto errors = Errors("v: knsfd\n", [](const Field& root, DiagnosticSink* sink) {
    MapReader m(root, sink);
    EXPECT_FALSE(ReadEnum(m.Optional("v"), sink, "backend", kBackendNames));
    m.Finish();
  });
  EXPECT_THAT(
      errors,
      ElementsAre("t.yaml:1:4: v: unknown backend 'knsfd' (expected one of: local, libvirt)"));
}

}  // namespace
}  // namespace ovl::topology
