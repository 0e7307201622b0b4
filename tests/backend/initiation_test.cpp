// A handler never runs inside the call that initiated its operation, even
// when the result is known at once (data already queued, nothing to do, a
// closed stream): it runs later, from the proactor's loop.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <string>

#include "backend/forms.hpp"
#include "backend/loopback.hpp"
#include "overlap/error.hpp"
#include "overlap/proactor.hpp"
#include "overlap/tcp_acceptor.hpp"
#include "overlap/tcp_stream.hpp"
#include "overlap/timer.hpp"

using namespace std::chrono_literals;

namespace {

using overlap_test::form;
using overlap_test::op_record;

class initiation : public ::testing::TestWithParam<form> {};
INSTANTIATE_TEST_SUITE_P(forms, initiation, overlap_test::all_forms(), overlap_test::form_name);

// Runs the loop and checks the one completion happened outside its initiation.
void expect_deferred(overlap::proactor& p, op_record& r) {
  EXPECT_EQ(r.calls, 0) << "completed inside the initiating call";
  p.run();
  EXPECT_EQ(r.calls, 1);
  EXPECT_FALSE(r.ran_during_initiation) << "the handler ran inside the initiating call";
}

TEST_P(initiation, receive_with_data_already_queued_completes_later) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  overlap_test::write_all_blocking(peer.get(), "queued", 6);
  s.async_receive([&](std::error_code, std::size_t) { s.consume(1); });  // leaves 5 bytes queued
  p.run();
  ASSERT_EQ(s.received().size(), 5u);
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) { return s.async_receive(token); });
  expect_deferred(p, r);
  EXPECT_FALSE(r.ec);
  EXPECT_EQ(r.bytes, 5u);
}

TEST_P(initiation, receive_after_end_of_stream_was_seen_completes_later) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  peer.reset();
  s.async_receive([](std::error_code ec, std::size_t) { EXPECT_EQ(ec, overlap::errc::eof); });
  p.run();
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) { return s.async_receive(token); });
  expect_deferred(p, r);
  EXPECT_EQ(r.ec, overlap::errc::eof);
}

TEST_P(initiation, write_of_zero_bytes_completes_later) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  op_record r;
  overlap_test::start(GetParam(), p, r,
                      [&](auto&& token) { return s.async_write(std::span<const char>(), token); });
  expect_deferred(p, r);
  EXPECT_FALSE(r.ec);
}

TEST_P(initiation, read_of_zero_bytes_completes_later) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  op_record r;
  overlap_test::start(GetParam(), p, r,
                      [&](auto&& token) { return s.async_read_some(std::span<char>(), token); });
  expect_deferred(p, r);
  EXPECT_FALSE(r.ec);
  EXPECT_EQ(r.bytes, 0u);
}

TEST_P(initiation, read_on_a_closed_stream_completes_later) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  s.close();
  char buf[4];
  op_record r;
  overlap_test::start(GetParam(), p, r,
                      [&](auto&& token) { return s.async_read_some(buf, token); });
  expect_deferred(p, r);
  EXPECT_EQ(r.ec, std::errc::bad_file_descriptor);
}

TEST_P(initiation, write_on_a_closed_stream_completes_later) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  s.close();
  op_record r;
  overlap_test::start(GetParam(), p, r,
                      [&](auto&& token) { return s.async_write(std::string_view("x"), token); });
  expect_deferred(p, r);
  EXPECT_EQ(r.ec, std::errc::bad_file_descriptor);
}

TEST_P(initiation, accept_on_a_closed_acceptor_completes_later) {
  overlap::proactor p;
  overlap::tcp_acceptor acc(p, overlap_test::loopback(AF_INET));
  acc.close();
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) { return acc.async_accept(token); });
  expect_deferred(p, r);
  EXPECT_EQ(r.ec, std::errc::bad_file_descriptor);
}

TEST_P(initiation, sendfile_that_fits_the_socket_buffer_completes_later) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  char name[] = "/tmp/overlap-initiation-XXXXXX";
  overlap_test::unique_fd file(::mkstemp(name));
  ASSERT_GE(file.get(), 0);
  ::unlink(name);
  ASSERT_EQ(::write(file.get(), "small file", 10), 10);
  op_record r;
  overlap_test::start(GetParam(), p, r,
                      [&](auto&& token) { return s.async_sendfile(file.get(), 0, 10, token); });
  expect_deferred(p, r);
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.bytes, 10u);
  EXPECT_EQ(overlap_test::read_exact_blocking(peer.get(), 10), "small file");
}

TEST_P(initiation, timer_of_zero_duration_completes_later) {
  overlap::proactor p;
  overlap::timer t(p);
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) { return t.async_wait(0ns, token); });
  expect_deferred(p, r);
}

TEST_P(initiation, connect_to_a_closed_port_completes_later) {
  overlap::proactor p;
  const auto refused = overlap_test::closed_port();
  overlap::tcp_stream s(p);
  op_record r;
  const auto ep = overlap_test::loopback(AF_INET, refused.port);
  overlap_test::start(GetParam(), p, r, [&](auto&& token) { return s.async_connect(ep, token); });
  expect_deferred(p, r);
  EXPECT_EQ(r.ec, std::errc::connection_refused);
}

}  // namespace
