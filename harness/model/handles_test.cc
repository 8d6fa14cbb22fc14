// The handle rules: LOOKUP gives one object one handle, never another object's; a held handle
// stays valid while its object has a name, across eviction, reboot and crash, and is STALE once
// the last name is gone; malformed handles get BADHANDLE or STALE and the server stays up.
#include <gtest/gtest.h>

#include "model/model_test_util.h"

namespace ovl::model::testing {
namespace {

using nlohmann::json;

const json kLinked = {{"entries",
                       {{{"file", "a"}, {"size", 100}},
                        {{"hardlink", "b"}, {"to", "a"}},
                        {{"file", "other"}, {"size", 100}}}}};

TEST(HandlesTest, LookupReturnsTheSameHandleEveryTime) {
  History h(kLinked);
  h.Do(Lookup("a", "H"), WithHandle("ha"))
      .Do(Lookup("b"), WithHandle("ha"))  // a hard link: the same object
      .Fault("reboot")
      .Do(Lookup("a"), WithHandle("ha"));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kPass) << Dump(v);
  EXPECT_EQ(v.ops, 3u);
}

TEST(HandlesTest, ChangedHandleOnLookupFails) {
  History h(kLinked);
  h.Do(Lookup("a", "H"), WithHandle("ha")).Fault("crash").Do(Lookup("a"), WithHandle("ha2"));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "handle-changed")) << Dump(v);
  EXPECT_EQ(v.findings.front().seq, 2u);
  EXPECT_EQ(v.findings.front().seed, kSeed);
}

TEST(HandlesTest, HandleOfAnotherObjectFails) {
  History h(kLinked);
  h.Do(Lookup("a"), WithHandle("ha")).Do(Lookup("other"), WithHandle("ha"));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "handle-reused")) << Dump(v);
}

TEST(HandlesTest, NewFileMustNotGetTheHandleOfARemovedOne) {
  History h({});
  h.Do(Create("f", "H"), WithHandle("h1"))
      .Do(Remove("f"), Ok())
      .Do(Create("g"), WithHandle("h1"));  // an inode number reused without a new generation
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "handle-reused")) << Dump(v);
}

// seed-unlink-reboot as it must go.
History SeedUnlinkReboot(const std::string& fault) {
  History h(kLinked);
  h.Do(Lookup("a", "H"), WithHandle("ha"))
      .Do(Remove("a"), Ok())
      .Fault(fault)
      .Do(GetAttr(V("H")), WithAttrs("reg", 100, 11, 1))
      .Do(Read(V("H")), WithData(FileData("a", 100)))
      .Do(Lookup("b"), WithHandle("ha"));
  return h;
}

TEST(HandlesTest, HeldHandleStaysValidWhileANameRemains) {
  for (const char* fault : {"evict", "reboot", "crash"}) {
    History h = SeedUnlinkReboot(fault);
    h.Do(Remove("b"), Ok())
        .Fault(fault)
        .Do(GetAttr(V("H")), Err("STALE"))
        .Do(Read(V("H")), Err("STALE"));
    CaseVerdict v = JudgeOne(h.End());
    EXPECT_EQ(v.verdict, Verdict::kPass) << fault << "\n" << Dump(v);
  }
}

TEST(HandlesTest, StaleAfterRebootWhileNamedFails) {
  History h(kLinked);
  h.Do(Lookup("a", "H"), WithHandle("ha"))
      .Do(Remove("a"), Ok())
      .Fault("reboot")
      .Do(GetAttr(V("H")), Err("STALE"));  // b still names it: a per-boot handle
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "unexpected-error")) << Dump(v);
}

TEST(HandlesTest, HandleAnsweringAfterTheLastNameIsGoneFails) {
  History h = SeedUnlinkReboot("crash");
  h.Do(Remove("b"), Ok()).Fault("crash").Do(GetAttr(V("H")), WithAttrs("reg", 100, 11, 1));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "stale-handle")) << Dump(v);
}

TEST(HandlesTest, HandleReadingAnotherObjectsDataFails) {
  History h(kLinked);
  h.Do(Lookup("a", "H"), WithHandle("ha"))
      .Do(Remove("a"), Ok())
      .Do(Remove("b"), Ok())
      .Fault("evict")
      .Do(Read(V("H")), WithData(FileData("other", 100)));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  ASSERT_TRUE(Has(v, "stale-handle")) << Dump(v);
  EXPECT_NE(v.reason.find("that is the data of other"), std::string::npos) << v.reason;
}

TEST(HandlesTest, LiveHandleReadingAnotherObjectsDataFails) {
  History h(kLinked);
  h.Do(Lookup("a", "H"), WithHandle("ha"))
      .Fault("reboot")
      .Do(Read(V("H")), WithData(FileData("other", 100)));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  ASSERT_TRUE(Has(v, "data")) << Dump(v);
  EXPECT_NE(v.reason.find("that is the data of other"), std::string::npos) << v.reason;
}

TEST(HandlesTest, OtherErrorThanStaleForARemovedObjectIsOnlyReported) {
  History h(kLinked);
  h.Do(Lookup("other", "H"), WithHandle("ho"))
      .Do(Remove("other"), Ok())
      .Do(GetAttr(V("H")), Err("IO"));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kPass) << Dump(v);
  EXPECT_TRUE(Has(v, "stale-handle", /*must=*/false)) << Dump(v);
}

ops::Op Mutated(ops::Kind kind, const std::string& how) {
  ops::Op op;
  op.kind = kind;
  op.target.var = "H";
  op.target.mutate = how;
  return op;
}

