// Writing to a stream: async_write (whole buffer), async_writev
// (scatter/gather), async_sendfile (a file range), shutdown, close.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/uio.h>

#include <string>
#include <thread>
#include <vector>

#include "backend/forms.hpp"
#include "backend/loopback.hpp"
#include "overlap/error.hpp"
#include "overlap/proactor.hpp"
#include "overlap/tcp_stream.hpp"

namespace {

using overlap_test::form;
using overlap_test::op_record;
using overlap_test::unique_fd;

// Reads everything the peer sends until end of stream, on its own thread.
class draining_peer {
 public:
  explicit draining_peer(unique_fd fd)
      : fd_(std::move(fd)),
        thread_([this] { got_ = overlap_test::read_to_eof_blocking(fd_.get()); }) {}
  ~draining_peer() {
    if (thread_.joinable()) thread_.join();
  }
  const std::string& wait() {
    thread_.join();
    return got_;
  }

 private:
  unique_fd fd_;
  std::string got_;
  std::thread thread_;
};

class stream_write : public ::testing::TestWithParam<form> {};
INSTANTIATE_TEST_SUITE_P(forms, stream_write, overlap_test::all_forms(), overlap_test::form_name);

// Starts one write on a stream whose peer reads to the end, closes the stream
// when it completes, and checks that the handler ran once, without error, for
// every byte, and that the peer received exactly `expected`.
template <class Initiate>
void expect_delivered(form f, const std::string& expected, Initiate initiate) {
  overlap::proactor p;
  auto [s, peer_fd] = overlap_test::stream_with_peer(p);
  draining_peer peer(std::move(peer_fd));
  op_record r;
  r.then = [&] { s.close(); };
  overlap_test::start(f, p, r, [&](auto&& token) { return initiate(s, token); });
  p.run();
  ASSERT_EQ(r.calls, 1);
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.bytes, expected.size());
  const std::string& got = peer.wait();
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected) << "bytes differ";
}

std::vector<iovec> iovecs_of(std::initializer_list<const std::string*> parts) {
  std::vector<iovec> iov;
  for (const std::string* x : parts) iov.push_back({const_cast<char*>(x->data()), x->size()});
  return iov;
}

TEST_P(stream_write, write_sends_the_whole_buffer) {
  const std::string data = overlap_test::pattern(2 << 20, 3);  // larger than the socket buffers
  expect_delivered(GetParam(), data,
                   [&](overlap::tcp_stream& s, auto& token) { return s.async_write(data, token); });
}

// op_options::more (MSG_MORE) lets a partial segment wait for what follows;
// a close must still send it, ahead of the FIN.
TEST_P(stream_write, write_with_more_then_close_delivers_every_byte) {
  overlap::proactor p;
  auto [s, peer_fd] = overlap_test::stream_with_peer(p);
  draining_peer peer(std::move(peer_fd));
  const std::string data = overlap_test::pattern(100, 4);  // well under one segment
  op_record r;
  r.then = [&] { s.close(); };
  overlap_test::start(GetParam(), p, r, [&](auto&& token) {
    return s.async_write(data, token, overlap::op_options{.more = true});
  });
  p.run();
  ASSERT_EQ(r.calls, 1);
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.bytes, data.size());
  EXPECT_EQ(peer.wait(), data);
}

// ... and a following write without `more` pushes both, with no close.
TEST_P(stream_write, write_without_more_pushes_what_a_write_with_more_held) {
  overlap::proactor p;
  auto [s, peer_fd] = overlap_test::stream_with_peer(p);
  const std::string head = overlap_test::pattern(60, 5);
  const std::string tail = overlap_test::pattern(40, 6);
  op_record first;
  op_record second;
  first.then = [&] {
    overlap_test::start(GetParam(), p, second,
                        [&](auto&& token) { return s.async_write(tail, token); });
  };
  overlap_test::start(GetParam(), p, first, [&](auto&& token) {
    return s.async_write(head, token, overlap::op_options{.more = true});
  });
  p.run();
  ASSERT_EQ(first.calls, 1);
  ASSERT_EQ(second.calls, 1);
  ASSERT_FALSE(second.ec) << second.ec.message();
  // The stream is still open: the bytes arrive because the second send pushed.
  // (Bounded: if they were held, the read times out and the test fails.)
  const timeval limit{5, 0};
  ASSERT_EQ(::setsockopt(peer_fd.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)), 0);
  EXPECT_EQ(overlap_test::read_exact_blocking(peer_fd.get(), head.size() + tail.size()),
            head + tail);
}

