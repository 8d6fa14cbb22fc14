// The corrupted-handle sweep's rule (corrupt-handle): a corrupted copy of a held handle gets an
// error or reaches the very same object (its current data), never another one, and nothing at
// all once the object is removed; and the outcome counts of the sweep.
#include <gtest/gtest.h>

#include "model/model_test_util.h"

namespace ovl::model::testing {
namespace {

using nlohmann::json;

const json kFiles = {{"entries",
                      {{{"file", "a"}, {"size", 100}},
                       {{"file", "other"}, {"size", 100}},
                       {{"file", "d/x"}, {"size", 10}},
                       {{"file", "d/y"}, {"size", 10}}}}};

// `op` sent with a corruption of the handle held in `var` (flip byte 0 with `mask`).
ops::Op Swept(ops::Op op, const std::string& var, uint8_t mask, const std::string& bytes = "") {
  op.target = ops::Target{};
  op.target.raw = bytes.empty() ? std::string(1, static_cast<char>(mask)) : bytes;
  op.target.sweep = ops::SweepPoint{var, 0, mask, 0};
  return op;
}

History Held() {
  History h(kFiles);
  h.Do(Lookup("a", "H"), [] {
    ops::Result r = WithHandle("ha");
    r.attrs = WithAttrs("reg", 100, 11, 1).attrs;
    return r;
  }());
  h.Do(Lookup("other", "O"), WithHandle("ho"));
  h.Do(GetAttr(V("O")), WithAttrs("reg", 100, 12, 1));
  return h;
}

// The verdict on a GETATTR of one corruption of H answered with `r`.
CaseVerdict OneSweptGetAttr(const ops::Result& r) {
  History h = Held();
  h.Do(Swept(GetAttr(P("")), "H", 1), r);
  return JudgeOne(h.End());
}

TEST(SweepRuleTest, ErrorsOrTheSameObjectPassAndAreCounted) {
  History h = Held();
  h.Do(Swept(GetAttr(P("")), "H", 1), Err("BADHANDLE"))
      .Do(Swept(GetAttr(P("")), "H", 2), Err("STALE"))
      .Do(Swept(GetAttr(P("")), "H", 3), Err("BADHANDLE"))
      .Do(Swept(GetAttr(P("")), "H", 4), Err("INVAL"))
      .Do(Swept(GetAttr(P("")), "H", 5), WithAttrs("reg", 100, 11, 1))
      .Do(Swept(Read(P("")), "H", 6), WithData(FileData("a", 100)));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kPass) << Dump(v);
  EXPECT_EQ(v.sweep.sent, 6u);
  EXPECT_EQ(v.sweep.violations, 0u);
  EXPECT_EQ(v.sweep.outcomes,
            (std::map<std::string, uint64_t>{
                {"BADHANDLE", 2}, {"STALE", 1}, {"INVAL", 1}, {"same-object", 2}}));
}

TEST(SweepRuleTest, AnotherObjectFails) {
  CaseVerdict v = OneSweptGetAttr(WithAttrs("reg", 100, 12, 1));
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  ASSERT_TRUE(Has(v, "corrupt-handle")) << Dump(v);
  EXPECT_NE(v.reason.find("fileid 12"), std::string::npos) << v.reason;
  EXPECT_NE(v.reason.find("sweep=H[0]^01"), std::string::npos) << v.reason;
  EXPECT_EQ(v.sweep.outcomes, (std::map<std::string, uint64_t>{{"wrong-object", 1}}));
  EXPECT_EQ(v.sweep.violations, 1u);
}

TEST(SweepRuleTest, StaleDataFails) {
  History h = Held();
  h.Do(Write(V("H"), 0, "new"), Written(3, ops::Stable::kFileSync, 1))
      .Do(Swept(Read(P("")), "H", 1), WithData(FileData("a", 100)));  // as before the write
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "corrupt-handle")) << Dump(v);
  EXPECT_FALSE(Has(v, "data")) << Dump(v);
}

TEST(SweepRuleTest, RemovedObjectGetsOnlyErrors) {
  History h = Held();
  h.Do(Remove("a"), Ok())
      .Do(Swept(GetAttr(P("")), "H", 1), Err("STALE"))
      .Do(Swept(Read(P("")), "H", 2), Err("BADHANDLE"));
  EXPECT_EQ(JudgeOne(h.End()).verdict, Verdict::kPass);
  h.Do(Swept(GetAttr(P("")), "H", 3), WithAttrs("reg", 100, 11, 0));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "corrupt-handle")) << Dump(v);
  EXPECT_NE(v.reason.find("every name of a is gone"), std::string::npos) << v.reason;
}

TEST(SweepRuleTest, AnotherErrorFails) {
  CaseVerdict v = OneSweptGetAttr(Err("NOENT"));
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "corrupt-handle")) << Dump(v);
  EXPECT_EQ(v.sweep.outcomes, (std::map<std::string, uint64_t>{{"NOENT", 1}}));
}

