// Destroying a proactor with operations in flight runs no handler and leaks
// nothing: no memory (checked by LSan in the sanitizer build), no descriptor
// (checked here by counting /proc/self/fd).
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <memory>
#include <string>

#include "backend/loopback.hpp"
#include "overlap/error.hpp"
#include "overlap/proactor.hpp"
#include "overlap/task.hpp"
#include "overlap/tcp_acceptor.hpp"
#include "overlap/tcp_stream.hpp"
#include "overlap/timer.hpp"

using namespace std::chrono_literals;

namespace {

struct counting_handler final : overlap::stream_handler,
                                overlap::accept_handler,
                                overlap::timer_handler {
  int* calls;
  explicit counting_handler(int& c) : calls(&c) {}
  void on_read_complete(std::error_code, std::size_t) override { ++*calls; }
  void on_write_complete(std::error_code, std::size_t) override { ++*calls; }
  void on_accept_complete(std::error_code, overlap::tcp_stream, bool) override { ++*calls; }
  void on_timer_complete(std::error_code) override { ++*calls; }
};

// A task that owns a stream and sits in a read that never completes.
overlap::task<void> read_forever(overlap::tcp_stream s, int& calls) {
  char buf[64];
  co_await s.async_read_some(buf, overlap::use_awaitable);
  ++calls;
}

// A task that owns a stream with received data queued (buffer-ring buffers
// held) and waits on a timer.
overlap::task<void> hold_received_data(overlap::proactor& p, overlap::tcp_stream s, int& calls) {
  co_await s.async_receive(overlap::use_awaitable);
  overlap::timer t(p);
  co_await t.async_wait(1h, overlap::use_awaitable);
  ++calls;
}

// A task that owns a stream whose handler-object read is in flight.
overlap::task<void> own_stream_for_handler(overlap::proactor& p, overlap::tcp_stream s,
                                           overlap::stream_handler& h) {
  char buf[64];
  s.async_read_some(buf, h);
  overlap::timer t(p);
  co_await t.async_wait(1h, overlap::use_awaitable);
}

overlap::task<void> accept_forever(overlap::proactor& p, int& calls) {
  overlap::tcp_acceptor acc(p, overlap_test::loopback(AF_INET));
  co_await acc.async_accept(overlap::use_awaitable);
  ++calls;
}

TEST(lifetime, destroying_a_proactor_with_operations_in_flight_runs_no_handler_and_leaks_nothing) {
  const int fds_before = overlap_test::open_fd_count();
  int calls = 0;
  counting_handler handler(calls);  // outlives the proactor
  std::vector<overlap_test::unique_fd> peers;
  {
    auto p = std::make_unique<overlap::proactor>();

    // A pending accept owned by its callable.
    auto acc = std::make_shared<overlap::tcp_acceptor>(*p, overlap_test::loopback(AF_INET));
    acc->async_accept([acc, &calls](std::error_code, overlap::tcp_stream) { ++calls; });
    acc.reset();
    // A pending multishot accept with a handler object, the acceptor owned by a callable's capture.
    auto acc2 = std::make_shared<overlap::tcp_acceptor>(*p, overlap_test::loopback(AF_INET));
    acc2->async_accept_multishot(handler);
    auto t_hold = std::make_shared<overlap::timer>(*p);
    t_hold->async_wait(1h, [t_hold, acc2, &calls](std::error_code) { ++calls; });
    t_hold.reset();
    acc2.reset();
    // A pending accept inside a suspended task.
    overlap::spawn(*p, accept_forever(*p, calls));

    // Pending reads in all three forms.
    {
      auto [s, peer] = overlap_test::stream_with_peer(*p);
      auto held = std::make_shared<overlap::tcp_stream>(std::move(s));
      auto buf = std::make_shared<std::array<char, 64>>();
      held->async_read_some(*buf, [held, buf, &calls](std::error_code, std::size_t) { ++calls; });
      peers.push_back(std::move(peer));
    }
    {
      auto [s, peer] = overlap_test::stream_with_peer(*p);
      overlap::spawn(*p, read_forever(std::move(s), calls));
      peers.push_back(std::move(peer));
    }
    {
      auto [s, peer] = overlap_test::stream_with_peer(*p);
      overlap::spawn(*p, own_stream_for_handler(*p, std::move(s), handler));
      peers.push_back(std::move(peer));
    }
    // A stream holding received data in ring buffers.
    {
      auto [s, peer] = overlap_test::stream_with_peer(*p);
      overlap_test::write_all_blocking(peer.get(), "held", 4);
      overlap::spawn(*p, hold_received_data(*p, std::move(s), calls));
      peers.push_back(std::move(peer));
    }
    // A pending timer with a handler object, the timer owned by a callable.
    auto t = std::make_shared<overlap::timer>(*p);
    t->async_wait(1h, handler);
    auto t2 = std::make_shared<overlap::timer>(*p);
    t2->async_wait(1h, [t, t2, &calls](std::error_code) { ++calls; });
    t.reset();
    t2.reset();

    // Let everything start (tasks run to their first suspension).
    p->poll();
    p->run_for(10ms);
    ASSERT_EQ(calls, 0) << "nothing should have completed yet";
    p.reset();
  }
  EXPECT_EQ(calls, 0) << "a handler ran during the proactor's destruction";
  peers.clear();
  EXPECT_EQ(overlap_test::open_fd_count(), fds_before) << "a descriptor leaked";
}

TEST(lifetime, streams_closed_just_before_the_proactor_is_destroyed_release_their_descriptors) {
  const int fds_before = overlap_test::open_fd_count();
  int calls = 0;
  {
    overlap::proactor p;
    auto [s, peer] = overlap_test::stream_with_peer(p);
    overlap::tcp_acceptor acc(p, overlap_test::loopback(AF_INET));
    char buf[16];
    s.async_read_some(buf, [&](std::error_code, std::size_t) { ++calls; });
    acc.async_accept([&](std::error_code, overlap::tcp_stream) { ++calls; });
    p.poll();  // both operations are now in the kernel
    ASSERT_EQ(calls, 0);
    s.close();  // queues the cancellation and the close; the loop never runs again
    acc.close();
  }  // peer, stream, acceptor, then the proactor are destroyed
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(overlap_test::open_fd_count(), fds_before) << "a descriptor leaked";
}

TEST(lifetime, a_stream_destroyed_with_a_read_in_flight_aborts_the_read) {
  overlap::proactor p;
  int calls = 0;
  std::error_code got;
  auto buf = std::make_unique<char[]>(16);
  auto [s0, peer] =
      overlap_test::stream_with_peer(p);  // the peer stays open: no eof races the abort
  {
    overlap::tcp_stream s = std::move(s0);
    s.async_read_some(std::span<char>(buf.get(), 16), [&](std::error_code ec, std::size_t) {
      got = ec;
      ++calls;
    });
  }
  p.run();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(got, overlap::errc::operation_aborted);
}

// The io_uring backend hands an operation to the kernel when the loop next
// enters it. A proactor destroyed before then must not start the operation:
// its handler will never run, so its owner may already have freed the buffer
// (a load generator sent freed heap memory this way).
TEST(lifetime, destroying_a_proactor_never_starts_an_operation_it_had_not_submitted) {
  const std::string message = "never sent";
  overlap_test::unique_fd peer;
  {
    overlap::proactor p;
    if (!overlap_test::uses_io_uring(p)) {
      GTEST_SKIP() << "the epoll emulation starts a write in the initiating call";
    }
    auto [s, pr] = overlap_test::stream_with_peer(p);
    peer = std::move(pr);
    int calls = 0;
    s.async_write(message, [&](std::error_code, std::size_t) { ++calls; });
    EXPECT_EQ(calls, 0);
  }  // the stream (its close is queued), then the proactor
  EXPECT_EQ(overlap_test::read_to_eof_blocking(peer.get()), "");
}

TEST(lifetime, many_proactors_in_sequence_release_their_rings_and_descriptors) {
  const int fds_before = overlap_test::open_fd_count();
  for (int i = 0; i < 50; ++i) {
    overlap::proactor p;
    overlap::timer t(p);
    t.async_wait(0ms, [](std::error_code) {});
    p.run();
  }
  EXPECT_EQ(overlap_test::open_fd_count(), fds_before);
}

}  // namespace
