#include "ops/fixture.h"

#include <gtest/gtest.h>

#include "ops/fixture_gen.h"
#include "ops/fixture_json.h"

namespace ovl::ops {
namespace {

using nlohmann::json;
using EntryKind = FixtureEntry::Kind;

Fixture Parse(const json& j) {
  ovl::Result<Fixture> f = FixtureFromJson(j, 5);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return f.ok() ? *f : Fixture();
}

std::string ParseError(const json& j) {
  ovl::Result<Fixture> f = FixtureFromJson(j, 5);
  return f.ok() ? "" : f.status().message();
}

TEST(FixtureTest, FileDataIsDeterministicAndDistinct) {
  EXPECT_EQ(FixtureFileData(1, "a", 100), FixtureFileData(1, "a", 100));
  EXPECT_EQ(FixtureFileData(1, "a", 100).size(), 100u);
  EXPECT_NE(FixtureFileData(1, "a", 100), FixtureFileData(1, "b", 100));
  EXPECT_NE(FixtureFileData(1, "a", 100), FixtureFileData(2, "a", 100));
  EXPECT_EQ(FixtureFileData(1, "a", 13), FixtureFileData(1, "a", 100).substr(0, 13));
}

TEST(FixtureTest, ParsesEntriesAndImpliesParents) {
  Fixture f = Parse({{"layers", 2},
                     {"entries",
                      {{{"file", "d/e/x"}, {"size", 10}},
                       {{"hardlink", "d/y"}, {"to", "d/e/x"}},
                       {{"hardlink", "z"}, {"to", "d/y"}},
                       {{"symlink", "s"}, {"to", "nowhere"}, {"layer", 1}},
                       {{"dir", "d"}, {"mode", 0700}}}}});
  EXPECT_EQ(f.seed, 5u);
  ASSERT_EQ(f.entries.size(), 6u);
  EXPECT_EQ(f.entries[0].path, "d");
  EXPECT_EQ(f.entries[0].mode, 0700u);  // implied first, then listed: the listed mode wins
  EXPECT_EQ(f.entries[1].path, "d/e");
  EXPECT_EQ(f.entries[2].kind, EntryKind::kFile);
  EXPECT_EQ(f.entries[4].to, "d/e/x");  // a link of a link names the file
  EXPECT_EQ(f.entries[5].layer, 1);
}

TEST(FixtureTest, RejectsBadEntries) {
  EXPECT_NE(ParseError({{"entries", {{{"file", "/abs"}}}}}).find("bad path"), std::string::npos);
  EXPECT_NE(ParseError({{"entries", {{{"file", "a/../b"}}}}}).find("bad path"), std::string::npos);
  EXPECT_NE(ParseError({{"entries", {{{"file", "a"}}, {{"file", "a"}}}}}).find("already"),
            std::string::npos);
  EXPECT_NE(ParseError({{"entries", {{{"file", "a"}}, {{"file", "a/b"}}}}}).find("not a dir"),
            std::string::npos);
  EXPECT_NE(ParseError({{"entries", {{{"hardlink", "b"}, {"to", "a"}}}}}).find("hard link"),
            std::string::npos);
  EXPECT_NE(
      ParseError({{"layers", 2},
                  {"entries", {{{"file", "a"}, {"layer", 1}}, {{"hardlink", "b"}, {"to", "a"}}}}})
          .find("hard link"),
      std::string::npos);
  EXPECT_NE(ParseError({{"entries", {{{"file", "a"}, {"layer", 1}}}}}).find("layer"),
            std::string::npos);
  EXPECT_NE(ParseError({{"entries", {{{"file", "a"}, {"dir", "b"}}}}}).find("exactly one"),
            std::string::npos);
  EXPECT_NE(ParseError({{"entries", {{{"dir", "a"}, {"size", 3}}}}}).find("size"),
            std::string::npos);
  EXPECT_NE(ParseError({{"colour", "red"}}).find("colour"), std::string::npos);
  EXPECT_NE(ParseError({{"generate", {{"files", 1}, {"hardlinks", 2}}}}).find("hardlinks"),
            std::string::npos);
}

TEST(FixtureTest, GenerateIsSeededAndRoundTrips) {
  const json spec = {
      {"layers", 2},
      {"seed", 9},
      {"generate", {{"files", 30}, {"dirs", 5}, {"max_size", 100}, {"hardlinks", 4}}}};
  Fixture a = Parse(spec);
  Fixture b = Parse(spec);
  EXPECT_EQ(FixtureToJson(a), FixtureToJson(b));
  json other = spec;
  other["seed"] = 10;
  EXPECT_NE(FixtureToJson(a), FixtureToJson(Parse(other)));
  int files = 0, links = 0;
  for (const FixtureEntry& e : a.entries) {
    files += e.kind == EntryKind::kFile;
    links += e.kind == EntryKind::kHardlink;
    if (e.kind == EntryKind::kFile) {
      EXPECT_LE(e.size, 100u);
    }
  }
  EXPECT_EQ(files, 30);
  EXPECT_EQ(links, 4);
  // The expanded form parses back to the same fixture: histories can carry either.
  EXPECT_EQ(FixtureToJson(Parse(FixtureToJson(a))), FixtureToJson(a));
}

TEST(FixtureTest, MergedViewAppliesTopDownPrecedence) {
  Fixture f = Parse({{"layers", 2},
                     {"entries",
                      {{{"file", "a"}, {"size", 3}},
                       {{"hardlink", "b"}, {"to", "a"}},
                       {{"file", "d"}, {"size", 1}},
                       {{"dir", "m"}},
                       {{"file", "m/top"}, {"size", 2}},
                       {{"file", "a"}, {"size", 9}, {"layer", 1}},
                       {{"file", "d/hidden"}, {"layer", 1}},
                       {{"file", "m/low"}, {"size", 4}, {"layer", 1}},
                       {{"symlink", "s"}, {"to", "a"}, {"layer", 1}}}}});
  std::vector<MergedEntry> view = MergedView(f);
  std::vector<std::string> paths;
  for (const MergedEntry& m : view) paths.push_back(m.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"a", "b", "d", "m", "m/low", "m/top", "s"}));
  EXPECT_EQ(view[0].object, view[1].object);
  EXPECT_EQ(view[0].data, FixtureFileData(5, "a", 3));  // the top layer's a
  EXPECT_EQ(view[1].kind, EntryKind::kFile);
  EXPECT_EQ(view[4].data, FixtureFileData(5, "m/low", 4));
  EXPECT_EQ(view[6].kind, EntryKind::kSymlink);
  EXPECT_EQ(view[6].data, "a");
  EXPECT_NE(view[2].object, view[0].object);
}
}  // namespace
}  // namespace ovl::ops
