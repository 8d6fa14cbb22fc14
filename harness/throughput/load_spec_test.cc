#include "throughput/load_spec.h"

#include <gtest/gtest.h>

namespace ovl::throughput {
namespace {

LoadRequest MixRequest() {
  LoadRequest r;
  r.job.name = "metadata-mix";
  r.job.pattern = Pattern::kMix;
  r.job.dir = "tput/c0";
  r.job.files = 10;
  r.job.symlinks = 2;
  r.job.size = 4096;
  r.job.max_ops = 1000;
  r.job.mix = {{LoadOp::kGetattr, 26}, {LoadOp::kReadlink, 1}, {LoadOp::kFsstat, 1}};
  r.seed = 7;
  r.duration = milliseconds(1500);
  r.timeline = milliseconds(100);
  r.ok_runs = true;
  return r;
}

TEST(LoadSpecTest, RoundTripsThroughJson) {
  LoadRequest r = MixRequest();
  nlohmann::json j = ToJson(r);
  EXPECT_EQ(j["cmd"], "load");
  Result<LoadRequest> back = LoadRequestFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
}

TEST(LoadSpecTest, TimelineAndOkRunsAreOptional) {
  nlohmann::json j = ToJson(MixRequest());
  j.erase("timeline_ms");
  j.erase("ok_runs");
  Result<LoadRequest> back = LoadRequestFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->timeline, milliseconds(1000));
  EXPECT_FALSE(back->ok_runs);
}

// Each edit makes the request invalid, with a message naming what is wrong.
TEST(LoadSpecTest, RejectsBadRequests) {
  const std::vector<std::pair<std::function<void(nlohmann::json&)>, std::string>> cases = {
      {[](nlohmann::json& j) { j["extra"] = 1; }, "unknown field \"extra\""},
      {[](nlohmann::json& j) { j["job"]["colour"] = 1; }, "unknown field \"colour\""},
      {[](nlohmann::json& j) { j.erase("seed"); }, "missing \"seed\""},
      {[](nlohmann::json& j) { j["duration_ms"] = 0; }, "duration_ms"},
      {[](nlohmann::json& j) { j["duration_ms"] = -5; }, "duration_ms"},
      {[](nlohmann::json& j) { j["timeline_ms"] = 1; }, "timeline_ms"},
      {[](nlohmann::json& j) { j["job"]["pattern"] = "zigzag"; }, "zigzag"},
      {[](nlohmann::json& j) { j["job"]["mix"][0]["op"] = "mknod"; }, "mknod"},
      {[](nlohmann::json& j) { j["job"]["mix"][0]["weight"] = 0u; }, "weights"},
      {[](nlohmann::json& j) { j["job"]["symlinks"] = 0; }, "symlinks"},
      {[](nlohmann::json& j) { j["job"]["files"] = 0; }, "files"},
      {[](nlohmann::json& j) { j["job"]["request_size"] = 2 * 1024 * 1024; }, "request_size"},
      {[](nlohmann::json& j) { j["job"]["dir"] = "/abs"; }, "relative"},
      {[](nlohmann::json& j) { j["job"]["stable"] = "maybe"; }, "maybe"},
      {[](nlohmann::json& j) { j["job"]["name"] = 3; }, "wrong type"},
      {[](nlohmann::json& j) { j["job"]["max_ops"] = 0; }, "max_ops"},
  };
  for (const auto& [edit, expected] : cases) {
    nlohmann::json j = ToJson(MixRequest());
    edit(j);
    Result<LoadRequest> r = LoadRequestFromJson(j);
    ASSERT_FALSE(r.ok()) << j.dump();
    EXPECT_EQ(r.status().code(), EINVAL);
    EXPECT_NE(r.status().message().find(expected), std::string::npos) << r.status().message();
  }
}

TEST(LoadSpecTest, DataAndPhaseJobsHaveTheirOwnRules) {
  LoadRequest r = MixRequest();
  r.job.pattern = Pattern::kSequential;
  r.job.file = "data";
  r.job.size = 1 << 20;
  r.job.request_size = 1 << 20;
  r.job.mix = {{LoadOp::kRead, 1}};
  EXPECT_TRUE(LoadRequestFromJson(ToJson(r)).ok());
  r.job.size = 4096;  // smaller than one request
  EXPECT_FALSE(LoadRequestFromJson(ToJson(r)).ok());
  r.job.size = 1 << 20;
  r.job.mix = {{LoadOp::kGetattr, 1}};
  EXPECT_FALSE(LoadRequestFromJson(ToJson(r)).ok());
  r.job.mix = {{LoadOp::kRead, 1}};
  r.job.file = "";
  EXPECT_FALSE(LoadRequestFromJson(ToJson(r)).ok());

  r = MixRequest();
  r.job.pattern = Pattern::kPhases;
  r.job.phases = {LoadOp::kCreate, LoadOp::kLookup, LoadOp::kRemove};
  EXPECT_TRUE(LoadRequestFromJson(ToJson(r)).ok());
  r.job.phases = {LoadOp::kWrite};
  EXPECT_FALSE(LoadRequestFromJson(ToJson(r)).ok());
}

TEST(LoadSpecTest, FioRunsDataJobsWithoutOkRuns) {
  LoadRequest r = MixRequest();
  r.engine = topology::LoadEngine::kFio;
  EXPECT_FALSE(LoadRequestFromJson(ToJson(r)).ok());  // a mix
  r.job.pattern = Pattern::kRandom;
  r.job.file = "data";
  r.job.size = 1 << 20;
  r.job.mix = {{LoadOp::kRead, 1}};
  EXPECT_FALSE(LoadRequestFromJson(ToJson(r)).ok());  // ok_runs
  r.ok_runs = false;
  Result<LoadRequest> back = LoadRequestFromJson(ToJson(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
  nlohmann::json j = ToJson(r);
  j["engine"] = "dd";
  EXPECT_FALSE(LoadRequestFromJson(j).ok());
  j.erase("engine");
  EXPECT_EQ(LoadRequestFromJson(j)->engine, topology::LoadEngine::kAgent);
}

TEST(LoadSpecTest, Names) {
  EXPECT_EQ(FileName(42), "f000042");
  EXPECT_EQ(LinkName(7), "l000007");
  EXPECT_EQ(LoadOpName(LoadOp::kReaddirplus), "readdirplus");
}

}  // namespace
}  // namespace ovl::throughput
