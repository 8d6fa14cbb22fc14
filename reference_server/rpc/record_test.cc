#include "rpc/record.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ovl::rpc {
namespace {

std::string Fragment(std::string_view body, bool last) {
  uint32_t word = static_cast<uint32_t>(body.size()) | (last ? kLastFragment : 0);
  std::string out = {static_cast<char>(word >> 24), static_cast<char>(word >> 16),
                     static_cast<char>(word >> 8), static_cast<char>(word)};
  return out + std::string(body);
}

// Feeds `stream` in pieces of `step` bytes and collects every record.
Result<std::vector<std::string>> FeedAll(RecordAssembler& a, std::string_view stream, size_t step) {
  std::vector<std::string> records;
  while (!stream.empty()) {
    std::string_view piece = stream.substr(0, step);
    while (!piece.empty()) {
      OVL_ASSIGN_OR_RETURN(size_t used, a.Feed(piece));
      EXPECT_GT(used, 0u);
      piece.remove_prefix(used);
      stream.remove_prefix(used);
      if (a.has_record()) records.push_back(a.TakeRecord());
    }
  }
  return records;
}

TEST(RecordAssemblerTest, SingleFragment) {
  RecordAssembler a;
  auto records = FeedAll(a, Fragment("hello", true), 1000);
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(*records, std::vector<std::string>{"hello"});
}

TEST(RecordAssemblerTest, JoinsFragmentsIntoOneRecord) {
  RecordAssembler a;
  std::string stream =
      Fragment("ab", false) + Fragment("", false) + Fragment("cde", false) + Fragment("f", true);
  auto records = FeedAll(a, stream, 1000);
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(*records, std::vector<std::string>{"abcdef"});
}

TEST(RecordAssemblerTest, StopsAfterEachRecord) {
  RecordAssembler a;
  std::string stream = Fragment("one", true) + Fragment("two", true);
  auto used = a.Feed(stream);
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, 7u);
  ASSERT_TRUE(a.has_record());
  EXPECT_EQ(a.TakeRecord(), "one");
  EXPECT_FALSE(a.has_record());
  used = a.Feed(std::string_view(stream).substr(7));
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(a.TakeRecord(), "two");
}

TEST(RecordAssemblerTest, SplitReadsAtEveryGranularity) {
  std::string stream = Fragment("0123456789", false) + Fragment("abc", true) + Fragment("", true) +
                       Fragment("xyz", false) + Fragment("w", true);
  for (size_t step = 1; step <= stream.size(); ++step) {
    RecordAssembler a;
    auto records = FeedAll(a, stream, step);
    ASSERT_TRUE(records.ok()) << step;
    EXPECT_EQ(*records, (std::vector<std::string>{"0123456789abc", "", "xyzw"})) << step;
  }
}

TEST(RecordAssemblerTest, EmptyRecord) {
  RecordAssembler a;
  auto used = a.Feed(Fragment("", true));
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, 4u);
  ASSERT_TRUE(a.has_record());
  EXPECT_EQ(a.TakeRecord(), "");
}

TEST(RecordAssemblerTest, AcceptsExactlyMaxSize) {
  RecordAssembler a(8);
  auto records = FeedAll(a, Fragment("1234", false) + Fragment("5678", true), 3);
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(*records, std::vector<std::string>{"12345678"});
}

TEST(RecordAssemblerTest, OversizeFragmentFailsBeforeItsBodyArrives) {
  RecordAssembler a(8);
  std::string header = Fragment("123456789", true).substr(0, 4);
  auto used = a.Feed(header);
  ASSERT_FALSE(used.ok());
  EXPECT_EQ(used.status().code(), EMSGSIZE);
  // Sticky: the stream has lost its framing.
  EXPECT_FALSE(a.Feed(Fragment("x", true)).ok());
}

TEST(RecordAssemblerTest, OversizeAcrossFragmentsFails) {
  RecordAssembler a(8);
  auto records = FeedAll(a, Fragment("12345", false) + Fragment("6789", true), 100);
  EXPECT_FALSE(records.ok());
}

TEST(RecordAssemblerTest, DefaultMaxAllowsOneMebibytePayloadAndRejectsHuge) {
  RecordAssembler a;
  std::string header = Fragment("", true);
  header[0] = static_cast<char>(0xff);  // last bit + length 0x7f000000
  EXPECT_FALSE(a.Feed(header).ok());

  RecordAssembler b;
  auto records = FeedAll(b, Fragment(std::string(kMaxRecordSize, 'x'), true), 64 * 1024);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].size(), kMaxRecordSize);
}

}  // namespace
}  // namespace ovl::rpc
