// signal_set::async_wait: signals delivered as completions.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "backend/forms.hpp"
#include "overlap/error.hpp"
#include "overlap/proactor.hpp"
#include "overlap/signal_set.hpp"

namespace {

using overlap_test::form;
using overlap_test::op_record;

// signal_set has no handler-object overload: callable and coroutine forms.
class signal_forms : public ::testing::TestWithParam<form> {};
INSTANTIATE_TEST_SUITE_P(forms, signal_forms, ::testing::Values(form::callable, form::coroutine),
                         overlap_test::form_name);

TEST_P(signal_forms, a_raised_signal_completes_the_wait_with_its_number) {
  overlap::proactor p;
  overlap::signal_set signals(p, {SIGUSR1});
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) -> decltype(signals.async_wait(token)) {
    return signals.async_wait(token);
  });
  p.poll();  // the wait is in flight
  ASSERT_EQ(r.calls, 0);
  ASSERT_EQ(::kill(::getpid(), SIGUSR1), 0);
  p.run();
  ASSERT_EQ(r.calls, 1);
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.bytes, static_cast<std::size_t>(SIGUSR1));
}

TEST_P(signal_forms, a_signal_raised_before_the_wait_is_not_lost) {
  overlap::proactor p;
  overlap::signal_set signals(p, {SIGUSR2});
  ASSERT_EQ(::kill(::getpid(), SIGUSR2), 0);  // blocked by the set: stays pending
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) -> decltype(signals.async_wait(token)) {
    return signals.async_wait(token);
  });
  p.run();
  ASSERT_EQ(r.calls, 1);
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.bytes, static_cast<std::size_t>(SIGUSR2));
}

TEST_P(signal_forms, cancel_reports_operation_aborted) {
  overlap::proactor p;
  overlap::signal_set signals(p, {SIGUSR1});
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) -> decltype(signals.async_wait(token)) {
    return signals.async_wait(token);
  });
  p.poll();
  ASSERT_EQ(r.calls, 0);
  signals.cancel();
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.ec, overlap::errc::operation_aborted);
}

TEST(signal_set, two_signals_complete_two_waits_in_turn) {
  overlap::proactor p;
  overlap::signal_set signals(p, {SIGUSR1, SIGUSR2});
  std::vector<std::size_t> got;
  std::function<void(std::error_code, std::size_t)> on_signal = [&](std::error_code ec,
                                                                    std::size_t sig) {
    ASSERT_FALSE(ec);
    got.push_back(sig);
    if (got.size() == 1) {
      ::kill(::getpid(), SIGUSR2);
      signals.async_wait(on_signal);
    }
  };
  signals.async_wait(on_signal);
  p.poll();
  ::kill(::getpid(), SIGUSR1);
  p.run();
  EXPECT_EQ(got, (std::vector<std::size_t>{SIGUSR1, SIGUSR2}));
}

}  // namespace
