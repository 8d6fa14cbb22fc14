// Files kept open while their last name goes (scenario open-unlinked): readable through the open
// file until closed; a held handle reaches that file or is STALE while it is open; STALE once it
// is closed (the agent's close waits for a kernel NFS client's deferred remove).
#include <gtest/gtest.h>

#include "model/model_test_util.h"

namespace ovl::model::testing {
namespace {

using nlohmann::json;

const json kTwoFiles = {
    {"entries", {{{"file", "a"}, {"size", 100}}, {{"file", "other"}, {"size", 100}}}}};

// Holds H(a), opens a, removes it.
History OpenedAndRemoved() {
  History h(kTwoFiles);
  h.Do(Lookup("a", "H"), WithHandle("ha")).Do(Open("a", "F"), Ok()).Do(Remove("a"), Ok());
  return h;
}

TEST(OpenFilesTest, AnOpenFileServesItsDataAndItsHandleMayReachItOrBeStale) {
  for (const char* answer : {"reach", "stale"}) {
    History h = OpenedAndRemoved();
    h.Do(Read(F("F")), WithData(FileData("a", 100))).Fault("evict");
    if (std::string(answer) == "reach") {
      h.Do(GetAttr(V("H")), WithAttrs("reg", 100, 0, 1))  // a renamed-away file: nlink 1
          .Do(Read(V("H")), WithData(FileData("a", 100)));
    } else {
      h.Do(GetAttr(V("H")), Err("STALE")).Do(Read(V("H")), Err("STALE"));
    }
    h.Do(Close("F"), Ok())
        .Do(GetAttr(V("H")), Err("STALE"))
        .Fault("evict")
        .Do(Read(V("H")), Err("STALE"));
    CaseVerdict v = JudgeOne(h.End());
    EXPECT_EQ(v.verdict, Verdict::kPass) << answer << ": " << Dump(v);
    EXPECT_EQ(Has(v, "open-unlinked", /*must=*/false), std::string(answer) == "stale") << Dump(v);
  }
}

TEST(OpenFilesTest, AHandleThatStillReachesTheFileAfterTheCloseFails) {
  for (bool fault : {false, true}) {
    History h = OpenedAndRemoved();
    h.Do(Close("F"), Ok());
    if (fault) h.Fault("reboot");
    h.Do(GetAttr(V("H")), WithAttrs("reg", 100, 0, 1));
    CaseVerdict v = JudgeOne(h.End());
    EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
    EXPECT_TRUE(Has(v, "stale-handle")) << Dump(v);
  }
}

TEST(OpenFilesTest, AnOpenFileThatLosesItsDataFails) {
  History h = OpenedAndRemoved();
  h.Do(Read(F("F")), Err("STALE"));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "unexpected-error")) << Dump(v);
}

TEST(OpenFilesTest, AHandleOfAnOpenRemovedFileMustNotShowAnotherFile) {
  History h = OpenedAndRemoved();
  h.Do(Read(V("H")), WithData(FileData("other", 100)));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "data")) << Dump(v);
}

TEST(OpenFilesTest, AFileOpenInOneClientKeepsItsHandleUntilTheLastClose) {
  History h(kTwoFiles);
  h.Do(Lookup("a", "H"), WithHandle("ha"))
      .Do(Open("a", "F"), Ok())
      .Do(As(Open("a", "G"), "B"), Ok())
      .Do(Remove("a"), Ok())
      .Do(Close("F"), Ok())
      .Fault("evict")
      .Do(Read(V("H")), WithData(FileData("a", 100)))  // B still has it open
      .Do(As(Close("G"), "B"), Ok())
      .Do(Read(V("H")), WithData(FileData("a", 100)));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  ASSERT_EQ(v.findings.size(), 1u) << Dump(v);
  EXPECT_EQ(v.findings.front().rule, "stale-handle") << Dump(v);
}

}  // namespace
}  // namespace ovl::model::testing
