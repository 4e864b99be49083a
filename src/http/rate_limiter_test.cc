#include "http/rate_limiter.h"

#include <gtest/gtest.h>

#include "testing/recording_clock.h"

namespace cairn::http {
namespace {

TEST(TokenBucketTest, LimitsRateAndAllowsBurst) {
  testing::RecordingClock clock;
  TokenBucket bucket(10, 5, &clock);                              // 10/s, burst 5
  for (int i = 0; i < 5; ++i) EXPECT_EQ(bucket.Acquire(1), 0.0);  // the burst is free
  bucket.Acquire(1);
  EXPECT_NEAR(clock.slept(), 0.1, 1e-9);
  for (int i = 0; i < 10; ++i) bucket.Acquire(1);
  EXPECT_NEAR(clock.slept(), 1.1, 1e-9);  // 10 more at 10/s
}

TEST(TokenBucketTest, LargeRequestsGoIntoDebt) {
  testing::RecordingClock clock;
  TokenBucket bucket(100, 100, &clock);
  EXPECT_EQ(bucket.Acquire(1000), 0.0);  // larger than the burst: granted, 900 in debt
  bucket.Acquire(1);
  EXPECT_NEAR(clock.slept(), 9.01, 1e-9);  // waits the debt off first
  TokenBucket unlimited(0, 0, &clock);
  EXPECT_TRUE(unlimited.unlimited());
  EXPECT_EQ(unlimited.Acquire(1e12), 0.0);
}

}  // namespace
}  // namespace cairn::http
