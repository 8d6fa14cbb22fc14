// HandleCodec: the byte budget of docs/handle-format.md and the volatile negative control.
#include "union/handle_codec.h"

#include <gtest/gtest.h>

namespace ovl {
namespace {

const std::array<uint8_t, 16> kUuid = {1, 2, 3};
const SipKey kKey = {4, 5, 6};

HandleFields Fields(size_t fh_bytes, std::optional<uint32_t> generation = std::nullopt) {
  HandleFields f;
  f.id.layer = 0;
  f.id.fh = RealFh{1, std::string(fh_bytes, 'x')};
  f.generation = generation;
  return f;
}

// A nested overlay's lower handle is an overlay handle of up to 32 bytes: the volatile control
// must fit it as the persistent handle does (it took 4 bytes more, and answered EOVERFLOW).
TEST(HandleCodecTest, AVolatileHandleFitsTheRealHandleAPersistentOneFits) {
  const HandleCodec persistent(kUuid, kKey);
  const HandleCodec instance(kUuid, kKey, true, 7);
  auto p = persistent.Encode(Fields(32));
  auto v = instance.Encode(Fields(32, 7));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->size(), HandleCodec::kMaxSize);
  EXPECT_EQ(persistent.Encode(Fields(33)).status().code(), EOVERFLOW);
  auto back = instance.Decode(*v);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->generation, std::optional<uint32_t>(7));
  EXPECT_EQ(back->id, Fields(32).id);
}

TEST(HandleCodecTest, AVolatileHandleIsStaleOnAnyOtherInstance) {
  const HandleCodec instance(kUuid, kKey, true, 7);
  const std::string h = *instance.Encode(Fields(8, 7));
  EXPECT_EQ(HandleCodec(kUuid, kKey, true, 8).Decode(h).status().code(), ESTALE);
  EXPECT_EQ(HandleCodec(kUuid, kKey).Decode(h).status().code(), ESTALE);
}

TEST(HandleCodecTest, APersistentHandleWithAChangedTagIsABadHandle) {
  const HandleCodec persistent(kUuid, kKey);
  std::string h = *persistent.Encode(Fields(8));
  h.back() ^= 1;
  EXPECT_EQ(persistent.Decode(h).status().code(), kErrBadHandle);
}

}  // namespace
}  // namespace ovl
