// timer::async_wait: expiry, ordering, cancel().
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "backend/forms.hpp"
#include "overlap/error.hpp"
#include "overlap/proactor.hpp"
#include "overlap/timer.hpp"

using namespace std::chrono_literals;

namespace {

using overlap_test::form;
using overlap_test::op_record;

class timer_forms : public ::testing::TestWithParam<form> {};
INSTANTIATE_TEST_SUITE_P(forms, timer_forms, overlap_test::all_forms(), overlap_test::form_name);

TEST_P(timer_forms, wait_completes_without_error_on_expiry) {
  overlap::proactor p;
  overlap::timer t(p);
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) { return t.async_wait(2ms, token); });
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_FALSE(r.ran_during_initiation);
}

TEST_P(timer_forms, zero_duration_wait_completes_outside_the_initiating_call) {
  overlap::proactor p;
  overlap::timer t(p);
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) { return t.async_wait(0ns, token); });
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_FALSE(r.ec);
  EXPECT_FALSE(r.ran_during_initiation);
}

TEST_P(timer_forms, cancel_reports_operation_aborted_once) {
  overlap::proactor p;
  overlap::timer t(p);
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) { return t.async_wait(1h, token); });
  p.poll();  // started (the coroutine form starts from the loop)
  ASSERT_EQ(r.calls, 0);
  t.cancel();
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.ec, overlap::errc::operation_aborted);
  EXPECT_EQ(r.ec, std::errc::operation_canceled);
}

TEST_P(timer_forms, a_timer_can_wait_again_from_its_handler) {
  overlap::proactor p;
  overlap::timer t(p);
  op_record r;
  r.then = [&] {
    if (r.calls < 3)
      overlap_test::start(GetParam(), p, r, [&](auto&& token) { return t.async_wait(1ms, token); });
  };
  overlap_test::start(GetParam(), p, r, [&](auto&& token) { return t.async_wait(1ms, token); });
  p.run();
  EXPECT_EQ(r.calls, 3);
  EXPECT_FALSE(r.ec);
}

TEST(timer, timers_complete_in_expiry_order) {
  overlap::proactor p;
  overlap::timer a(p), b(p), c(p);
  std::vector<char> order;
  c.async_wait(30ms, [&](std::error_code) { order.push_back('c'); });
  a.async_wait(1ms, [&](std::error_code) { order.push_back('a'); });
  b.async_wait(15ms, [&](std::error_code) { order.push_back('b'); });
  p.run();
  EXPECT_EQ(order, (std::vector<char>{'a', 'b', 'c'}));
}

TEST(timer, cancel_with_nothing_pending_is_harmless) {
  overlap::proactor p;
  overlap::timer t(p);
  t.cancel();
  int calls = 0;
  t.async_wait(1ms, [&](std::error_code ec) {
    EXPECT_FALSE(ec);
    ++calls;
  });
  p.run();
  EXPECT_EQ(calls, 1);
}

TEST(timer, cancel_after_expiry_leaves_the_result_alone) {
  overlap::proactor p;
  overlap::timer t(p);
  int calls = 0;
  std::error_code got;
  t.async_wait(0ms, [&](std::error_code ec) {
    got = ec;
    ++calls;
    t.cancel();  // nothing in flight any more
  });
  p.run();
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(got);
}

TEST(timer, destroying_a_timer_aborts_its_pending_wait) {
  overlap::proactor p;
  int calls = 0;
  std::error_code got;
  {
    overlap::timer t(p);
    t.async_wait(1h, [&](std::error_code ec) {
      got = ec;
      ++calls;
    });
  }
  p.run();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(got, overlap::errc::operation_aborted);
}

}  // namespace
