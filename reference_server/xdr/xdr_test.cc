#include "xdr/xdr.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>

namespace ovl::xdr {
namespace {

TEST(XdrTest, IntegersAreBigEndian) {
  Encoder e;
  e.U32(0x01020304);
  e.I32(-2);
  e.U64(0x0102030405060708ull);
  e.Bool(true);
  e.Bool(false);
  EXPECT_EQ(e.bytes(), std::string("\x01\x02\x03\x04"
                                   "\xff\xff\xff\xfe"
                                   "\x01\x02\x03\x04\x05\x06\x07\x08"
                                   "\x00\x00\x00\x01"
                                   "\x00\x00\x00\x00",
                                   24));
}

TEST(XdrTest, RoundTripsEveryType) {
  Encoder e;
  e.U32(std::numeric_limits<uint32_t>::max());
  e.I32(std::numeric_limits<int32_t>::min());
  e.U64(std::numeric_limits<uint64_t>::max() - 1);
  e.Bool(true);
  e.Opaque("hello");
  e.String("");
  const char fixed[3] = {'a', 'b', 'c'};
  e.FixedOpaque(fixed, sizeof(fixed));
  std::string wire = e.Take();

  Decoder d(wire);
  uint32_t u = 0;
  int32_t i = 0;
  uint64_t h = 0;
  bool b = false;
  std::string s1, s2;
  char out[3] = {};
  ASSERT_TRUE(d.U32(&u));
  ASSERT_TRUE(d.I32(&i));
  ASSERT_TRUE(d.U64(&h));
  ASSERT_TRUE(d.Bool(&b));
  ASSERT_TRUE(d.Opaque(&s1, 16));
  ASSERT_TRUE(d.String(&s2, 16));
  ASSERT_TRUE(d.FixedOpaque(out, sizeof(out)));
  EXPECT_TRUE(d.ok());
  EXPECT_EQ(d.remaining(), 0u);
  EXPECT_EQ(u, std::numeric_limits<uint32_t>::max());
  EXPECT_EQ(i, std::numeric_limits<int32_t>::min());
  EXPECT_EQ(h, std::numeric_limits<uint64_t>::max() - 1);
  EXPECT_TRUE(b);
  EXPECT_EQ(s1, "hello");
  EXPECT_EQ(s2, "");
  EXPECT_EQ(std::string(out, 3), "abc");
}

TEST(XdrTest, OpaquePadsToFourBytesWithZeros) {
  for (size_t n = 0; n <= 8; ++n) {
    Encoder e;
    e.Opaque(std::string(n, 'x'));
    size_t padded = (n + 3) / 4 * 4;
    ASSERT_EQ(e.size(), 4 + padded) << n;
    for (size_t k = 4 + n; k < e.size(); ++k) EXPECT_EQ(e.bytes()[k], '\0') << n;
    Encoder f;
    f.FixedOpaque(std::string(n, 'y').data(), n);
    EXPECT_EQ(f.size(), padded) << n;
  }
}

TEST(XdrTest, DecoderConsumesPaddingAndFollowingItem) {
  Encoder e;
  e.Opaque("abcde");
  e.U32(7);
  Decoder d(e.bytes());
  std::string s;
  uint32_t v = 0;
  ASSERT_TRUE(d.Opaque(&s, 5));
  ASSERT_TRUE(d.U32(&v));
  EXPECT_EQ(s, "abcde");
  EXPECT_EQ(v, 7u);
  EXPECT_EQ(d.remaining(), 0u);
}

TEST(XdrTest, TruncatedInputFailsAndStaysFailed) {
  Encoder e;
  e.U32(1);
  e.U64(2);
  std::string wire = e.Take();
  for (size_t cut = 0; cut < wire.size(); ++cut) {
    Decoder d(std::string_view(wire).substr(0, cut));
    uint32_t u = 0;
    uint64_t h = 0;
    bool first = d.U32(&u);
    bool second = first && d.U64(&h);
    EXPECT_FALSE(second) << cut;
    EXPECT_FALSE(d.ok());
    EXPECT_EQ(d.remaining(), 0u);
    // Sticky: even a read that would fit fails now.
    EXPECT_FALSE(d.FixedOpaque(nullptr, 0));
  }
}

TEST(XdrTest, TruncatedOpaqueBodyOrPaddingFails) {
  Encoder e;
  e.Opaque("abcde");  // 4 + 5 + 3 padding = 12 bytes
  for (size_t cut : {4u, 8u, 9u, 11u}) {
    Decoder d(std::string_view(e.bytes()).substr(0, cut));
    std::string s;
    EXPECT_FALSE(d.Opaque(&s, 100)) << cut;
    EXPECT_FALSE(d.ok());
  }
}

TEST(XdrTest, OverBoundLengthFailsWithoutReading) {
  Encoder e;
  e.Opaque(std::string(17, 'z'));
  Decoder d(e.bytes());
  std::string s;
  EXPECT_FALSE(d.Opaque(&s, 16));
  EXPECT_FALSE(d.ok());
  EXPECT_TRUE(s.empty());
}

TEST(XdrTest, HugeLengthFieldDoesNotOverflow) {
  Encoder e;
  e.U32(0xffffffff);
  e.U32(0);
  Decoder d(e.bytes());
  std::string s;
  EXPECT_FALSE(d.Opaque(&s, 0xffffffff));
  EXPECT_FALSE(d.ok());

  Decoder f(e.bytes());
  char c;
  EXPECT_FALSE(f.FixedOpaque(&c, std::numeric_limits<size_t>::max() - 1));
  EXPECT_FALSE(f.ok());
}

TEST(XdrTest, BoolRejectsValuesOtherThanZeroAndOne) {
  Encoder e;
  e.U32(2);
  Decoder d(e.bytes());
  bool b = false;
  EXPECT_FALSE(d.Bool(&b));
  EXPECT_FALSE(d.ok());
}

TEST(XdrTest, ReserveAndPatch) {
  Encoder e;
  size_t at = e.ReserveU32();
  e.U32(5);
  e.PatchU32(at, 0xdeadbeef);
  Decoder d(e.bytes());
  uint32_t a = 0, b = 0;
  ASSERT_TRUE(d.U32(&a));
  ASSERT_TRUE(d.U32(&b));
  EXPECT_EQ(a, 0xdeadbeefu);
  EXPECT_EQ(b, 5u);
}

TEST(XdrTest, RestReturnsUnconsumedBytes) {
  Encoder e;
  e.U32(1);
  e.U32(2);
  Decoder d(e.bytes());
  uint32_t v;
  ASSERT_TRUE(d.U32(&v));
  EXPECT_EQ(d.rest(), std::string_view(e.bytes()).substr(4));
  EXPECT_EQ(d.remaining(), 4u);
}

TEST(XdrTest, OpaqueTailIsSentApartButDecodesLikeOpaque) {
  auto data = std::make_unique<char[]>(5 + 3);
  std::memcpy(data.get(), "hello\xff\xff\xff", 8);  // garbage where the padding goes
  Encoder e;
  e.U32(7);
  e.OpaqueTail(std::move(data), 5);
  EXPECT_EQ(e.bytes(), std::string("\0\0\0\7\0\0\0\5", 8));  // the tail is not copied in
  Encoder same;
  same.U32(7);
  same.Opaque("hello");
  std::string bytes;
  Tail tail;
  e.TakeParts(&bytes, &tail);
  ASSERT_EQ(tail.size, 8u);
  EXPECT_EQ(bytes + std::string(tail.data.get(), tail.size), same.bytes());
}

TEST(XdrTest, TakeCopiesTheTailIn) {
  auto data = std::make_unique<char[]>(4 + 3);
  std::memcpy(data.get(), "abcd", 4);
  Encoder e;
  e.OpaqueTail(std::move(data), 4);
  Encoder same;
  same.Opaque("abcd");
  EXPECT_EQ(e.Take(), same.bytes());
}

}  // namespace
}  // namespace ovl::xdr
