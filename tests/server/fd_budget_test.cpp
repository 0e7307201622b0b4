// plan_fd_budget: how overlap serve splits RLIMIT_NOFILE between connections
// and the descriptors it keeps for files and itself.
#include "fd_budget.hpp"

#include <gtest/gtest.h>

namespace {

using overlap::server::fds_per_process;
using overlap::server::fds_per_thread;
using overlap::server::plan_fd_budget;

rlimit limits(rlim_t soft, rlim_t hard) {
  rlimit r{};
  r.rlim_cur = soft;
  r.rlim_max = hard;
  return r;
}

constexpr std::uint64_t reserve_for(unsigned threads, std::size_t cache) {
  return std::uint64_t{threads} * (cache + fds_per_thread) + fds_per_process;
}

TEST(fd_budget, raises_the_soft_limit_to_what_is_needed_when_the_hard_limit_allows) {
  const auto b = plan_fd_budget(limits(1024, 1048576), 10000, 2, 1024, false);
  EXPECT_EQ(b.reserve, reserve_for(2, 1024));
  EXPECT_EQ(b.soft_limit, 10000 + reserve_for(2, 1024));
  EXPECT_EQ(b.max_connections, 10000u);
  EXPECT_FALSE(b.limited);
}

TEST(fd_budget, never_lowers_a_soft_limit_that_is_already_enough) {
  const auto b = plan_fd_budget(limits(500000, 1048576), 10000, 2, 1024, false);
  EXPECT_EQ(b.soft_limit, 500000u);
  EXPECT_EQ(b.max_connections, 10000u);
  EXPECT_FALSE(b.limited);
}

TEST(fd_budget, an_infinite_hard_limit_is_no_limit) {
  const auto b = plan_fd_budget(limits(1024, RLIM_INFINITY), 10000, 1, 8, false);
  EXPECT_EQ(b.soft_limit, 10000 + reserve_for(1, 8));
  EXPECT_FALSE(b.limited);
}

TEST(fd_budget, default_connections_shrink_to_what_the_hard_limit_leaves) {
  // Hard limit 4096, 1 thread with an 8-entry cache: 4096 - 56 = 4040 fit.
  const auto b = plan_fd_budget(limits(1024, 4096), 10000, 1, 8, false);
  EXPECT_EQ(b.soft_limit, 4096u);
  EXPECT_TRUE(b.limited);
  EXPECT_EQ(b.max_connections, 4096 - reserve_for(1, 8));
}

TEST(fd_budget, an_explicit_max_connections_is_kept_even_when_it_does_not_fit) {
  const auto b = plan_fd_budget(limits(1024, 4096), 10000, 1, 8, true);
  EXPECT_TRUE(b.limited);
  EXPECT_EQ(b.max_connections, 10000u);
}

TEST(fd_budget, a_reserve_larger_than_the_limit_still_leaves_half_for_connections) {
  // 2 threads x 1024 cache entries want 2112 descriptors kept; with only
  // 1024 in all, half go to connections (caches are rarely full).
  const auto b = plan_fd_budget(limits(1024, 1024), 10000, 2, 1024, false);
  EXPECT_TRUE(b.limited);
  EXPECT_EQ(b.max_connections, 512u);
}

TEST(fd_budget, half_the_limit_covering_the_default_is_not_reported_as_a_limit) {
  // 64 threads' caches would want more than the hard limit, but half of it
  // still holds every connection asked for.
  const auto b = plan_fd_budget(limits(20000, 20000), 10000, 64, 1024, false);
  EXPECT_EQ(b.max_connections, 10000u);
  EXPECT_FALSE(b.limited);
}

TEST(fd_budget, a_small_request_that_fits_is_left_alone) {
  const auto b = plan_fd_budget(limits(1024, 1024), 100, 1, 8, false);
  EXPECT_FALSE(b.limited);
  EXPECT_EQ(b.max_connections, 100u);
  EXPECT_EQ(b.soft_limit, 1024u);
}

}  // namespace
