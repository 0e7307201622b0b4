// log_rate_limit: how many stderr lines a failing static site may write.
#include <gtest/gtest.h>

#include "site_errors.hpp"

namespace {

using overlap::server::log_rate_limit;
using namespace std::chrono_literals;

TEST(log_rate_limit, admits_up_to_the_limit_within_a_second_and_counts_the_rest) {
  log_rate_limit limit(3);
  const auto t0 = log_rate_limit::clock::time_point{} + 10s;
  EXPECT_TRUE(limit.admit(t0));
  EXPECT_TRUE(limit.admit(t0 + 100ms));
  EXPECT_TRUE(limit.admit(t0 + 200ms));
  EXPECT_FALSE(limit.admit(t0 + 300ms));
  EXPECT_FALSE(limit.admit(t0 + 999ms));
  EXPECT_EQ(limit.take_suppressed(), 2u);
  EXPECT_EQ(limit.take_suppressed(), 0u) << "the count is handed out once";
}

TEST(log_rate_limit, a_new_second_admits_again) {
  log_rate_limit limit(1);
  const auto t0 = log_rate_limit::clock::time_point{} + 10s;
  EXPECT_TRUE(limit.admit(t0));
  EXPECT_FALSE(limit.admit(t0 + 500ms));
  EXPECT_TRUE(limit.admit(t0 + 1s));
  EXPECT_FALSE(limit.admit(t0 + 1500ms));
  EXPECT_TRUE(limit.admit(t0 + 5s));
  EXPECT_EQ(limit.take_suppressed(), 2u);
}

}  // namespace
