// Adaptive busy-polling (proactor_options::busy_poll): a spinning loop must
// deliver every kind of completion a sleeping one does, and report its spins.
// Both backends spin: io_uring on its completion queue, epoll on epoll_wait.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "backend/loopback.hpp"
#include "overlap/proactor.hpp"
#include "overlap/tcp_stream.hpp"
#include "overlap/timer.hpp"

using namespace std::chrono_literals;

namespace {

overlap::proactor_options spinning(std::chrono::microseconds limit) {
  overlap::proactor_options o;
  o.busy_poll = limit;
  return o;
}

std::uint64_t spins(const overlap::proactor& p) {
  const auto st = p.stats();
  return st.busy_polls + st.busy_poll_misses;
}

TEST(busy_poll, off_by_default) {
  overlap::proactor p;
  overlap::timer t(p);
  bool fired = false;
  t.async_wait(2ms, [&](std::error_code ec) { fired = !ec; });
  p.run();
  EXPECT_TRUE(fired);
  EXPECT_EQ(spins(p), 0u);
}

TEST(busy_poll, a_timer_longer_than_the_spin_still_fires) {
  overlap::proactor p(spinning(1ms));
  overlap::timer t(p);
  bool fired = false;
  t.async_wait(20ms, [&](std::error_code ec) { fired = !ec; });
  p.run();
  EXPECT_TRUE(fired);
  // The first idle period spins for the whole limit and then sleeps.
  EXPECT_GE(p.stats().busy_poll_misses, 1u);
}

TEST(busy_poll, a_post_from_another_thread_reaches_a_spinning_loop) {
  overlap::proactor p(spinning(500ms));
  overlap::proactor::work_guard guard(p);
  bool ran = false;
  // The post must arrive while the loop waits, not before run() starts (a
  // loaded machine can delay this thread past a fixed sleep): the poster
  // starts its 2 ms only once the loop has run its first handler.
  std::atomic<bool> running{false};
  p.post([&] { running = true; });
  std::thread poster([&] {
    while (!running) std::this_thread::sleep_for(100us);
    std::this_thread::sleep_for(2ms);
    p.post([&] {
      ran = true;
      guard.reset();
    });
  });
  p.run();
  poster.join();
  EXPECT_TRUE(ran);
  // Seen while spinning: the loop noticed the wake-up without sleeping.
  EXPECT_GE(p.stats().busy_polls, 1u);
}

TEST(busy_poll, stop_from_another_thread_ends_a_spinning_run) {
  overlap::proactor p(spinning(50ms));
  overlap::proactor::work_guard guard(p);
  std::thread stopper([&] {
    std::this_thread::sleep_for(2ms);
    p.stop();
  });
  p.run();
  stopper.join();
  EXPECT_TRUE(p.stopped());
}

TEST(busy_poll, run_for_returns_at_its_deadline_while_spinning) {
  overlap::proactor p(spinning(10ms));
  overlap::proactor::work_guard guard(p);
  const auto start = std::chrono::steady_clock::now();
  p.run_for(30ms);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
}

// A blocking peer on another thread sends 200 messages, each after the echo of
// the previous one: the loop goes idle between them and spins, and every byte
// still arrives in order.
//
// The loop is not always idle between two messages: the epoll emulation tries
// a read at once, and when the peer thread preempts the loop right after its
// echo (both on one busy CPU), the next message is already there. On a loaded
// machine that can happen every round (CI saw zero spins), so every tenth
// message waits a millisecond first: the loop then has an idle period to spin
// in.
TEST(busy_poll, ping_pong_through_a_spinning_loop_is_intact) {
  overlap::proactor p(spinning(5ms));
  auto [s, peer] = overlap_test::stream_with_peer(p);
  constexpr int rounds = 200;
  std::string received;
  std::thread client([fd = peer.get(), &received] {
    for (int i = 0; i < rounds; ++i) {
      const std::string msg = overlap_test::pattern(64, static_cast<std::uint32_t>(i + 1));
      if (i % 10 == 9) std::this_thread::sleep_for(1ms);
      overlap_test::write_all_blocking(fd, msg);
      received += overlap_test::read_exact_blocking(fd, msg.size());
    }
    ::shutdown(fd, SHUT_WR);
  });
  char buf[256];
  std::string echoed;
  std::function<void()> read_next;
  read_next = [&] {
    s.async_read_some(buf, [&](std::error_code ec, std::size_t n) {
      if (ec) return;  // eof once the client is done
      echoed.append(buf, n);
      s.async_write(std::span<const char>(buf, n), [&](std::error_code wec, std::size_t) {
        if (!wec) read_next();
      });
    });
  };
  read_next();
  p.run();
  client.join();
  std::string expected;
  for (int i = 0; i < rounds; ++i) {
    expected += overlap_test::pattern(64, static_cast<std::uint32_t>(i + 1));
  }
  EXPECT_EQ(echoed, expected);
  EXPECT_EQ(received, expected);
  EXPECT_GE(spins(p), 1u);
}

}  // namespace