TEST_P(stream_write, writev_sends_every_iovec_byte_exact_including_empty_ones) {
  // Large pieces force short sends that end inside an iovec; empty iovecs sit
  // at the start, between pieces and at the end.
  const std::string a = overlap_test::pattern(3, 10);
  const std::string b = overlap_test::pattern(1 << 20, 11);
  const std::string c = overlap_test::pattern(777, 12);
  const std::string d = overlap_test::pattern(1500 * 1000, 13);
  std::vector<iovec> iov;
  auto add = [&](const std::string& x) { iov.push_back({const_cast<char*>(x.data()), x.size()}); };
  auto add_empty = [&] { iov.push_back({nullptr, 0}); };
  add_empty();
  add(a);
  add_empty();
  add_empty();
  add(b);
  add(c);
  add_empty();
  add(d);
  add_empty();
  expect_delivered(GetParam(), a + b + c + d,
                   [&](overlap::tcp_stream& s, auto& token) { return s.async_writev(iov, token); });
}

// The last iovec (and a lone one) goes out as a plain send; when it is larger
// than the socket buffers the rest is resubmitted until every byte is sent.
TEST_P(stream_write, writev_whose_last_iovec_needs_several_sends_arrives_intact) {
  const std::string head = overlap_test::pattern(200, 15);
  const std::string body = overlap_test::pattern(3 << 20, 16);  // larger than the socket buffers
  for (const auto& iov : {iovecs_of({&body}), iovecs_of({&head, &body})}) {
    SCOPED_TRACE(iov.size() == 1 ? "one iovec" : "two iovecs");
    expect_delivered(
        GetParam(), iov.size() == 1 ? body : head + body,
        [&](overlap::tcp_stream& s, auto& token) { return s.async_writev(iov, token); });
  }
}

TEST_P(stream_write, writev_sends_more_iovecs_than_iov_max) {
  const std::string data = overlap_test::pattern(3000 * 7, 14);
  std::vector<iovec> iov;
  for (std::size_t i = 0; i < 3000; ++i) iov.push_back({const_cast<char*>(data.data()) + i * 7, 7});
  expect_delivered(GetParam(), data,
                   [&](overlap::tcp_stream& s, auto& token) { return s.async_writev(iov, token); });
}

TEST_P(stream_write, writev_of_only_empty_iovecs_completes_with_zero_bytes) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  const iovec iov[3] = {{nullptr, 0}, {nullptr, 0}, {nullptr, 0}};
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) { return s.async_writev(iov, token); });
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.bytes, 0u);
}

TEST_P(stream_write, write_of_zero_bytes_completes_with_zero_bytes) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  op_record r;
  overlap_test::start(GetParam(), p, r,
                      [&](auto&& token) { return s.async_write(std::span<const char>(), token); });
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.bytes, 0u);
  EXPECT_FALSE(r.ran_during_initiation);
}

TEST_P(stream_write, write_to_a_reset_peer_reports_a_system_error_without_sigpipe) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  const linger abort_on_close{1, 0};
  ::setsockopt(peer.get(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
  peer.reset();
  const std::string data = overlap_test::pattern(4 << 20, 15);
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) { return s.async_write(data, token); });
  p.run();  // a SIGPIPE would kill the test binary here
  ASSERT_EQ(r.calls, 1);
  EXPECT_TRUE(r.ec == std::errc::connection_reset || r.ec == std::errc::broken_pipe)
      << r.ec.message();
  EXPECT_EQ(r.ec.category(), std::system_category());
  EXPECT_LT(r.bytes, data.size());
}