TEST(HandlesTest, MalformedHandlesGetBadHandleOrStale) {
  History h(kLinked);
  h.Do(Lookup("a", "H"), WithHandle("ha"))
      .Do(Mutated(ops::Kind::kGetAttr, "truncate"), Err("BADHANDLE"))
      .Do(GetAttr(V("H")), WithAttrs("reg", 100, 11, 2))
      .Do(Mutated(ops::Kind::kGetAttr, "wrong-uuid"), Err("STALE"))
      .Do(Mutated(ops::Kind::kGetAttr, "extend"), Err("RPC_GARBAGE_ARGS"))
      .Do(Mutated(ops::Kind::kRead, "zero"), Err("NOT_SENT"));
  ops::Op raw = GetAttr(P(""));
  raw.target.raw = std::string("\xff\xff", 2);
  h.Do(raw, Err("BADHANDLE"));
  raw.target.raw = "ha";  // the literal bytes of a real handle are that handle
  h.Do(raw, WithAttrs("reg", 100, 11, 2));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kPass) << Dump(v);
  EXPECT_TRUE(Has(v, "not-sent", /*must=*/false)) << Dump(v);
}

TEST(HandlesTest, MalformedHandleAnsweredOkOrWithAnotherErrorFails) {
  History ok(kLinked);
  ok.Do(Lookup("a", "H"), WithHandle("ha"))
      .Do(Mutated(ops::Kind::kGetAttr, "flip-magic"), WithAttrs("reg", 100, 11, 2));
  CaseVerdict v = JudgeOne(ok.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "malformed-handle")) << Dump(v);

  History noent(kLinked);
  noent.Do(Lookup("a", "H"), WithHandle("ha"))
      .Do(Mutated(ops::Kind::kGetAttr, "flip-version"), Err("NOENT"));
  v = JudgeOne(noent.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "malformed-handle")) << Dump(v);
}

TEST(HandlesTest, ServerThatStopsAnsweringWithoutAFaultFails) {
  History h(kLinked);
  h.Do(Lookup("a", "H"), WithHandle("ha"))
      .Do(Mutated(ops::Kind::kGetAttr, "truncate"), Err("BADHANDLE"))
      .Do(GetAttr(V("H")), Unknown());  // the malformed handle killed the server
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "no-answer")) << Dump(v);
}

TEST(HandlesTest, DirHandleValidUntilRmdir) {
  const json fixture = {{"entries", {{{"file", "d/x"}, {"size", 10}}}}};
  History h(fixture);
  h.Do(Lookup("d", "D"), WithHandle("hd"))
      .Do(LookupIn(V("D"), "x", "X"), WithHandle("hx"))
      .Do(Write(V("X"), 0, "up"), Written(2, ops::Stable::kFileSync, 1))
      .Do(Rename("d", "e"), Ok())
      .Fault("evict")
      .Do(GetAttr(V("D")), WithAttrs("dir", 4096, 5, 2))
      .Do(Lookup("e"), WithHandle("hd"))
      .Do(LookupIn(V("D"), "x"), WithHandle("hx"))
      .Do(LookupIn(V("D"), ".."), WithHandle("root"))
      .Do(Remove("e/x"), Ok())
      .Do(Rmdir("e"), Ok())
      .Do(GetAttr(V("D")), Err("STALE"))
      .Do(LookupIn(V("D"), "x"), Err("STALE"));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kPass) << Dump(v);

  History bad(fixture);
  bad.Do(Lookup("d", "D"), WithHandle("hd"))
      .Do(Remove("d/x"), Ok())
      .Do(Rmdir("d"), Ok())
      .Do(GetAttr(V("D")), WithAttrs("dir", 4096, 5, 2));
  v = JudgeOne(bad.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "stale-handle")) << Dump(v);
}

TEST(HandlesTest, TwoClientsShareObjectsButNotVariables) {
  const json fixture = {{"entries", {{{"file", "d/a"}, {"size", 10}}}}};
  History h(fixture);
  h.Do(Lookup("d/a", "H"), WithHandle("ha"))
      .Do(As(Rename("d/a", "d/b"), "B"), Ok())
      .Do(GetAttr(V("H")), WithAttrs("reg", 10, 3, 1))
      .Do(As(Lookup("d/b", "H"), "B"), WithHandle("ha"))
      .Do(As(Remove("d/b"), "B"), Ok())
      .Do(GetAttr(V("H")), Err("STALE"));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kPass) << Dump(v);

  History wrong(fixture);
  wrong.Do(Lookup("d/a", "H"), WithHandle("ha"))
      .Do(As(Rename("d/a", "d/b"), "B"), Ok())
      .Do(As(Lookup("d/b"), "B"), WithHandle("hb"));  // B sees another handle for the object
  v = JudgeOne(wrong.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "handle-changed")) << Dump(v);
}

TEST(HandlesTest, DisjointClientsMustNotShareHandles) {
  const json fixture = {
      {"entries", {{{"file", "c1/a"}, {"size", 1}}, {{"file", "c2/a"}, {"size", 1}}}}};
  History h(fixture, /*disjoint_clients=*/true);
  h.Do(As(Lookup("c1/a"), "c1"), WithHandle("h1")).Do(As(Lookup("c2/a"), "c2"), WithHandle("h1"));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "handle-shared")) << Dump(v);
}

}  // namespace
}  // namespace ovl::model::testing
