#include "ops/ops.h"

#include <gtest/gtest.h>

namespace ovl::ops {
namespace {

using nlohmann::json;

TEST(OpsTest, KindNamesRoundTrip) {
  for (Kind k : {Kind::kLookup, Kind::kGetAttr, Kind::kSetAttr, Kind::kRead, Kind::kWrite,
                 Kind::kCommit, Kind::kCreate, Kind::kMkdir, Kind::kSymlink, Kind::kRemove,
                 Kind::kRmdir, Kind::kRename, Kind::kLink, Kind::kReaddir, Kind::kReadlink}) {
    EXPECT_EQ(KindFromName(KindName(k)), k) << KindName(k);
  }
  EXPECT_FALSE(KindFromName("mknod"));
}

TEST(OpsTest, HexRoundTripAndRejectsBadInput) {
  const std::string bytes("\x00\x01\xfe\xff OV", 7);
  EXPECT_EQ(Hex(bytes), "0001feff204f56");
  EXPECT_EQ(Unhex(Hex(bytes)), bytes);
  EXPECT_EQ(Unhex("ABcd"), std::string("\xab\xcd"));
  EXPECT_FALSE(Unhex("abc"));
  EXPECT_FALSE(Unhex("zz"));
}

TEST(OpsTest, DigestIsFnv1a) {
  EXPECT_EQ(DataDigest(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(DataDigest("a"), 0xaf63dc4c8601ec8cull);
}

TEST(OpsTest, OpJsonRoundTripsEveryField) {
  Op op;
  op.seq = 42;
  op.client = "A";
  op.kind = Kind::kCreate;
  op.target.var = "D";
  op.target.mutate = "flip-magic";
  op.name = "x";
  op.target2.raw = std::string("\x01\x02", 2);
  op.name2 = "y";
  op.save = "H";
  op.offset = 7;
  op.count = 9;
  op.size = 100;
  op.mode = 0600;
  op.how = CreateHow::kExclusive;
  op.verifier = {1, 2, 3, 4, 5, 6, 7, 8};
  op.link_target = "t";
  op.cookie = 11;
  op.max_entries = 3;
  op.resume = "L";
  op.step = 4;
  op.may = true;
  const json j = op;
  EXPECT_EQ(j["verifier"], "0102030405060708");
  EXPECT_EQ(j["target2"]["raw"], "0102");
  ovl::Result<Op> back = OpFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(json(*back), j);
  EXPECT_EQ(back->verifier, op.verifier);
  EXPECT_TRUE(back->may);
}

TEST(OpsTest, WriteCarriesHexDataAndStability) {
  Op op;
  op.kind = Kind::kWrite;
  op.target.path = "a";
  op.data = std::string("\0hi", 3);
  op.stable = Stable::kUnstable;
  const json j = op;
  EXPECT_EQ(j["data"], "006869");
  EXPECT_EQ(j["stable"], "unstable");
  ovl::Result<Op> back = OpFromJson(j);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->data, op.data);
  EXPECT_EQ(back->stable, Stable::kUnstable);
}

TEST(OpsTest, OpFromJsonReportsErrorsWithoutThrowing) {
  EXPECT_FALSE(OpFromJson(json::array()).ok());
  EXPECT_FALSE(OpFromJson({{"seq", 1}, {"kind", "explode"}}).ok());
  ovl::Result<Op> bad = OpFromJson({{"seq", 1}, {"kind", "write"}, {"data", "xyz"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("data"), std::string::npos);
}

TEST(OpsTest, ResultKeepsDataOnThePipeAndDigestInHistory) {
  Result r;
  r.data = "hello";
  r.eof = true;
  r.attrs = Attrs{"reg", 5, 77, 2, 0644};
  r.verifier = 0xdeadbeefcafef00dull;
  r.entries = {{"a", 1}, {"b", 2}};
  const json pipe = ResultToJson(r, /*with_data=*/true);
  EXPECT_EQ(pipe["data"], "68656c6c6f");
  ovl::Result<Result> full = ResultFromJson(pipe);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->data, "hello");
  EXPECT_EQ(full->verifier, r.verifier);

  const json hist = ResultToJson(r, /*with_data=*/false);
  EXPECT_FALSE(hist.contains("data"));
  EXPECT_EQ(hist["data_len"], 5);
  char digest[17];
  std::snprintf(digest, sizeof digest, "%016llx",
                static_cast<unsigned long long>(DataDigest("hello")));
  EXPECT_EQ(hist["data_digest"], digest);
  ovl::Result<Result> short_form = ResultFromJson(hist);
  ASSERT_TRUE(short_form.ok());
  EXPECT_TRUE(short_form->data.empty());
  EXPECT_EQ(short_form->DataLength(), 5u);
  EXPECT_EQ(short_form->DataDigestValue(), DataDigest("hello"));
  EXPECT_EQ(ResultToJson(*short_form, false), hist);
  EXPECT_EQ(short_form->entries.size(), 2u);
  EXPECT_EQ(short_form->attrs->fileid, 77u);
}

TEST(OpsTest, EmptyReadHasTheEmptyDigest) {
  Result r;
  const json hist = ResultToJson(r, false);
  EXPECT_FALSE(hist.contains("data_len"));
  ovl::Result<Result> back = ResultFromJson(hist);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->DataLength(), 0u);
  EXPECT_EQ(back->DataDigestValue(), DataDigest(""));
}

TEST(OpsTest, ErrorAndUnknownOutcomes) {
  Result r;
  r.outcome = Result::Outcome::kError;
  r.error = "STALE";
  ovl::Result<Result> back = ResultFromJson(ResultToJson(r, false));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->outcome, Result::Outcome::kError);
  EXPECT_EQ(back->error, "STALE");
  EXPECT_FALSE(ResultFromJson({{"outcome", "maybe"}}).ok());
  // Callers using nlohmann's get<> catch json::exception for our errors too.
  EXPECT_THROW(json({{"outcome", "maybe"}}).get<Result>(), json::exception);
}

TEST(OpsTest, MutationsMakeMalformedHandles) {
  std::string h(40, '\x11');
  EXPECT_EQ(MutateHandle(h, "truncate")->size(), 20u);
  EXPECT_EQ(MutateHandle(h, "extend")->size(), 65u);
  EXPECT_EQ(MutateHandle(h, "zero"), "");
  const std::string magic = *MutateHandle(h, "flip-magic");
  EXPECT_EQ(magic[0], '\xee');
  EXPECT_EQ(magic[1], '\xee');
  EXPECT_EQ(magic.substr(2), h.substr(2));
  const std::string version = *MutateHandle(h, "flip-version");
  EXPECT_EQ(version[2], '\xee');
  const std::string uuid = *MutateHandle(h, "wrong-uuid");
  EXPECT_EQ(uuid.substr(0, 8), h.substr(0, 8));
  EXPECT_EQ(uuid.substr(8, 16), std::string(16, '\xee'));
  EXPECT_EQ(uuid.substr(24), h.substr(24));
  EXPECT_EQ(MutateHandle("ab", "wrong-uuid"), std::string("a\x9d"));
  EXPECT_FALSE(MutateHandle(h, "shuffle"));
  for (const std::string& how : MutationNames()) {
    EXPECT_TRUE(MutateHandle(h, how)) << how;
    EXPECT_NE(MutateHandle(h, how), h) << how;
  }
}

}  // namespace
}  // namespace ovl::ops
