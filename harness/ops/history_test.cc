#include <gtest/gtest.h>

#include <fstream>

#include "base/temp_dir_for_test.h"
#include "ops/history_file.h"

namespace ovl::ops {
namespace {

using nlohmann::json;

std::vector<Event> Sample() {
  Event c{Event::Type::kCase, "s/libnfs/x@crash", 0.0, {}, 0, {}, {}};
  c.info = {{"scenario", "x"}, {"fault", "crash"}, {"seed", 7}};
  Op op;
  op.seq = 1;
  op.kind = Kind::kRead;
  op.target.var = "H";
  Event invoke{Event::Type::kInvoke, c.case_id, 0.5, op, 0, {}, {}};
  Result r;
  r.data = "abc";
  Event complete{Event::Type::kComplete, c.case_id, 0.75, {}, 1, r, {}};
  Event fault{Event::Type::kFault, c.case_id, 1.0, {}, 0, {}, {{"kind", "crash"}, {"ok", true}}};
  Event check{Event::Type::kCheck, c.case_id, 1.5, {}, 0, {}, {{"what", "lower"}, {"ok", true}}};
  Event end{Event::Type::kEnd, c.case_id, 2.0, {}, 0, {}, {{"status", "done"}}};
  return {c, invoke, complete, fault, check, end};
}

TEST(HistoryTest, EventsRoundTripThroughJson) {
  for (const Event& e : Sample()) {
    std::string error;
    std::optional<Event> back = EventFromJson(EventToJson(e), &error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(EventToJson(*back), EventToJson(e));
  }
  const json complete = EventToJson(Sample()[2]);
  EXPECT_EQ(complete["result"]["data_len"], 3);
  EXPECT_FALSE(complete["result"].contains("data"));
  EXPECT_EQ(EventToJson(Sample()[3])["kind"], "crash");
}

TEST(HistoryTest, RejectsMalformedEvents) {
  std::string error;
  EXPECT_FALSE(EventFromJson(json::array(), &error));
  EXPECT_FALSE(EventFromJson({{"type", "party"}, {"case", "c"}, {"t", 0}}, &error));
  EXPECT_NE(error.find("party"), std::string::npos);
  EXPECT_FALSE(EventFromJson({{"type", "invoke"}, {"case", "c"}, {"t", 0}}, &error));
}

TEST(HistoryTest, WriterAndReaderAgreeLineByLine) {
  TempDir dir;
  const std::string path = dir.path() + "/history.jsonl";
  {
    HistoryWriter w(path);
    ASSERT_TRUE(w.ok());
    for (const Event& e : Sample()) ASSERT_TRUE(w.Append(e).ok());
  }
  std::string error;
  std::optional<std::vector<Event>> events = ReadHistory(path, &error);
  ASSERT_TRUE(events) << error;
  ASSERT_EQ(events->size(), Sample().size());
  EXPECT_EQ((*events)[2].result->DataDigestValue(), DataDigest("abc"));
}

TEST(HistoryTest, AFailedWriteIsReportedAndSticks) {
  HistoryWriter w("/dev/full");
  ASSERT_TRUE(w.ok()) << "opening /dev/full works; writing to it does not";
  Status st = w.Append(Sample()[0]);
  EXPECT_EQ(st.code(), ENOSPC) << st.ToString();
  EXPECT_NE(st.message().find("/dev/full"), std::string::npos) << st.ToString();
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(w.Append(Sample()[1]).code(), ENOSPC) << "a later append must not fill the gap";
}

TEST(HistoryTest, AFileThatCannotBeCreatedIsReported) {
  HistoryWriter w("/nonexistent-dir/history.jsonl");
  EXPECT_EQ(w.status().code(), ENOENT) << w.status().ToString();
  EXPECT_FALSE(w.Append(Sample()[0]).ok());
}

TEST(HistoryTest, ReaderNamesTheBadLine) {
  TempDir dir;
  const std::string path = dir.path() + "/history.jsonl";
  {
    std::ofstream out(path);
    out << EventToJson(Sample()[0]).dump() << "\n\n{\"type\":\"invoke\"\n";
  }
  std::string error;
  EXPECT_FALSE(ReadHistory(path, &error));
  EXPECT_NE(error.find("history.jsonl:3:"), std::string::npos) << error;
  EXPECT_FALSE(ReadHistory(dir.path() + "/missing", &error));
}

}  // namespace
}  // namespace ovl::ops
