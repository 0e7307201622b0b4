// Reading from a stream into the caller's buffer: async_read_some and
// async_read (exactly N bytes), end of stream, errors.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "backend/forms.hpp"
#include "backend/loopback.hpp"
#include "overlap/error.hpp"
#include "overlap/proactor.hpp"
#include "overlap/tcp_stream.hpp"
#include "overlap/timer.hpp"

using namespace std::chrono_literals;

namespace {

using overlap_test::form;
using overlap_test::op_record;

class stream_read : public ::testing::TestWithParam<form> {};
INSTANTIATE_TEST_SUITE_P(forms, stream_read, overlap_test::all_forms(), overlap_test::form_name);

TEST_P(stream_read, read_some_delivers_the_bytes_available) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  overlap_test::write_all_blocking(peer.get(), "hello", 5);
  char buf[64];
  op_record r;
  overlap_test::start(GetParam(), p, r,
                      [&](auto&& token) { return s.async_read_some(buf, token); });
  p.run();
  ASSERT_EQ(r.calls, 1);
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(std::string(buf, r.bytes), "hello");
}

// Writes `data` to `s` in pieces of `piece` bytes with a short timer between
// them, so the reader sees several separate arrivals.
struct paced_writer {
  overlap::tcp_stream& s;
  overlap::timer t;
  std::string data;
  std::size_t piece;
  std::size_t sent = 0;
  int pieces = 0;
  void next() {
    if (sent == data.size()) return;
    const std::size_t n = std::min(piece, data.size() - sent);
    s.async_write(std::span<const char>(data.data() + sent, n),
                  [this, n](std::error_code ec, std::size_t w) {
                    ASSERT_FALSE(ec) << ec.message();
                    ASSERT_EQ(w, n);
                    sent += n;
                    ++pieces;
                    t.async_wait(1ms, [this](std::error_code) { next(); });
                  });
  }
};

TEST_P(stream_read, read_collects_exactly_n_bytes_across_several_small_writes) {
  overlap::proactor p;
  auto [writer_side, reader_side] = overlap_test::connected_pair(p);
  const std::string data = overlap_test::pattern(1000, 2);
  paced_writer w{writer_side, overlap::timer(p), data, 100};
  std::string buf(data.size() + 10, '\0');  // room past N: the read must stop at N
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) {
    return reader_side.async_read(std::span<char>(buf.data(), data.size()), token);
  });
  w.next();
  p.run();
  ASSERT_EQ(r.calls, 1);
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.bytes, data.size());
  EXPECT_EQ(w.pieces, 10);
  EXPECT_EQ(buf.substr(0, data.size()), data);
  EXPECT_EQ(buf.substr(data.size()), std::string(10, '\0'));
}

TEST_P(stream_read, read_some_reports_eof_when_the_peer_closes) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  char buf[64];
  op_record r;
  overlap_test::start(GetParam(), p, r,
                      [&](auto&& token) { return s.async_read_some(buf, token); });
  peer.reset();
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.ec, overlap::errc::eof);
  EXPECT_EQ(r.bytes, 0u);
}

TEST_P(stream_read, read_reports_eof_with_the_bytes_that_arrived) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  overlap_test::write_all_blocking(peer.get(), "abc", 3);
  peer.reset();
  char buf[10];
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) { return s.async_read(buf, token); });
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.ec, overlap::errc::eof);
  EXPECT_EQ(r.bytes, 3u);
  EXPECT_EQ(std::string(buf, 3), "abc");
}

TEST_P(stream_read, read_reports_connection_reset_as_a_system_error) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  char buf[64];
  op_record r;
  overlap_test::start(GetParam(), p, r,
                      [&](auto&& token) { return s.async_read_some(buf, token); });
  const linger abort_on_close{1, 0};  // close() sends RST
  ::setsockopt(peer.get(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
  peer.reset();
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.ec, std::errc::connection_reset) << r.ec.message();
}

TEST_P(stream_read, read_on_a_closed_stream_reports_bad_file_descriptor) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  s.close();
  char buf[8];
  op_record r;
  overlap_test::start(GetParam(), p, r,
                      [&](auto&& token) { return s.async_read_some(buf, token); });
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.ec, std::errc::bad_file_descriptor) << r.ec.message();
  EXPECT_FALSE(r.ran_during_initiation);
}

TEST_P(stream_read, close_aborts_a_pending_read) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  char buf[8];
  op_record r;
  overlap_test::start(GetParam(), p, r,
                      [&](auto&& token) { return s.async_read_some(buf, token); });
  p.poll();  // the read is now in flight (the coroutine form starts from the loop)
  ASSERT_EQ(r.calls, 0);
  s.close();
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.ec, overlap::errc::operation_aborted) << r.ec.message();
}

}  // namespace
