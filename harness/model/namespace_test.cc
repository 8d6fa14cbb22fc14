// Namespace rules: NOENT and EXIST exactly where POSIX says (other error codes are MAY), renames
// and links move names and handles with them, exclusive creates replay, and READDIR pages list
// every entry once.
#include <gtest/gtest.h>

#include "model/model_test_util.h"
#include "model/semantics.h"

namespace ovl::model::testing {
namespace {

using nlohmann::json;

const json kTree = {{"entries",
                     {{{"file", "d/a"}, {"size", 10}},
                      {{"file", "d/b"}, {"size", 20}},
                      {{"dir", "e"}},
                      {{"file", "f/x"}, {"size", 1}}}}};

TEST(NamespaceTest, NoentAndExistAreMusts) {
  History h(kTree);
  h.Do(Lookup("d/zz"), Err("NOENT"))
      .Do(Remove("d/zz"), Err("NOENT"))
      .Do(Create("d/a"), Err("EXIST"))
      .Do(Mkdir("e"), Err("EXIST"))
      .Do(Link(P("d/a"), "d/b"), Err("EXIST"))
      .Do(Rename("d/zz", "d/yy"), Err("NOENT"))
      .Do(Read(P("zz/q")), Err("NOENT"));
  EXPECT_EQ(JudgeOne(h.End()).verdict, Verdict::kPass);

  for (const auto& [op, result] :
       std::vector<std::pair<ops::Op, ops::Result>>{{Lookup("d/zz"), WithHandle("hz")},
                                                    {Remove("d/zz"), Ok()},
                                                    {Create("d/a"), WithHandle("hn")},
                                                    {Create("d/a"), Err("IO")},
                                                    {Lookup("d/zz"), Err("STALE")}}) {
    History bad(kTree);
    bad.Do(op, result);
    CaseVerdict v = JudgeOne(bad.End());
    EXPECT_EQ(v.verdict, Verdict::kFail) << DescribeOp(op) << "\n" << Dump(v);
  }
}

TEST(NamespaceTest, OtherErrorCodesAreMays) {
  History h(kTree);
  h.Do(Rmdir("f"), Err("EXIST"))  // POSIX allows EEXIST for a non-empty dir
      .Do(Remove("e"), Err("PERM"))
      .Do(Read(P("e")), Err("INVAL"))
      .Do(Rename("e", "e/inner"), Err("INVAL"));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kPass) << Dump(v);
  EXPECT_TRUE(Has(v, "wrong-type", /*must=*/false)) << Dump(v);  // INVAL where ISDIR is due

  History ok_where_error(kTree);
  ok_where_error.Do(Rmdir("f"), Ok());
  CaseVerdict bad = JudgeOne(ok_where_error.End());
  EXPECT_EQ(bad.verdict, Verdict::kFail) << Dump(bad);
  EXPECT_TRUE(Has(bad, "notempty")) << Dump(bad);
}

TEST(NamespaceTest, RenameMovesTheHandle) {
  History h(kTree);
  h.Do(Lookup("d/a", "H"), WithHandle("ha"))
      .Do(Lookup("d/b", "B"), WithHandle("hb"))
      .Do(Rename("d", "g"), Ok())
      .Fault("crash")
      .Do(Lookup("g/a"), WithHandle("ha"))
      .Do(Lookup("d/a"), Err("NOENT"))
      .Do(Rename("g/a", "e/a"), Ok())
      .Do(Lookup("e/a"), WithHandle("ha"))
      .Do(Rename("e/a", "g/b"), Ok())  // over b: b's object loses its only name
      .Do(GetAttr(V("B")), Err("STALE"))
      .Do(Lookup("g/b"), WithHandle("ha"))
      .Do(Read(V("H")), WithData(FileData("d/a", 10)));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kPass) << Dump(v);

  History lost(kTree);
  lost.Do(Rename("d/a", "e/a"), Ok()).Fault("crash").Do(Lookup("e/a"), Err("NOENT"));
  v = JudgeOne(lost.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);  // an acknowledged rename is durable
}

TEST(NamespaceTest, RenameOfADirCanBeRefusedByAnOverlayWithoutRedirects) {
  History h(kTree);
  h.Do(Rename("d", "g"), Err("XDEV")).Do(Lookup("d/a"), WithHandle("ha"));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kPass) << Dump(v);
  EXPECT_TRUE(Has(v, "rename-xdev", /*must=*/false));
}

