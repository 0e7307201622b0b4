// async_receive: data lands in proactor-provided buffers, read with
// received() and released with consume().
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "backend/forms.hpp"
#include "backend/loopback.hpp"
#include "overlap/error.hpp"
#include "overlap/proactor.hpp"
#include "overlap/task.hpp"
#include "overlap/tcp_stream.hpp"

namespace {

using overlap_test::form;
using overlap_test::op_record;

class receive : public ::testing::TestWithParam<form> {};
INSTANTIATE_TEST_SUITE_P(forms, receive, overlap_test::all_forms(), overlap_test::form_name);

std::string as_string(std::span<const char> s) {
  return std::string(s.data(), s.size());
}

TEST_P(receive, receive_exposes_the_data_through_received_and_consume) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  overlap_test::write_all_blocking(peer.get(), "hello world", 11);
  op_record r;
  std::string seen;
  r.then = [&] {
    seen = as_string(s.received());
    s.consume(s.received().size());
  };
  overlap_test::start(GetParam(), p, r, [&](auto&& token) { return s.async_receive(token); });
  p.run();
  ASSERT_EQ(r.calls, 1);
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.bytes, seen.size()) << "bytes == received().size()";
  EXPECT_EQ(seen, "hello world");
  EXPECT_TRUE(s.received().empty()) << "consume() released everything";
}

TEST_P(receive, partly_consumed_data_is_offered_again_by_the_next_receive) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  overlap_test::write_all_blocking(peer.get(), "abcdef", 6);
  std::string first;
  s.async_receive([&](std::error_code ec, std::size_t) {
    ASSERT_FALSE(ec);
    first = as_string(s.received());
    s.consume(2);
  });
  p.run();
  ASSERT_EQ(first, "abcdef");
  EXPECT_EQ(as_string(s.received()), "cdef");
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) { return s.async_receive(token); });
  p.run();
  ASSERT_EQ(r.calls, 1);
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.bytes, 4u);
  EXPECT_EQ(as_string(s.received()), "cdef");
  EXPECT_FALSE(r.ran_during_initiation) << "queued data must not complete inside async_receive";
}

TEST_P(receive, receive_reports_eof_when_the_peer_closes) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) { return s.async_receive(token); });
  peer.reset();
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.ec, overlap::errc::eof);
  EXPECT_EQ(r.bytes, 0u);
  EXPECT_TRUE(s.received().empty());
}

TEST_P(receive, receive_delivers_queued_data_before_eof) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  overlap_test::write_all_blocking(peer.get(), "xy", 2);
  peer.reset();
  std::string got;
  std::error_code last;
  int calls = 0;
  op_record r;
  r.then = [&] {
    ++calls;
    if (r.ec) {
      last = r.ec;
      return;
    }
    got += as_string(s.received());
    s.consume(s.received().size());
    if (calls < 10)
      overlap_test::start(GetParam(), p, r, [&](auto&& token) { return s.async_receive(token); });
  };
  overlap_test::start(GetParam(), p, r, [&](auto&& token) { return s.async_receive(token); });
  p.run();
  EXPECT_EQ(got, "xy");
  EXPECT_EQ(last, overlap::errc::eof);
}

overlap::task<void> receive_all(overlap::tcp_stream& s, std::string& out, std::error_code& end) {
  for (;;) {
    auto [ec, n] = co_await s.async_receive(overlap::use_awaitable);
    if (ec) {
      end = ec;
      co_return;
    }
    const auto data = s.received();
    out.append(data.data(), data.size());
    s.consume(data.size());
  }
}

TEST(receive_stream, a_large_transfer_arrives_intact_through_the_buffer_ring) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  const std::string data = overlap_test::pattern(3 << 20, 20);
  std::thread writer([&, fd = peer.get()] {
    overlap_test::write_all_blocking(fd, data);
    ::shutdown(fd, SHUT_WR);
  });
  std::string got;
  std::error_code end;
  overlap::spawn(p, receive_all(s, got, end));
  p.run();
  writer.join();
  EXPECT_EQ(end, overlap::errc::eof);
  ASSERT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data) << "bytes differ";
}

}  // namespace

// With the shared ring empty, a receive goes to a private ("spill") buffer.
// Closing the stream while that receive waits must cancel it: until it ends,
// the kernel holds the socket open (the peer would see no FIN) and may still
// write into the buffer, which must therefore outlive it.
TEST(receive_stream, closing_a_stream_whose_receive_waits_in_a_private_buffer_ends_it) {
  overlap::proactor_options options;
  options.recv_buffer_count = 2;
  options.recv_buffer_size = 64;
  overlap::proactor p(options);
  // Two streams each take one of the two ring buffers and keep it (their data
  // is never consumed): the ring is empty.
  auto [a, peer_a] = overlap_test::stream_with_peer(p);
  auto [b, peer_b] = overlap_test::stream_with_peer(p);
  overlap_test::write_all_blocking(peer_a.get(), "held", 4);
  overlap_test::write_all_blocking(peer_b.get(), "held", 4);
  int held = 0;
  a.async_receive([&](std::error_code ec, std::size_t) { held += ec ? 0 : 1; });
  b.async_receive([&](std::error_code ec, std::size_t) { held += ec ? 0 : 1; });
  while (held < 2 && p.run_one() > 0) {
  }
  ASSERT_EQ(held, 2);

  auto [c, peer_c] = overlap_test::stream_with_peer(p);
  std::error_code result;
  int calls = 0;
  c.async_receive([&](std::error_code ec, std::size_t) {
    result = ec;
    ++calls;
  });
  p.poll();  // the receive is submitted and waits: its peer sends nothing
  const bool spilled = p.stats().spill_receives > 0;
  c.close();
  p.run_for(std::chrono::milliseconds(200));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(result, std::errc::operation_canceled);

  // The peer sees the connection end (a bounded wait: a hang fails the test).
  timeval tv{2, 0};
  ASSERT_EQ(::setsockopt(peer_c.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  char byte;
  EXPECT_EQ(::recv(peer_c.get(), &byte, 1, 0), 0) << "no FIN: " << std::strerror(errno);
  if (overlap_test::uses_io_uring(p)) {
    EXPECT_TRUE(spilled) << "the receive did not use a private buffer, so this proved nothing";
  }
}
