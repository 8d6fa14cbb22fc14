// Data and attribute rules: reads return the model's bytes, fileids are stable, nlink counts the
// names, committed and FILE_SYNC data survive a crash, the write verifier changes across one.
#include <gtest/gtest.h>

#include "model/model_test_util.h"

namespace ovl::model::testing {
namespace {

using nlohmann::json;
using ops::Stable;

const json kTwo = {{"entries",
                    {{{"file", "a"}, {"size", 5000}},
                     {{"hardlink", "b"}, {"to", "a"}},
                     {{"file", "c"}, {"size", 300}}}}};

std::string Patched(std::string data, uint64_t offset, const std::string& bytes) {
  if (data.size() < offset + bytes.size()) data.resize(offset + bytes.size(), '\0');
  data.replace(offset, bytes.size(), bytes);
  return data;
}

TEST(DataTest, ReadsReturnTheModelsBytes) {
  History h(kTwo);
  h.Do(Read(P("a"), 100, 200), WithData(FileData("a", 5000).substr(100, 200), false))
      .Do(Read(P("a"), 4900, 4096), WithData(FileData("a", 5000).substr(4900)))
      .Do(Read(P("a"), 0, 4096), WithData(FileData("a", 5000).substr(0, 1000), false))  // short
      .Do(Read(P("c"), 300, 10), WithData(""));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kPass) << Dump(v);
}

TEST(DataTest, WrongBytesFail) {
  History h(kTwo);
  h.Do(Read(P("a"), 0, 10), WithData("0123456789", false));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "data")) << Dump(v);
}

TEST(DataTest, CopyUpThroughAHardLinkShowsInTheOtherName) {
  History h(kTwo);
  const std::string now = Patched(FileData("a", 5000), 0, "written through a");
  h.Do(Lookup("a", "A"), WithHandle("ha"))
      .Do(GetAttr(V("A")), WithAttrs("reg", 5000, 21, 2))
      .Do(Write(V("A"), 0, "written through a"), Written(17, Stable::kFileSync, 1))
      .Do(Read(P("b")), WithData(now))
      .Do(GetAttr(P("b")), WithAttrs("reg", 5000, 21, 2))
      .Fault("evict")
      .Do(Lookup("b"), WithHandle("ha"));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kPass) << Dump(v);

  History stale_copy(kTwo);
  stale_copy.Do(Write(P("a"), 0, "written through a"), Written(17, Stable::kFileSync, 1))
      .Do(Read(P("b")), WithData(FileData("a", 5000)));  // b still shows the lower file
  v = JudgeOne(stale_copy.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "data")) << Dump(v);
}

TEST(DataTest, FileidMustStayTheSame) {
  History h(kTwo);
  h.Do(GetAttr(P("a")), WithAttrs("reg", 5000, 21, 2))
      .Do(Write(P("a"), 0, "x"), Written(1, Stable::kFileSync, 1))
      .Do(GetAttr(P("a")), WithAttrs("reg", 5000, 99, 2));  // copy-up exposed the upper inode
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "fileid-changed")) << Dump(v);
}

TEST(DataTest, NlinkCountsTheNames) {
  History h(kTwo);
  h.Do(GetAttr(P("a")), WithAttrs("reg", 5000, 21, 2))
      .Do(Remove("b"), Ok())
      .Do(GetAttr(P("a")), WithAttrs("reg", 5000, 21, 1))
      .Do(Link(P("c"), "c2"), Ok())
      .Do(GetAttr(P("c2")), WithAttrs("reg", 300, 22, 2));
  EXPECT_EQ(JudgeOne(h.End()).verdict, Verdict::kPass);

  History bad(kTwo);
  bad.Do(Remove("b"), Ok()).Do(GetAttr(P("a")), WithAttrs("reg", 5000, 21, 2));
  CaseVerdict v = JudgeOne(bad.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "nlink")) << Dump(v);
}

TEST(DataTest, SizeAndTypeMustMatch) {
  History h(kTwo);
  h.Do(SetSize(P("c"), 10), Ok())
      .Do(GetAttr(P("c")), WithAttrs("reg", 300, 23, 1))
      .Do(GetAttr(P("")), WithAttrs("reg", 0, 2, 1));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "size")) << Dump(v);
  EXPECT_TRUE(Has(v, "type")) << Dump(v);
}

const json kLink = {{"entries", {{{"symlink", "s"}, {"to", "a"}}}}};

TEST(DataTest, SymlinkTargetMustMatch) {
  History h(kLink);
  h.Do(Readlink(P("s")), [] {
    ops::Result r;
    r.link_target = "a";
    return r;
  }());
  EXPECT_EQ(JudgeOne(h.End()).verdict, Verdict::kPass);
  History bad(kLink);
  bad.Do(Readlink(P("s")), [] {
    ops::Result r;
    r.link_target = "b";
    return r;
  }());
  EXPECT_TRUE(Has(JudgeOne(bad.End()), "readlink"));
}