TEST(NamespaceTest, ExclusiveCreateReplaysWithTheSameVerifier) {
  History h(kTree);
  h.Do(Create("x", "X", ops::CreateHow::kExclusive, 1), WithHandle("hx"))
      .Fault("reboot")
      .Do(Create("x", "X2", ops::CreateHow::kExclusive, 1), WithHandle("hx"))
      .Do(Create("x", "", ops::CreateHow::kExclusive, 2), Err("EXIST"))
      .Do(Create("d/a", "", ops::CreateHow::kExclusive, 1), Err("EXIST"));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kPass) << Dump(v);

  History other_file(kTree);
  other_file.Do(Create("x", "X", ops::CreateHow::kExclusive, 1), WithHandle("hx"))
      .Fault("reboot")
      .Do(Create("x", "X2", ops::CreateHow::kExclusive, 1), WithHandle("hy"));
  v = JudgeOne(other_file.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "handle-changed")) << Dump(v);

  History refused(kTree);
  refused.Do(Create("x", "X", ops::CreateHow::kExclusive, 1), WithHandle("hx"))
      .Fault("crash")
      .Do(Create("x", "X2", ops::CreateHow::kExclusive, 1), Err("EXIST"));
  v = JudgeOne(refused.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
}

const json kDir = {{"entries",
                    {{{"file", "d/1"}, {"size", 1}},
                     {{"file", "d/2"}, {"size", 1}},
                     {{"file", "d/3"}, {"size", 1}},
                     {{"file", "d/4"}, {"size", 1}},
                     {{"file", "d/5"}, {"size", 1}}}}};

TEST(NamespaceTest, ReaddirPagesListEveryEntryOnce) {
  History h(kDir);
  h.Do(Readdir(P("d"), 2, "L"), Page({"1", "2"}, false))
      .Fault("crash")
      .Do(Readdir(P("d"), 2, "L", "L"), Page({"3", "4"}, false))
      .Fault("evict")
      .Do(Readdir(P("d"), 2, "L", "L"), Page({"5"}, true))
      .Do(Readdir(P("d"), 0, ""), Page({".", "..", "1", "2", "3", "4", "5"}, true));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kPass) << Dump(v);
}

TEST(NamespaceTest, ReaddirDuplicateFails) {
  History h(kDir);
  h.Do(Readdir(P("d"), 2, "L"), Page({"1", "2"}, false))
      .Fault("reboot")
      .Do(Readdir(P("d"), 2, "L", "L"), Page({"2", "3"}, false));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "readdir-duplicate")) << Dump(v);
}

TEST(NamespaceTest, ReaddirGapFails) {
  History h(kDir);
  h.Do(Readdir(P("d"), 2, "L"), Page({"1", "2"}, false))
      .Fault("crash")
      .Do(Readdir(P("d"), 2, "L", "L"), Page({"5"}, true));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "readdir-gap")) << Dump(v);
}

TEST(NamespaceTest, ReaddirGhostFails) {
  History h(kDir);
  h.Do(Readdir(P("d"), 0, ""), Page({"1", "2", "3", "4", "5", "zz"}, true));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "readdir-ghost")) << Dump(v);
}

TEST(NamespaceTest, ReaddirMayRefuseACookieOrShowChangesMadeDuringTheListing) {
  History h(kDir);
  h.Do(Readdir(P("d"), 2, "L"), Page({"1", "2"}, false))
      .Fault("crash")
      .Do(Readdir(P("d"), 2, "L", "L"), Err("BAD_COOKIE"))
      .Do(Readdir(P("d"), 2, "M"), Page({"1", "2"}, false))
      .Do(Create("d/6"), WithHandle("h6"))
      .Do(Remove("d/1"), Ok())
      .Do(Readdir(P("d"), 9, "M", "M"), Page({"3", "4", "5", "6"}, true))  // 6 may appear
      .Do(Readdir(P("d"), 2, "N"), Page({"2", "3"}, false))
      .Do(Remove("d/4"), Ok())  // may be missing: not present throughout
      .Do(Readdir(P("d"), 9, "N", "N"), Page({"5", "6"}, true));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kPass) << Dump(v);
}

}  // namespace
}  // namespace ovl::model::testing
