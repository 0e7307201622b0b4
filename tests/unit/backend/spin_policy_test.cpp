// The adaptive busy-poll policy: how long the loop spins before sleeping.
#include "backend/spin_policy.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

namespace {

using overlap::detail::spin_policy;
using namespace std::chrono_literals;

// Takes budgets until the first non-zero one; returns how many zeros came first.
unsigned sleeps_before_next_spin(spin_policy& p) {
  unsigned zeros = 0;
  while (p.next_budget() == 0ns) ++zeros;
  return zeros;
}

TEST(SpinPolicy, ZeroLimitNeverSpins) {
  spin_policy p;
  EXPECT_FALSE(p.enabled());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(p.next_budget(), 0ns);
  p.arrived(1us);
  EXPECT_EQ(p.next_budget(), 0ns);
}

TEST(SpinPolicy, NegativeLimitIsOff) {
  spin_policy p(-5us);
  EXPECT_FALSE(p.enabled());
  EXPECT_EQ(p.next_budget(), 0ns);
}

TEST(SpinPolicy, FirstSpinUsesTheWholeLimit) {
  spin_policy p(100us);
  EXPECT_TRUE(p.enabled());
  EXPECT_EQ(p.next_budget(), 100us);
}

TEST(SpinPolicy, BudgetFollowsRecentWaits) {
  spin_policy p(100us);
  for (int i = 0; i < 64; ++i) p.arrived(10us);
  const auto budget = p.next_budget();
  // Twice the typical wait, give or take the average's rounding.
  EXPECT_GE(budget, 19us);
  EXPECT_LE(budget, 22us);
}

TEST(SpinPolicy, BudgetNeverBelowTheMinimumNorAboveTheLimit) {
  spin_policy p(50us);
  for (int i = 0; i < 64; ++i) p.arrived(0ns);
  EXPECT_EQ(p.next_budget(), spin_policy::min_budget);
  for (int i = 0; i < 64; ++i) p.arrived(10ms);
  EXPECT_EQ(p.next_budget(), 50us);
}

TEST(SpinPolicy, ALimitBelowTheMinimumBudgetIsTheBudget) {
  spin_policy p(1us);
  EXPECT_EQ(p.next_budget(), 1us);
  for (int i = 0; i < 8; ++i) p.arrived(0ns);
  EXPECT_EQ(p.next_budget(), 1us);
}

TEST(SpinPolicy, ExpiredSpinsBackOffExponentially) {
  spin_policy p(100us);
  unsigned expected = 1;
  for (int round = 0; round < 10; ++round) {
    ASSERT_GT(p.next_budget(), 0ns);
    p.expired();
    EXPECT_EQ(sleeps_before_next_spin(p), expected) << "round " << round;
    expected = std::min(2 * expected, spin_policy::max_skips);
  }
  EXPECT_EQ(expected, spin_policy::max_skips);
}

TEST(SpinPolicy, ArrivalsHalveTheBackOff) {
  spin_policy p(100us);
  for (int i = 0; i < 4; ++i) {
    p.expired();
    sleeps_before_next_spin(p);
  }
  // Back-off is 8 now: one arrival halves it, the next expiry doubles it back.
  p.arrived(5us);
  p.expired();
  EXPECT_EQ(sleeps_before_next_spin(p), 8u);
  // Enough arrivals bring it down to nothing.
  for (int i = 0; i < 4; ++i) p.arrived(5us);
  p.expired();
  EXPECT_EQ(sleeps_before_next_spin(p), 1u);
}

TEST(SpinPolicy, MostlyExpiringSpinsEndUpRare) {
  // Two expiries for every arrival, as between the bursts of an open-loop load.
  spin_policy p(100us);
  unsigned spins = 0;
  for (int i = 0; i < 3000; ++i) {
    if (p.next_budget() == 0ns) continue;
    ++spins;
    if (spins % 3 == 0) {
      p.arrived(5us);
    } else {
      p.expired();
    }
  }
  EXPECT_LT(spins, 3000u / 16);
}

}  // namespace
