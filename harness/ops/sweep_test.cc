#include "ops/sweep.h"

#include <gtest/gtest.h>

#include <set>

namespace ovl::ops {
namespace {

std::string Bytes(size_t n, uint8_t first) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(first + i));
  return s;
}

void PutLe(std::string* s, uint32_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t GetLe(const std::string& s, size_t at, size_t n) {
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v |= static_cast<uint32_t>(static_cast<uint8_t>(s[at + i])) << (8 * i);
  return v;
}

// What name_to_handle_at gives on a Linux NFS mount (fs/nfs/export.c, nfs_encode_fh) for a
// regular file with fileid 0x100000002 whose server handle is `server`, as the syscall executor
// holds it: handle_type (the length in words), then f_handle.
std::string NfsClientHandle(const std::string& server) {
  const uint32_t words = 3 + (2 + server.size() + 3) / 4;
  std::string h;
  PutLe(&h, words, 4);
  PutLe(&h, 1, 4);        // fileid high
  PutLe(&h, 2, 4);        // fileid low
  PutLe(&h, 0100000, 4);  // S_IFREG
  PutLe(&h, static_cast<uint32_t>(server.size()), 2);
  h += server;
  h.resize(4 + words * 4, '\0');
  return h;
}

TEST(SweepTest, BareHandleEveryByteEveryMaskTruncationsAndExtensions) {
  const std::string held = Bytes(40, 0x10);
  auto sweep = SweepHandle(held, {HandleFrame::Kind::kBare, kNfs3MaxHandle}, {0x01, 0x80, 0xff});
  ASSERT_TRUE(sweep.ok()) << sweep.status().ToString();
  // 40 offsets x 3 masks, 40 truncations, extensions to 41, 48 and 64.
  ASSERT_EQ(sweep->size(), 40u * 3 + 40 + 3);
  std::set<std::string> distinct;
  for (size_t i = 0; i < 120; ++i) {
    const SweptHandle& s = (*sweep)[i];
    EXPECT_EQ(s.point.offset, i / 3);
    EXPECT_EQ(s.point.mask, std::vector<uint8_t>({0x01, 0x80, 0xff})[i % 3]);
    ASSERT_EQ(s.bytes.size(), held.size());
    for (size_t b = 0; b < held.size(); ++b) {
      const uint8_t want =
          b == s.point.offset ? static_cast<uint8_t>(held[b]) ^ s.point.mask : held[b];
      EXPECT_EQ(static_cast<uint8_t>(s.bytes[b]), want) << i << " " << b;
    }
    distinct.insert(s.bytes);
  }
  EXPECT_EQ(distinct.size(), 120u);
  for (size_t len = 0; len < 40; ++len) {
    const SweptHandle& s = (*sweep)[120 + len];
    EXPECT_EQ(s.point.mask, 0);
    EXPECT_EQ(s.point.length, len);
    EXPECT_EQ(s.bytes, held.substr(0, len));
  }
  const std::vector<uint32_t> longer{41, 48, 64};
  for (size_t k = 0; k < 3; ++k) {
    const SweptHandle& s = (*sweep)[160 + k];
    EXPECT_EQ(s.point.length, longer[k]);
    EXPECT_EQ(s.bytes, held + std::string(longer[k] - 40, '\0'));
  }
}

TEST(SweepTest, ExtensionsStopAtTheProtocolMaximum) {
  auto full = SweepHandle(Bytes(64, 0), {HandleFrame::Kind::kBare, kNfs3MaxHandle}, {0xff});
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->size(), 64u + 64);  // flips and truncations, nothing longer than 64
  auto near = SweepHandle(Bytes(60, 0), {HandleFrame::Kind::kBare, kNfs3MaxHandle}, {0xff});
  ASSERT_TRUE(near.ok());
  ASSERT_EQ(near->size(), 60u + 60 + 2);  // 61 and 64; 68 is over the maximum
  EXPECT_EQ(near->back().point.length, 64u);
}

TEST(SweepTest, SyscallHandleKeepsItsType) {
  const std::string held = std::string("\xf8\x00\x00\x00", 4) + Bytes(29, 0x40);
  auto sweep = SweepHandle(held, {HandleFrame::Kind::kSyscall, kMaxHandleSz}, {0x80});
  ASSERT_TRUE(sweep.ok());
  ASSERT_EQ(sweep->size(), 29u + 29 + 3);  // extensions to 30, 37 and 128
  for (const SweptHandle& s : *sweep) EXPECT_EQ(s.bytes.substr(0, 4), held.substr(0, 4));
  EXPECT_EQ((*sweep)[0].bytes[4], static_cast<char>(0x40 ^ 0x80));
  EXPECT_EQ((*sweep)[29].bytes, held.substr(0, 4));  // truncated to no f_handle at all
  EXPECT_EQ(sweep->back().bytes.size(), 4u + 128);
  EXPECT_FALSE(
      SweepHandle("\x01\x00\x00\x00", {HandleFrame::Kind::kSyscall, kMaxHandleSz}, {1}).ok());
}