// UNSTABLE writes, a COMMIT, more UNSTABLE data, then a restart.
History Unstable(const std::string& fault, uint64_t verifier_after) {
  History h({});
  h.Do(Create("f", "F"), WithHandle("hf"))
      .Do(Write(V("F"), 0, "committed", Stable::kUnstable), Written(9, Stable::kUnstable, 1))
      .Do(Commit(V("F")),
          [] {
            ops::Result r;
            r.verifier = 1;
            return r;
          }())
      .Do(Write(V("F"), 9, "-pending", Stable::kUnstable), Written(8, Stable::kUnstable, 1))
      .Fault(fault)
      .Do(Write(V("F"), 100, "x", Stable::kUnstable),
          Written(1, Stable::kUnstable, verifier_after));
  return h;
}

TEST(DataTest, UncommittedDataMayBeLostAtACrash) {
  for (const std::string& survived :
       {std::string("committed-pending"), std::string("committed") + std::string(8, '\0')}) {
    History h = Unstable("crash", 2);
    h.Do(Read(V("F"), 0, 17), WithData(survived, false));
    CaseVerdict v = JudgeOne(h.End());
    EXPECT_EQ(v.verdict, Verdict::kPass) << survived << "\n" << Dump(v);
  }
}

TEST(DataTest, CommittedDataLostAtACrashFails) {
  History h = Unstable("crash", 2);
  h.Do(Read(V("F"), 0, 9), WithData(std::string(9, '\0'), false));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "data")) << Dump(v);
}

TEST(DataTest, FileSyncDataLostAtACrashFails) {
  History h(kTwo);
  h.Do(Write(P("c"), 0, "durable", Stable::kFileSync), Written(7, Stable::kFileSync, 1))
      .Fault("crash")
      .Do(Read(P("c"), 0, 7), WithData(FileData("c", 300).substr(0, 7), false));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
}

TEST(DataTest, ReadsNarrowWhatARestartLeftOpen) {
  History h = Unstable("crash", 2);
  h.Do(Read(V("F"), 0, 17), WithData(std::string("committed") + std::string(8, '\0'), false))
      .Do(Read(V("F"), 0, 17), WithData("committed-pending", false));  // lost, then back?
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
}

TEST(DataTest, WriteVerifierMustChangeAcrossACrash) {
  CaseVerdict same_after_crash = JudgeOne(Unstable("crash", 1).End());
  EXPECT_EQ(same_after_crash.verdict, Verdict::kFail) << Dump(same_after_crash);
  EXPECT_TRUE(Has(same_after_crash, "verifier-unchanged")) << Dump(same_after_crash);

  CaseVerdict same_after_reboot = JudgeOne(Unstable("reboot", 1).End());
  EXPECT_EQ(same_after_reboot.verdict, Verdict::kPass) << Dump(same_after_reboot);
  EXPECT_TRUE(Has(same_after_reboot, "verifier-unchanged", /*must=*/false));

  CaseVerdict changed = JudgeOne(Unstable("crash", 2).End());
  EXPECT_EQ(changed.verdict, Verdict::kPass) << Dump(changed);
  EXPECT_FALSE(Has(changed, "verifier-unchanged", false));

  CaseVerdict evicted = JudgeOne(Unstable("evict", 1).End());
  EXPECT_EQ(evicted.verdict, Verdict::kPass) << Dump(evicted);
}

TEST(DataTest, CrashDuringCopyUpLeavesOldOrNew) {
  const json fixture = {{"entries", {{{"file", "big"}, {"size", 100000}}}}};
  const std::string old_data = FileData("big", 100000);
  for (bool copied : {false, true}) {
    History h(fixture);
    h.Do(Lookup("big", "H"), WithHandle("hb"));
    const uint64_t seq = h.Invoke(Write(V("H"), 0, "new head"));
    h.Fault("crash").Complete(seq, Unknown());
    const std::string now = copied ? Patched(old_data, 0, "new head") : old_data;
    h.Do(GetAttr(V("H")), WithAttrs("reg", 100000, 4, 1))
        .Do(Read(V("H"), 0, 64), WithData(now.substr(0, 64), false))
        .Do(Read(V("H"), 99936, 64), WithData(now.substr(99936)));
    CaseVerdict v = JudgeOne(h.End());
    EXPECT_EQ(v.verdict, Verdict::kPass) << copied << "\n" << Dump(v);
    EXPECT_EQ(v.max_candidates, 2u);
  }
  History torn(fixture);
  torn.Do(Lookup("big", "H"), WithHandle("hb"));
  const uint64_t seq = torn.Invoke(Write(V("H"), 0, "new head"));
  torn.Fault("crash").Complete(seq, Unknown());
  torn.Do(Read(V("H"), 99936, 64), WithData(std::string(64, '\0')));  // a half-made copy
  CaseVerdict v = JudgeOne(torn.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
}

}  // namespace
}  // namespace ovl::model::testing
