// The post-reactive dispatch strategy: another event loop waits on
// proactor::native_handle() and calls poll() when it is readable.
#include <gtest/gtest.h>
#include <sys/epoll.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>

#include "backend/loopback.hpp"
#include "overlap/proactor.hpp"
#include "overlap/timer.hpp"

using namespace std::chrono_literals;

namespace {

// A foreign loop: an epoll instance watching the proactor's descriptor.
class outer_loop {
 public:
  explicit outer_loop(overlap::proactor& p) : epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
    fd_ = p.native_handle();
    epoll_event ev{};
    ev.events = EPOLLIN;
    ok_ = fd_ >= 0 && ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd_, &ev) == 0;
  }
  bool ok() const noexcept { return ok_; }
  // Whether the proactor's descriptor became readable within `limit`.
  // (An interrupted wait is retried, as any loop does: io_uring's task work
  // for this thread can interrupt a sleep like a signal.)
  bool readable_within(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      epoll_event ev{};
      const int n =
          ::epoll_wait(epoll_.get(), &ev, 1, static_cast<int>(std::max(left.count(), 0L)));
      if (n >= 0) return n == 1;
      ++interruptions;
      if (errno != EINTR || left.count() <= 0) return false;
    }
  }
  int interruptions = 0;

 private:
  overlap_test::unique_fd epoll_;
  int fd_ = -1;
  bool ok_ = false;
};

TEST(post_reactive, a_due_timer_makes_the_descriptor_readable) {
  overlap::proactor p;
  outer_loop outer(p);
  ASSERT_TRUE(outer.ok());
  overlap::timer t(p);
  bool fired = false;
  t.async_wait(20ms, [&](std::error_code ec, std::size_t) { fired = !ec; });
  p.poll();  // submits the timer
  EXPECT_FALSE(outer.readable_within(0ms)) << "nothing is due yet";
  // Wait in the outer loop, as its owner would, until the timer is due.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!fired && std::chrono::steady_clock::now() < deadline) {
    if (outer.readable_within(1000ms)) p.poll();
  }
  EXPECT_TRUE(fired);
  EXPECT_FALSE(outer.readable_within(0ms)) << "poll() took everything: not readable again";
}

TEST(post_reactive, arriving_data_makes_the_descriptor_readable) {
  overlap::proactor p;
  outer_loop outer(p);
  ASSERT_TRUE(outer.ok());
  auto [stream, peer] = overlap_test::stream_with_peer(p);
  char buf[8];
  std::size_t got = 0;
  stream.async_read_some(std::span<char>(buf), [&](std::error_code ec, std::size_t n) {
    EXPECT_FALSE(ec) << ec.message();
    got = n;
  });
  p.poll();
  EXPECT_FALSE(outer.readable_within(0ms));
  overlap_test::write_all_blocking(peer.get(), "abc", 3);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (got == 0 && std::chrono::steady_clock::now() < deadline) {
    if (outer.readable_within(1000ms)) p.poll();
  }
  EXPECT_EQ(got, 3u);
}

TEST(post_reactive, a_post_from_another_thread_makes_the_descriptor_readable) {
  overlap::proactor p;
  outer_loop outer(p);
  ASSERT_TRUE(outer.ok());
  p.poll();
  std::atomic<bool> ran{false};
  std::thread other([&] { p.post([&] { ran = true; }); });
  other.join();
  ASSERT_TRUE(outer.readable_within(5000ms));
  p.poll();
  EXPECT_TRUE(ran);
  EXPECT_FALSE(outer.readable_within(0ms));
}

}  // namespace
