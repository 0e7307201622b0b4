// Per-operation deadlines (op_options::timeout): an operation that does not
// finish in time reports errc::timed_out; one that finishes first is
// unaffected.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
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

constexpr overlap::op_options short_deadline{.timeout = 20ms};
constexpr overlap::op_options long_deadline{.timeout = 1h};

class deadline : public ::testing::TestWithParam<form> {};
INSTANTIATE_TEST_SUITE_P(forms, deadline, overlap_test::all_forms(), overlap_test::form_name);

TEST_P(deadline, read_some_with_no_data_times_out) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  char buf[16];
  op_record r;
  overlap_test::start(GetParam(), p, r,
                      [&](auto&& token) { return s.async_read_some(buf, token, short_deadline); });
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.ec, overlap::errc::timed_out) << r.ec.message();
  EXPECT_EQ(r.ec, std::errc::timed_out);
  EXPECT_EQ(r.bytes, 0u);
}

TEST_P(deadline, receive_with_no_data_times_out) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  op_record r;
  overlap_test::start(GetParam(), p, r,
                      [&](auto&& token) { return s.async_receive(token, short_deadline); });
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.ec, overlap::errc::timed_out) << r.ec.message();
}

TEST_P(deadline, read_exact_that_times_out_reports_the_bytes_that_arrived) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  overlap_test::write_all_blocking(peer.get(), "abc", 3);
  char buf[10];
  op_record r;
  overlap_test::start(GetParam(), p, r,
                      [&](auto&& token) { return s.async_read(buf, token, short_deadline); });
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.ec, overlap::errc::timed_out) << r.ec.message();
  EXPECT_EQ(r.bytes, 3u);
  EXPECT_EQ(std::string(buf, 3), "abc");
}

TEST_P(deadline, read_that_finishes_first_reports_its_data) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  overlap_test::write_all_blocking(peer.get(), "data", 4);
  char buf[16];
  op_record r;
  overlap_test::start(GetParam(), p, r,
                      [&](auto&& token) { return s.async_read_some(buf, token, long_deadline); });
  p.run();  // returns once the read is done: the deadline does not linger as work
  ASSERT_EQ(r.calls, 1);
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.bytes, 4u);
}

TEST_P(deadline, receive_that_finishes_first_reports_its_data) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  op_record r;
  r.then = [&] { s.consume(s.received().size()); };
  overlap_test::start(GetParam(), p, r,
                      [&](auto&& token) { return s.async_receive(token, long_deadline); });
  p.poll();
  overlap_test::write_all_blocking(peer.get(), "data", 4);
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.bytes, 4u);
}

TEST_P(deadline, a_stream_stays_usable_after_a_receive_timed_out) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  op_record first;
  overlap_test::start(GetParam(), p, first,
                      [&](auto&& token) { return s.async_receive(token, short_deadline); });
  p.run();
  ASSERT_EQ(first.ec, overlap::errc::timed_out);
  overlap_test::write_all_blocking(peer.get(), "late", 4);
  op_record second;
  std::string got;
  second.then = [&] {
    got.assign(s.received().data(), s.received().size());
    s.consume(got.size());
  };
  overlap_test::start(GetParam(), p, second,
                      [&](auto&& token) { return s.async_receive(token, long_deadline); });
  p.run();
  ASSERT_EQ(second.calls, 1);
  EXPECT_FALSE(second.ec);
  EXPECT_EQ(got, "late");
}

TEST_P(deadline, accept_with_no_connection_times_out) {
  overlap::proactor p;
  overlap::tcp_acceptor acc(p, overlap_test::loopback(AF_INET));
  op_record r;
  overlap_test::start(GetParam(), p, r,
                      [&](auto&& token) { return acc.async_accept(token, short_deadline); });
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.ec, overlap::errc::timed_out) << r.ec.message();
}

TEST_P(deadline, write_that_cannot_finish_times_out) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);  // the peer never reads
  const std::string big = overlap_test::pattern(32 << 20, 40);
  op_record r;
  overlap_test::start(GetParam(), p, r,
                      [&](auto&& token) { return s.async_write(big, token, short_deadline); });
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.ec, overlap::errc::timed_out) << r.ec.message();
  EXPECT_LT(r.bytes, big.size());
}

TEST_P(deadline, sendfile_that_cannot_finish_times_out) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);  // the peer never reads
  char name[] = "/tmp/overlap-deadline-XXXXXX";
  overlap_test::unique_fd file(::mkstemp(name));
  ASSERT_GE(file.get(), 0);
  ::unlink(name);
  ASSERT_EQ(::ftruncate(file.get(), 32 << 20), 0);  // a sparse 32 MiB file
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) {
    return s.async_sendfile(file.get(), 0, 32 << 20, token, short_deadline);
  });
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.ec, overlap::errc::timed_out) << r.ec.message();
  EXPECT_LT(r.bytes, std::size_t{32} << 20);
}

TEST_P(deadline, cancellation_before_the_deadline_reports_operation_aborted) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  overlap::cancel_signal sig;
  char buf[16];
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) {
    return s.async_read_some(buf, token, overlap::op_options{.timeout = 1h, .cancel = &sig});
  });
  p.poll();
  sig.emit();
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.ec, overlap::errc::operation_aborted) << r.ec.message();
}

}  // namespace
