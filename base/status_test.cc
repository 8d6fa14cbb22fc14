// Status and Result<T>: the contract that a Result holds a value or an error, never "OK" alone.
#include "base/status.h"

#include <gtest/gtest.h>

#include <string>

namespace ovl {
namespace {

Result<int> Half(int n) {
  if (n % 2 != 0) return Status::Error(EINVAL, "odd: " + std::to_string(n));
  return n / 2;
}

Result<int> Quarter(int n) {
  OVL_ASSIGN_OR_RETURN(int half, Half(n));
  return Half(half);
}

TEST(ResultTest, HoldsAValueOrAnError) {
  Result<int> v = Half(8);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 4);
  EXPECT_TRUE(v.status().ok());
  Result<int> e = Quarter(6);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), EINVAL);
  EXPECT_EQ(e.status().message(), "odd: 3");
}

TEST(ResultDeathTest, AnOkStatusIsNotAResult) {
  EXPECT_DEATH({ Result<int> r(Status::Ok()); }, "Result<T> constructed from an OK status");
}

TEST(ResultDeathTest, ValueOfAnErrorAbortsWithTheStatusText) {
  Result<std::string> e = Status::Error(ENOENT, "open /nowhere");
  EXPECT_DEATH((void)e.value(), "value\\(\\) of an error: open /nowhere: No such file");
  EXPECT_DEATH((void)*e, "open /nowhere");
  EXPECT_DEATH((void)e->size(), "open /nowhere");
  EXPECT_DEATH((void)std::move(e).value(), "open /nowhere");
}

}  // namespace
}  // namespace ovl
