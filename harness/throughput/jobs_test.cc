#include "throughput/jobs.h"

#include <gtest/gtest.h>

#include "ops/fixture.h"
#include "ops/fixture_json.h"

namespace ovl::throughput {
namespace {

namespace tp = ::ovl::topology;

TEST(JobsTest, TheCatalogueDefinesEveryJob) {
  tp::Checked<JobCatalogue> c =
      LoadJobCatalogue(std::string(OVL_SOURCE_DIR) + "/workloads/throughput");
  ASSERT_TRUE(c.ok()) << tp::FormatDiagnostics(c.errors());
  ASSERT_EQ(c->jobs.size(), tp::kJobKindNames.size());
  for (const auto& named : tp::kJobKindNames) {
    const JobDef* d = c->Find(named.value);
    ASSERT_NE(d, nullptr) << named.name;
    EXPECT_EQ(d->unit, tp::IsDataJob(named.value) && d->request_size > 4096 ? "MB/s" : "ops/s")
        << named.name;
  }
  EXPECT_EQ(c->Find(tp::JobKind::kSeqRead)->request_size, 1024u * 1024);
  EXPECT_EQ(c->Find(tp::JobKind::kRandWrite4k)->request_size, 4096u);
  // The SPECsfs2008 NFSv3 mix, weights in percent.
  const JobDef* mix = c->Find(tp::JobKind::kMetadataMix);
  std::map<std::string, uint32_t> w;
  uint32_t total = 0;
  for (const MixEntry& m : mix->mix) {
    w[LoadOpName(m.op)] = m.weight;
    total += m.weight;
  }
  EXPECT_EQ(total, 100u);
  EXPECT_EQ(w["getattr"], 26u);
  EXPECT_EQ(w["lookup"], 24u);
  EXPECT_EQ(w["read"], 18u);
  EXPECT_EQ(w["access"], 11u);
  EXPECT_EQ(w["write"], 10u);
  EXPECT_EQ(w["setattr"], 4u);
  EXPECT_EQ(w["readdirplus"], 2u);
  for (const char* one : {"readlink", "readdir", "create", "remove", "fsstat"}) {
    EXPECT_EQ(w[one], 1u) << one;
  }
  EXPECT_EQ(c->under_faults.job, tp::JobKind::kMetadataMix);
  EXPECT_EQ(c->under_faults.faults.size(), 3u);
}

TEST(JobsTest, ErrorsNameFileLineAndColumn) {
  tp::Checked<JobDef> d = ParseJobDef(R"(job: seq-read
summary: s
unit: MB/s
pattern: sideways
request_size: 1M
working_set: {size: 64M, files: 3}
clients: 1
duration: {default: 10s}
mix: {read: 100}
colour: blue
)",
                                      "x.yaml");
  ASSERT_FALSE(d.ok());
  const std::string all = tp::FormatDiagnostics(d.errors());
  EXPECT_NE(all.find("x.yaml:4:10"), std::string::npos) << all;
  EXPECT_NE(all.find("sideways"), std::string::npos) << all;
  EXPECT_NE(all.find("files"), std::string::npos) << all;
  EXPECT_NE(all.find("colour"), std::string::npos) << all;

  // Well formed, but a request the agent would refuse: reported at load time.
  d = ParseJobDef(R"(job: seq-read
summary: s
unit: MB/s
pattern: sequential
request_size: 1M
working_set: {size: 64M}
clients: 1
duration: {default: 10s}
mix: {getattr: 100}
)",
                  "y.yaml");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(tp::FormatDiagnostics(d.errors()).find("read or write"), std::string::npos);

  tp::Checked<FaultRunDef> f =
      ParseFaultRunDef("job: seq-read\nfaults: [crash, client-evict]\ntimeline: 1ms\n", "f.yaml");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.errors().size(), 2u) << tp::FormatDiagnostics(f.errors());
}

JobDef Def(tp::JobKind kind) {
  tp::Checked<JobCatalogue> c =
      LoadJobCatalogue(std::string(OVL_SOURCE_DIR) + "/workloads/throughput");
  EXPECT_TRUE(c.ok());
  return *c->Find(kind);
}

TEST(JobsTest, TopologyValuesOverrideExceptItsDefaults) {
  JobDef d = Def(tp::JobKind::kSeqRead);
  d.size = 8 * 1024 * 1024;
  d.clients = 3;
  d.duration = milliseconds(5000);
  ResolvedJob r = Resolve(d, tp::ThroughputJob{.kind = tp::JobKind::kSeqRead});
  EXPECT_EQ(r.size, d.size);
  EXPECT_EQ(r.clients, 3u);
  EXPECT_EQ(r.duration, milliseconds(5000));
  r = Resolve(d, {.kind = tp::JobKind::kSeqRead,
                  .size = 2 * 1024 * 1024,
                  .clients = 2,
                  .duration = milliseconds(1)});
  EXPECT_EQ(r.size, 2u * 1024 * 1024);
  EXPECT_EQ(r.clients, 2u);
  EXPECT_EQ(r.duration, d.min_duration) << "clamped";
  r = Resolve(d, {.kind = tp::JobKind::kSeqRead, .size = 10});
  EXPECT_EQ(r.size, d.request_size) << "at least one request";
}

TEST(JobsTest, WorkingSetsAndRequestsPerClient) {
  ResolvedJob read =
      Resolve(Def(tp::JobKind::kSeqRead),
              {.kind = tp::JobKind::kSeqRead, .size = 2 * 1024 * 1024, .clients = 2});
  ops::Fixture f = WorkingSet(read, 5);
  ASSERT_EQ(f.entries.size(), 5u);  // tput, c0, c0/data, c1, c1/data
  EXPECT_EQ(f.entries[2].path, "tput/c0/data");
  EXPECT_EQ(f.entries[2].size, 2u * 1024 * 1024);
  LoadRequest r = RequestFor(read, 1, 100, milliseconds(250), true);
  EXPECT_EQ(r.job.dir, "tput/c1");
  EXPECT_EQ(r.job.file, "data");
  EXPECT_EQ(r.seed, 101u);
  EXPECT_TRUE(LoadRequestFromJson(ToJson(r)).ok());

  ResolvedJob write = Resolve(Def(tp::JobKind::kSeqWrite), {.kind = tp::JobKind::kSeqWrite});
  EXPECT_EQ(WorkingSet(write, 1).entries.size(), 2u) << "the load creates the file";

  ResolvedJob mix =
      Resolve(Def(tp::JobKind::kMetadataMix), {.kind = tp::JobKind::kMetadataMix, .files = 20});
  f = WorkingSet(mix, 1);
  EXPECT_EQ(f.entries.size(), 2u + 20 + 10);
  EXPECT_EQ(f.entries.back().kind, ops::FixtureEntry::Kind::kSymlink);
  Result<ops::Fixture> parsed = ops::FixtureFromJson(ops::FixtureToJson(f), 1);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  r = RequestFor(mix, 0, 1, milliseconds(1000), false);
  EXPECT_EQ(r.job.files, 20u);
  EXPECT_EQ(r.job.size, 4096u);
  EXPECT_TRUE(LoadRequestFromJson(ToJson(r)).ok());

  ResolvedJob md =
      Resolve(Def(tp::JobKind::kCreateStatUnlink), {.kind = tp::JobKind::kCreateStatUnlink});
  EXPECT_EQ(WorkingSet(md, 1).entries.size(), 2u);
}

}  // namespace
}  // namespace ovl::throughput