// The NFS client's wrapping stays what nfs_fh_to_dentry accepts: the fileid and type words
// unchanged, the length field and handle_type following the new length, zero padding; only the
// server's handle inside it changes.
TEST(SweepTest, NfsClientHandleCorruptsOnlyTheServerHandleInside) {
  const std::string server = Bytes(41, 0x20);  // 2 + 41 bytes: 11 words, padded by one byte
  const std::string held = NfsClientHandle(server);
  ASSERT_EQ(held.size(), 4u + 14 * 4);
  auto sweep = SweepHandle(held, {HandleFrame::Kind::kNfsClient, kNfs3MaxHandle}, {0x01, 0xff});
  ASSERT_TRUE(sweep.ok()) << sweep.status().ToString();
  ASSERT_EQ(sweep->size(), 41u * 2 + 41 + 3);  // extensions to 42, 49 and 64
  for (const SweptHandle& s : *sweep) {
    const std::string& b = s.bytes;
    ASSERT_GE(b.size(), 4u + 14);
    const uint32_t words = GetLe(b, 0, 4);
    ASSERT_EQ(b.size(), 4 + words * 4) << "handle_type is the length in words";
    EXPECT_EQ(b.substr(4, 12), held.substr(4, 12)) << "fileid and type words kept";
    const uint32_t n = GetLe(b, 16, 2);
    EXPECT_EQ(words, 3 + (2 + n + 3) / 4);
    EXPECT_EQ(b.substr(18 + n), std::string(b.size() - 18 - n, '\0')) << "zero padding";
    const std::string inner = b.substr(18, n);
    if (s.point.mask != 0) {
      ASSERT_EQ(n, server.size());
      std::string want = server;
      want[s.point.offset] = static_cast<char>(want[s.point.offset] ^ s.point.mask);
      EXPECT_EQ(inner, want);
    } else {
      EXPECT_EQ(n, s.point.length);
      std::string want = server;
      want.resize(s.point.length, '\0');
      EXPECT_EQ(inner, want);
    }
  }
  // Truncated to nothing: the wrapping alone, 3 + 1 words.
  EXPECT_EQ((*sweep)[82].bytes.size(), 4u + 16);
  EXPECT_EQ(GetLe((*sweep)[82].bytes, 0, 4), 4u);
  // Over NFSv4 the server handle may grow to what still fits MAX_HANDLE_SZ once wrapped.
  auto v4 = SweepHandle(held, {HandleFrame::Kind::kNfsClient, kMaxHandleSz}, {0x01});
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->back().point.length, kMaxHandleSz - 14);
  EXPECT_LE(v4->back().bytes.size(), 4 + kMaxHandleSz);
}

TEST(SweepTest, RejectsWhatIsNoHandleOfTheFrame) {
  const HandleFrame nfs{HandleFrame::Kind::kNfsClient, kNfs3MaxHandle};
  EXPECT_FALSE(SweepHandle(std::string(10, '\0'), nfs, {1}).ok());
  std::string lying = NfsClientHandle(Bytes(8, 1));
  lying[16] = 100;  // says 100 bytes follow
  EXPECT_FALSE(SweepHandle(lying, nfs, {1}).ok());
  EXPECT_FALSE(SweepHandle("ab", {HandleFrame::Kind::kBare, kNfs3MaxHandle}, {1, 0}).ok());
  EXPECT_TRUE(SweepHandle("ab", {HandleFrame::Kind::kBare, kNfs3MaxHandle}, {1}).ok());
}

TEST(SweepTest, SweepPointRoundTripsThroughOpJson) {
  Op op;
  op.seq = 3;
  op.kind = Kind::kGetAttr;
  op.target.raw = std::string("\x01\x02", 2);
  op.target.sweep = SweepPoint{"H", 1, 0x80, 0};
  nlohmann::json j = op;
  EXPECT_EQ(j["target"]["sweep"], nlohmann::json({{"of", "H"}, {"offset", 1}, {"mask", 128}}));
  auto back = OpFromJson(j);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->target.sweep, op.target.sweep);
  op.target.sweep = SweepPoint{"H", 0, 0, 7};
  j = op;
  EXPECT_EQ(j["target"]["sweep"], nlohmann::json({{"of", "H"}, {"length", 7}}));
  EXPECT_EQ(OpFromJson(j)->target.sweep, op.target.sweep);
  j["target"]["sweep"] = {{"of", "H"}, {"offset", 1}, {"mask", 256}};
  EXPECT_FALSE(OpFromJson(j).ok());
}

}  // namespace
}  // namespace ovl::ops