// A temporary file holding `data`, removed at scope exit.
class temp_file {
 public:
  explicit temp_file(const std::string& data) {
    char name[] = "/tmp/overlap-sendfile-XXXXXX";
    fd_ = unique_fd(::mkstemp(name));
    if (fd_.get() < 0) throw std::system_error(errno, std::system_category(), "mkstemp");
    ::unlink(name);
    std::size_t off = 0;
    while (off < data.size()) {
      const ssize_t n = ::write(fd_.get(), data.data() + off, data.size() - off);
      if (n <= 0) throw std::system_error(errno, std::system_category(), "write");
      off += static_cast<std::size_t>(n);
    }
  }
  int fd() const noexcept { return fd_.get(); }

 private:
  unique_fd fd_;
};

TEST_P(stream_write, sendfile_sends_a_file_range_byte_exact) {
  overlap::proactor p;
  auto [s, peer_fd] = overlap_test::stream_with_peer(p);
  draining_peer peer(std::move(peer_fd));
  const std::string content = overlap_test::pattern(3 << 20, 16);
  temp_file f(content);
  const std::int64_t offset = 12345;
  const std::size_t length = (2 << 20) + 4321;  // more than the socket buffer holds
  op_record r;
  r.then = [&] { s.close(); };
  overlap_test::start(GetParam(), p, r, [&](auto&& token) {
    return s.async_sendfile(f.fd(), offset, length, token);
  });
  p.run();
  ASSERT_EQ(r.calls, 1);
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.bytes, length);
  const std::string& got = peer.wait();
  ASSERT_EQ(got.size(), length);
  EXPECT_TRUE(got == content.substr(static_cast<std::size_t>(offset), length)) << "bytes differ";
}

TEST_P(stream_write, sendfile_reports_eof_when_the_file_is_shorter_than_the_range) {
  overlap::proactor p;
  auto [s, peer_fd] = overlap_test::stream_with_peer(p);
  draining_peer peer(std::move(peer_fd));
  const std::string content = overlap_test::pattern(1000, 17);
  temp_file f(content);
  op_record r;
  r.then = [&] { s.close(); };
  overlap_test::start(GetParam(), p, r,
                      [&](auto&& token) { return s.async_sendfile(f.fd(), 100, 5000, token); });
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.ec, overlap::errc::eof);
  EXPECT_EQ(r.bytes, 900u) << "bytes says how much of the range was sent";
  EXPECT_EQ(peer.wait(), content.substr(100));
}

TEST_P(stream_write, async_shutdown_of_the_send_side_gives_the_peer_eof) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  op_record r;
  overlap_test::start(GetParam(), p, r,
                      [&](auto&& token) { return s.async_shutdown(SHUT_WR, token); });
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_FALSE(r.ec) << r.ec.message();
  char c;
  EXPECT_EQ(::recv(peer.get(), &c, 1, 0), 0) << "the peer sees end of stream";
  EXPECT_TRUE(s.is_open());
}

TEST(stream_shutdown, shutdown_of_the_send_side_gives_the_peer_eof) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  EXPECT_FALSE(s.shutdown(SHUT_WR));
  char c;
  EXPECT_EQ(::recv(peer.get(), &c, 1, 0), 0);
}

TEST(stream_shutdown, shutdown_of_a_closed_stream_reports_bad_file_descriptor) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  s.close();
  EXPECT_FALSE(s.is_open());
  EXPECT_EQ(s.shutdown(SHUT_RDWR), std::errc::bad_file_descriptor);
}

TEST(stream_close, close_releases_the_descriptor_and_the_peer_sees_eof) {
  overlap::proactor p;
  const int before = overlap_test::open_fd_count();
  {
    auto [s, peer] = overlap_test::stream_with_peer(p);
    s.close();
    p.run();  // the close is asynchronous: let the kernel finish it
    EXPECT_FALSE(s.is_open());
    char c;
    EXPECT_EQ(::recv(peer.get(), &c, 1, 0), 0);
  }
  EXPECT_EQ(overlap_test::open_fd_count(), before);
}

}  // namespace
