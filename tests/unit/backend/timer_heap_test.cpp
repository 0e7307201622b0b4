// The epoll backend's timer heap: operations leave it in expiry order, and
// removing any of them (a cancelled or completed operation) keeps the order
// and every recorded position right.
#include "backend/epoll/timer_heap.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

namespace {

struct test_op : overlap::io_op {
  test_op() : io_op([](io_op*) {}) {}
};

void set(test_op& op, std::int64_t ns) {
  op.ts.tv_sec = ns / 1'000'000'000;
  op.ts.tv_nsec = ns % 1'000'000'000;
}

std::vector<std::int64_t> drain(overlap::detail::timer_heap& h) {
  std::vector<std::int64_t> out;
  while (!h.empty()) {
    overlap::io_op* op = h.top();
    out.push_back(overlap::detail::expiry_ns(*op));
    h.remove(*op);
    EXPECT_EQ(op->timer_index, 0u);
  }
  return out;
}

TEST(timer_heap, pops_in_expiry_order) {
  std::mt19937 rng(7);
  std::vector<std::unique_ptr<test_op>> ops(500);
  overlap::detail::timer_heap h;
  for (auto& op : ops) {
    op = std::make_unique<test_op>();
    set(*op, static_cast<std::int64_t>(rng() % 3'000'000'000u));  // crosses second boundaries
    h.push(*op);
  }
  const auto order = drain(h);
  ASSERT_EQ(order.size(), ops.size());
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
}

TEST(timer_heap, removing_from_the_middle_keeps_the_rest_in_order) {
  std::mt19937 rng(11);
  std::vector<std::unique_ptr<test_op>> ops(300);
  overlap::detail::timer_heap h;
  for (auto& op : ops) {
    op = std::make_unique<test_op>();
    set(*op, static_cast<std::int64_t>(rng() % 1000));  // many equal expiries
    h.push(*op);
  }
  std::vector<std::int64_t> kept;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (i % 3 == 0) {
      h.remove(*ops[i]);
      EXPECT_EQ(ops[i]->timer_index, 0u);
      h.remove(*ops[i]);  // removing twice is harmless
    } else {
      kept.push_back(overlap::detail::expiry_ns(*ops[i]));
    }
  }
  std::sort(kept.begin(), kept.end());
  EXPECT_EQ(drain(h), kept);
}

TEST(timer_heap, a_removed_operation_can_be_armed_again) {
  test_op a, b;
  set(a, 5);
  set(b, 10);
  overlap::detail::timer_heap h;
  h.push(a);
  h.push(b);
  h.remove(a);
  set(a, 20);
  h.push(a);
  EXPECT_EQ(h.top(), &b);
  EXPECT_EQ(drain(h), (std::vector<std::int64_t>{10, 20}));
}

}  // namespace
