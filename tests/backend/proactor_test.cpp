// The Completion Dispatcher: run(), run_one(), poll(), run_for(), stop(),
// restart(), post() and work_guard.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "backend/loopback.hpp"
#include "overlap/error.hpp"
#include "overlap/proactor.hpp"
#include "overlap/task.hpp"
#include "overlap/timer.hpp"

using namespace std::chrono_literals;

namespace {

TEST(proactor, run_returns_at_once_when_no_work_exists) {
  overlap::proactor p;
  EXPECT_EQ(p.run(), 0u);
  EXPECT_FALSE(p.stopped());
}

TEST(proactor, run_returns_when_the_last_operation_completes) {
  overlap::proactor p;
  overlap::timer t(p);
  int fired = 0;
  t.async_wait(1ms, [&](std::error_code ec) {
    EXPECT_FALSE(ec) << ec.message();
    ++fired;
  });
  EXPECT_EQ(p.run(), 1u);
  EXPECT_EQ(fired, 1);
}

TEST(proactor, run_counts_the_handlers_it_ran) {
  overlap::proactor p;
  int ran = 0;
  for (int i = 0; i < 3; ++i) p.post([&] { ++ran; });
  EXPECT_EQ(p.run(), 3u);
  EXPECT_EQ(ran, 3);
}

TEST(proactor, post_never_runs_the_function_inside_post) {
  overlap::proactor p;
  bool inside = true;
  bool ran_inside = false;
  p.post([&] { ran_inside = inside; });
  inside = false;
  p.run();
  EXPECT_FALSE(ran_inside);
}

TEST(proactor, run_one_runs_exactly_one_handler) {
  overlap::proactor p;
  std::vector<int> order;
  p.post([&] { order.push_back(1); });
  p.post([&] { order.push_back(2); });
  EXPECT_EQ(p.run_one(), 1u);
  EXPECT_EQ(order, std::vector<int>{1});
  EXPECT_EQ(p.run_one(), 1u);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(p.run_one(), 0u);  // no work left: returns instead of waiting
}

TEST(proactor, run_one_runs_one_of_several_ready_completions) {
  overlap::proactor p;
  overlap::timer a(p), b(p);
  int fired = 0;
  a.async_wait(0ms, [&](std::error_code) { ++fired; });
  b.async_wait(0ms, [&](std::error_code) { ++fired; });
  EXPECT_EQ(p.run_one(), 1u);
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(p.run_one(), 1u);
  EXPECT_EQ(fired, 2);
}

TEST(proactor, run_one_waits_for_a_post_from_another_thread) {
  overlap::proactor p;
  overlap::proactor::work_guard guard(p);
  std::atomic<bool> ran{false};
  std::thread poster([&] {
    std::this_thread::sleep_for(20ms);  // let run_one() go to sleep first
    p.post([&] { ran = true; });
  });
  const std::size_t n = p.run_one();
  poster.join();
  EXPECT_EQ(n, 1u);
  EXPECT_TRUE(ran) << "run_one() returned before running the posted handler";
}

TEST(proactor, poll_runs_ready_handlers_without_waiting_for_pending_ones) {
  overlap::proactor p;
  overlap::timer t(p);
  std::error_code timer_ec;
  int timer_calls = 0;
  t.async_wait(1h, [&](std::error_code ec) {
    timer_ec = ec;
    ++timer_calls;
  });
  int ran = 0;
  p.post([&] { ++ran; });
  EXPECT_EQ(p.poll(), 1u);
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(timer_calls, 0);
  EXPECT_EQ(p.poll(), 0u);  // nothing ready: returns without blocking
  t.cancel();
  p.run();
  EXPECT_EQ(timer_calls, 1);
  EXPECT_EQ(timer_ec, overlap::errc::operation_aborted);
}

TEST(proactor, run_for_returns_while_work_is_still_pending) {
  overlap::proactor p;
  overlap::timer soon(p), late(p);
  std::vector<int> order;
  soon.async_wait(1ms, [&](std::error_code ec) {
    EXPECT_FALSE(ec);
    order.push_back(1);
  });
  late.async_wait(1h, [&](std::error_code ec) {
    EXPECT_EQ(ec, overlap::errc::operation_aborted);
    order.push_back(2);
  });
  p.run_for(50ms);
  EXPECT_EQ(order, std::vector<int>{1});
  EXPECT_FALSE(p.stopped());
  late.cancel();
  p.run();
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(proactor, run_for_returns_when_no_work_remains) {
  overlap::proactor p;
  overlap::timer t(p);
  int fired = 0;
  t.async_wait(1ms, [&](std::error_code) { ++fired; });
  // If run_for did not return once the work ran out, this would sit for 30 s
  // (and ctest's timeout would report it).
  EXPECT_EQ(p.run_for(30s), 1u);
  EXPECT_EQ(fired, 1);
}

TEST(proactor, stop_from_a_handler_makes_run_return_with_work_pending) {
  overlap::proactor p;
  overlap::timer soon(p), late(p);
  int late_calls = 0;
  soon.async_wait(1ms, [&](std::error_code) { p.stop(); });
  late.async_wait(1h, [&](std::error_code) { ++late_calls; });
  p.run();
  EXPECT_TRUE(p.stopped());
  EXPECT_EQ(late_calls, 0);
  p.restart();
  late.cancel();
  p.run();
  EXPECT_EQ(late_calls, 1);
}

TEST(proactor, stop_from_a_handler_defers_other_ready_handlers_until_restart) {
  overlap::proactor p;
  std::vector<int> order;
  p.post([&] {
    order.push_back(1);
    p.stop();
  });
  p.post([&] { order.push_back(2); });
  p.run();
  EXPECT_EQ(order, std::vector<int>{1});
  EXPECT_EQ(p.run(), 0u);  // still stopped: returns without running anything
  EXPECT_EQ(order, std::vector<int>{1});
  p.restart();
  p.run();
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(proactor, stop_from_a_handler_defers_completions_reaped_in_the_same_batch) {
  overlap::proactor p;
  constexpr int count = 8;
  std::vector<overlap::timer> timers;
  timers.reserve(count);
  int calls = 0;
  for (int i = 0; i < count; ++i) {
    timers.emplace_back(p);
    timers.back().async_wait(0ms, [&](std::error_code) {
      ++calls;
      p.stop();
    });
  }
  while (calls < count) {
    const int before = calls;
    p.restart();
    p.run();
    EXPECT_EQ(calls, before + 1) << "a handler ran after stop()";
  }
}

TEST(proactor, post_from_another_thread_wakes_a_sleeping_run) {
  overlap::proactor p;
  std::optional<overlap::proactor::work_guard> guard(std::in_place, p);
  std::thread::id ran_on;
  std::thread poster([&] {
    std::this_thread::sleep_for(20ms);  // let run() go to sleep first
    p.post([&] {
      ran_on = std::this_thread::get_id();
      guard.reset();  // the last work: run() may now return
    });
  });
  p.run();
  poster.join();
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(proactor, posts_from_many_threads_all_run_on_the_loop_thread) {
  overlap::proactor p;
  std::optional<overlap::proactor::work_guard> guard(std::in_place, p);
  constexpr int threads = 4;
  constexpr int per_thread = 2000;
  int ran = 0;  // touched only on the loop thread
  int wrong_thread = 0;
  const auto loop_id = std::this_thread::get_id();
  std::vector<std::thread> posters;
  for (int t = 0; t < threads; ++t) {
    posters.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) {
        p.post([&] {
          if (std::this_thread::get_id() != loop_id) ++wrong_thread;
          if (++ran == threads * per_thread) guard.reset();
        });
      }
    });
  }
  p.run();
  for (auto& t : posters) t.join();
  EXPECT_EQ(ran, threads * per_thread);
  EXPECT_EQ(wrong_thread, 0);
}

TEST(proactor, stop_from_another_thread_wakes_a_sleeping_run) {
  overlap::proactor p;
  overlap::proactor::work_guard guard(p);
  std::thread stopper([&] {
    std::this_thread::sleep_for(20ms);
    p.stop();
  });
  p.run();  // returns only because of stop(): the guard keeps work outstanding
  stopper.join();
  EXPECT_TRUE(p.stopped());
}

TEST(proactor, work_guard_reset_lets_run_return) {
  overlap::proactor p;
  overlap::proactor::work_guard guard(p);
  p.post([&] { guard.reset(); });
  EXPECT_EQ(p.run(), 1u);
}

overlap::task<int> add_later(overlap::proactor& p, int a, int b) {
  overlap::timer t(p);
  co_await t.async_wait(1ms, overlap::use_awaitable);
  co_return a + b;
}

overlap::task<void> sum_into(overlap::proactor& p, int& out, bool& started) {
  started = true;
  out = co_await add_later(p, 2, 3);
}

TEST(proactor, spawn_starts_the_task_from_the_loop_not_inside_spawn) {
  overlap::proactor p;
  int sum = 0;
  bool started = false;
  overlap::spawn(p, sum_into(p, sum, started));
  EXPECT_FALSE(started);
  p.run();
  EXPECT_TRUE(started);
  EXPECT_EQ(sum, 5);
}

overlap::task<void> throw_after_wait(overlap::proactor& p) {
  overlap::timer t(p);
  co_await t.async_wait(0ms, overlap::use_awaitable);
  throw std::runtime_error("from the task");
}

TEST(proactor, exception_escaping_a_spawned_task_is_rethrown_from_run) {
  overlap::proactor p;
  overlap::spawn(p, throw_after_wait(p));
  EXPECT_THROW(p.run(), std::runtime_error);
}

TEST(proactor, now_is_read_when_a_completion_is_reaped) {
  overlap::proactor p;
  overlap::timer t(p);
  // Asked before the loop runs: the reading is cached until the next batch.
  const auto started = p.now();
  std::chrono::steady_clock::time_point seen{};
  t.async_wait(20ms, [&](std::error_code ec) {
    EXPECT_FALSE(ec) << ec.message();
    seen = p.now();
  });
  p.run();
  // The timer expired at least 20 ms after it was started, and the loop read
  // the clock again after that: the handler cannot see a time before the
  // expiry (nor the cached reading from before the run).
  EXPECT_GE(seen - started, 20ms);
  EXPECT_LE(seen, std::chrono::steady_clock::now());
}

TEST(proactor, now_is_read_again_before_a_read_completion_runs) {
  overlap::proactor p;
  auto [stream, peer] = overlap_test::stream_with_peer(p);
  const auto started = p.now();  // cached until the next batch
  char buf[8];
  std::chrono::steady_clock::time_point seen{};
  std::chrono::steady_clock::time_point sent{};
  stream.async_read_some(std::span<char>(buf), [&](std::error_code ec, std::size_t) {
    EXPECT_FALSE(ec) << ec.message();
    seen = p.now();
  });
  std::thread writer([&, fd = peer.get()] {
    std::this_thread::sleep_for(20ms);
    sent = std::chrono::steady_clock::now();
    overlap_test::write_all_blocking(fd, "x", 1);
  });
  p.run();
  writer.join();
  // The handler sees a reading taken after the byte was sent, not the one
  // cached before the loop ran (for both backends: the emulation performs
  // the read itself when epoll reports readiness).
  EXPECT_GE(seen, sent);
  EXPECT_GE(seen - started, 20ms);
}

TEST(proactor, now_does_not_move_inside_a_handler) {
  overlap::proactor p;
  std::chrono::steady_clock::time_point first{}, second{};
  p.post([&] {
    first = p.now();
    // Let the real clock move on; the loop's clock is only re-read when the
    // loop picks up the next batch.
    const auto until = std::chrono::steady_clock::now() + 2ms;
    while (std::chrono::steady_clock::now() < until) {
    }
    second = p.now();
  });
  p.run();
  EXPECT_EQ(first, second);
  EXPECT_LT(first, std::chrono::steady_clock::now());
}

TEST(proactor, now_advances_from_one_batch_to_the_next) {
  overlap::proactor p;
  overlap::timer t(p);
  std::chrono::steady_clock::time_point in_post{}, in_timer{};
  p.post([&] {
    in_post = p.now();
    t.async_wait(5ms, [&](std::error_code) { in_timer = p.now(); });
  });
  p.run();
  EXPECT_GE(in_timer - in_post, 5ms);
}

TEST(proactor, unknown_backend_name_is_a_setup_error) {
  overlap::proactor_options o;
  o.backend = "no-such-backend";
  EXPECT_THROW(overlap::proactor{o}, std::invalid_argument);
}

TEST(proactor, default_backend_is_io_uring) {
  if (std::getenv("OVERLAP_BACKEND") != nullptr) GTEST_SKIP() << "OVERLAP_BACKEND is set";
  overlap::proactor p;
  EXPECT_STREQ(p.backend_name(), "io_uring");
}

}  // namespace
