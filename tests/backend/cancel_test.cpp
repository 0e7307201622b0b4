// Cancellation: per operation (overlap::cancel_signal via op_options), and
// per object (tcp_stream::cancel, tcp_acceptor::cancel). A cancelled
// operation reports operation_aborted and its handler runs exactly once.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "backend/forms.hpp"
#include "backend/loopback.hpp"
#include "overlap/cancel_signal.hpp"
#include "overlap/error.hpp"
#include "overlap/proactor.hpp"
#include "overlap/tcp_acceptor.hpp"
#include "overlap/tcp_stream.hpp"
#include "overlap/timer.hpp"

using namespace std::chrono_literals;

namespace {

using overlap_test::form;
using overlap_test::op_record;

class cancel : public ::testing::TestWithParam<form> {};
INSTANTIATE_TEST_SUITE_P(forms, cancel, overlap_test::all_forms(), overlap_test::form_name);

TEST_P(cancel, cancel_signal_aborts_a_pending_read_and_the_stream_stays_usable) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  overlap::cancel_signal sig;
  char buf[16];
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) {
    return s.async_read_some(buf, token, overlap::op_options{.cancel = &sig});
  });
  p.poll();
  ASSERT_EQ(r.calls, 0);
  ASSERT_TRUE(sig.bound());
  sig.emit();
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.ec, overlap::errc::operation_aborted);
  EXPECT_EQ(r.ec, std::errc::operation_canceled);
  EXPECT_FALSE(sig.bound()) << "the signal is released when the operation finishes";

  overlap_test::write_all_blocking(peer.get(), "after", 5);
  std::string got;
  s.async_read_some(buf, [&](std::error_code ec, std::size_t n) {
    EXPECT_FALSE(ec);
    got.assign(buf, n);
  });
  p.run();
  EXPECT_EQ(got, "after");
}

TEST_P(cancel, cancel_signal_aborts_a_pending_read_exact) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  overlap_test::write_all_blocking(peer.get(), "abc", 3);
  overlap::cancel_signal sig;
  char buf[16];
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) {
    return s.async_read(buf, token, overlap::op_options{.cancel = &sig});
  });
  overlap::timer t(p);
  t.async_wait(5ms, [&](std::error_code) { sig.emit(); });
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.ec, overlap::errc::operation_aborted);
  EXPECT_EQ(r.bytes, 3u) << "bytes says how much arrived before the cancellation";
}

TEST_P(cancel, cancel_signal_aborts_a_pending_receive) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  overlap::cancel_signal sig;
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) {
    return s.async_receive(token, overlap::op_options{.cancel = &sig});
  });
  p.poll();
  ASSERT_EQ(r.calls, 0);
  sig.emit();
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.ec, overlap::errc::operation_aborted);
}

TEST_P(cancel, cancel_signal_aborts_a_pending_accept) {
  overlap::proactor p;
  overlap::tcp_acceptor acc(p, overlap_test::loopback(AF_INET));
  overlap::cancel_signal sig;
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) {
    return acc.async_accept(token, overlap::op_options{.cancel = &sig});
  });
  p.poll();
  ASSERT_EQ(r.calls, 0);
  sig.emit();
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.ec, overlap::errc::operation_aborted);
  EXPECT_TRUE(r.peers.empty());
}

TEST_P(cancel, cancel_signal_aborts_a_timer_wait) {
  overlap::proactor p;
  overlap::timer t(p);
  overlap::cancel_signal sig;
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) {
    return t.async_wait(1h, token, overlap::op_options{.cancel = &sig});
  });
  p.poll();
  ASSERT_EQ(r.calls, 0);
  sig.emit();
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.ec, overlap::errc::operation_aborted);
}

TEST_P(cancel, cancel_signal_emitted_after_completion_changes_nothing) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  overlap_test::write_all_blocking(peer.get(), "data", 4);
  overlap::cancel_signal sig;
  char buf[16];
  op_record r;
  r.then = [&] { sig.emit(); };  // the operation has finished: nothing to cancel
  overlap_test::start(GetParam(), p, r, [&](auto&& token) {
    return s.async_read_some(buf, token, overlap::op_options{.cancel = &sig});
  });
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.bytes, 4u);
}

TEST_P(cancel, cancel_emitted_after_the_result_is_queued_still_runs_the_handler_once) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  overlap_test::write_all_blocking(peer.get(), "abcdef", 6);
  s.async_receive([&](std::error_code ec, std::size_t) {
    ASSERT_FALSE(ec);
    s.consume(2);  // leave data queued
  });
  p.run();
  overlap::cancel_signal sig;
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) {
    return s.async_receive(token, overlap::op_options{.cancel = &sig});
  });
  p.poll();  // coroutine form: initiate (the queued result is posted, not yet run)
  if (r.calls == 0) sig.emit();
  p.run();
  EXPECT_EQ(r.calls, 1);
  if (!r.ec) {
    EXPECT_EQ(r.bytes, 4u);
  } else {
    EXPECT_EQ(r.ec, overlap::errc::operation_aborted);
  }
}

TEST_P(cancel, stream_cancel_aborts_every_pending_operation) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);           // the peer never reads
  const std::string big = overlap_test::pattern(32 << 20, 30);  // more than the buffers hold
  char buf[16];
  op_record rd, wr;
  overlap_test::start(GetParam(), p, rd,
                      [&](auto&& token) { return s.async_read_some(buf, token); });
  overlap_test::start(GetParam(), p, wr, [&](auto&& token) { return s.async_write(big, token); });
  overlap::timer t(p);
  t.async_wait(10ms, [&](std::error_code) { s.cancel(); });
  p.run();
  ASSERT_EQ(rd.calls, 1);
  ASSERT_EQ(wr.calls, 1);
  EXPECT_EQ(rd.ec, overlap::errc::operation_aborted);
  EXPECT_EQ(wr.ec, overlap::errc::operation_aborted);
  EXPECT_LT(wr.bytes, big.size());
  EXPECT_TRUE(s.is_open()) << "cancel() does not close";
}

TEST_P(cancel, acceptor_cancel_aborts_a_pending_accept) {
  overlap::proactor p;
  overlap::tcp_acceptor acc(p, overlap_test::loopback(AF_INET));
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) { return acc.async_accept(token); });
  p.poll();
  acc.cancel();
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.ec, overlap::errc::operation_aborted);
}

TEST(cancel_signal, destroying_a_bound_signal_leaves_the_operation_running) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  char buf[16];
  int calls = 0;
  std::error_code got;
  {
    auto sig = std::make_unique<overlap::cancel_signal>();
    s.async_read_some(
        buf,
        [&](std::error_code ec, std::size_t) {
          got = ec;
          ++calls;
        },
        overlap::op_options{.cancel = sig.get()});
  }
  overlap_test::write_all_blocking(peer.get(), "x", 1);
  p.run();
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(got) << got.message();
}

TEST(cancel_signal, one_signal_can_serve_successive_operations) {
  overlap::proactor p;
  overlap::timer t(p);
  overlap::cancel_signal sig;
  std::vector<std::error_code> results;
  t.async_wait(
      0ms,
      [&](std::error_code ec) {
        results.push_back(ec);
        t.async_wait(
            1h, [&](std::error_code ec2) { results.push_back(ec2); },
            overlap::op_options{.cancel = &sig});
        p.post([&] { sig.emit(); });
      },
      overlap::op_options{.cancel = &sig});
  p.run();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_FALSE(results[0]);
  EXPECT_EQ(results[1], overlap::errc::operation_aborted);
}

}  // namespace