TEST(SweepRuleTest, LookupInACorruptedDirHandle) {
  History h(kFiles);
  h.Do(Lookup("d", "D"), WithHandle("hd"))
      .Do(Lookup("d/x"), WithHandle("hx"))
      .Do(Swept(LookupIn(P(""), "x"), "D", 1), WithHandle("hx"))
      .Do(Swept(LookupIn(P(""), "x"), "D", 2), Err("STALE"))
      .Do(Swept(LookupIn(P(""), "nope"), "D", 3), Err("NOENT"));  // what D itself answers
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kPass) << Dump(v);
  h.Do(Swept(LookupIn(P(""), "x"), "D", 4), Err("NOENT"));
  v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "corrupt-handle")) << Dump(v);

  History other(kFiles);
  other.Do(Lookup("d", "D"), WithHandle("hd"))
      .Do(Lookup("d/y"), WithHandle("hy"))
      .Do(Swept(LookupIn(P(""), "x"), "D", 1), WithHandle("hy"));  // y's handle for x
  v = JudgeOne(other.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "corrupt-handle")) << Dump(v);
}

TEST(SweepRuleTest, NoAnswerFailsAndIsCounted) {
  CaseVerdict v = OneSweptGetAttr(Unknown());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "no-answer")) << Dump(v);
  EXPECT_EQ(v.sweep.outcomes, (std::map<std::string, uint64_t>{{"no-answer", 1}}));
}

// The held object's fileid changed (docs/findings.md #10: a directory's st_ino after eviction),
// as a plain GETATTR of H reports: a corrupted copy answering that fileid is H itself, its change
// already reported once; another fileid, or the stale data, is still a corruption.
TEST(SweepRuleTest, TheFileidTheHeldHandleLastReportedIsTheSameObject) {
  History h = Held();
  h.Do(GetAttr(V("H")), WithAttrs("reg", 100, 15, 1))
      .Do(Swept(GetAttr(P("")), "H", 1), WithAttrs("reg", 100, 15, 1));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_TRUE(Has(v, "fileid-changed")) << Dump(v);
  EXPECT_FALSE(Has(v, "corrupt-handle")) << Dump(v);
  EXPECT_EQ(v.findings.size(), 1u) << Dump(v);  // not reported again from the probe
  EXPECT_EQ(v.sweep.outcomes, (std::map<std::string, uint64_t>{{"same-object", 1}}));

  h.Do(Swept(GetAttr(P("")), "H", 2), WithAttrs("reg", 100, 16, 1));  // neither 11 nor 15
  v = JudgeOne(h.End());
  ASSERT_TRUE(Has(v, "corrupt-handle")) << Dump(v);
  EXPECT_EQ(v.findings.back().got, "fileid 16") << Dump(v);

  History stale = Held();
  stale.Do(Write(V("H"), 0, "new"), Written(3, ops::Stable::kFileSync, 1))
      .Do(GetAttr(V("H")), WithAttrs("reg", 100, 15, 1))
      .Do(Swept(Read(P("")), "H", 1), WithData(FileData("a", 100)));  // as before the write
  v = JudgeOne(stale.End());
  EXPECT_TRUE(Has(v, "corrupt-handle")) << Dump(v);
}

// Only a plain operation tells the model the held object's new fileid: a corrupted copy that
// is the first to answer another fileid is a corruption, and does not teach the model either.
TEST(SweepRuleTest, AFileidOnlyACorruptedCopyAnswersFails) {
  History h = Held();
  h.Do(Swept(GetAttr(P("")), "H", 1), WithAttrs("reg", 100, 15, 1))
      .Do(Swept(GetAttr(P("")), "H", 2), WithAttrs("reg", 100, 15, 1));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_TRUE(Has(v, "corrupt-handle")) << Dump(v);
  EXPECT_EQ(v.sweep.outcomes, (std::map<std::string, uint64_t>{{"wrong-object", 2}}));
}

// A corruption that happens to give another handle the server handed out is that handle.
TEST(SweepRuleTest, BytesOfAnotherHeldHandleNameThatObject) {
  History h = Held();
  h.Do(Swept(GetAttr(P("")), "H", 1, "ho"), WithAttrs("reg", 100, 12, 1));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kPass) << Dump(v);
  EXPECT_EQ(v.sweep.outcomes, (std::map<std::string, uint64_t>{{"same-object", 1}}));
}

// Findings that do not say another object was reached keep their own rule, so that baselines
// of known attribute bugs (rule=nlink) still match.
TEST(SweepRuleTest, AttributeFindingsKeepTheirRule) {
  CaseVerdict v = OneSweptGetAttr(WithAttrs("reg", 100, 11, 2));
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "nlink")) << Dump(v);
  EXPECT_FALSE(Has(v, "corrupt-handle")) << Dump(v);
  EXPECT_EQ(v.sweep.outcomes, (std::map<std::string, uint64_t>{{"same-object", 1}}));
  EXPECT_EQ(v.sweep.violations, 1u);
}

}  // namespace
}  // namespace ovl::model::testing
