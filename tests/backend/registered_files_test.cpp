// io_uring's registered-file table: a socket is put in it before its first
// operation and taken out before its close, so registration must never keep a
// closed socket alive or send bytes to the wrong one after a descriptor
// number is reused.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "backend/loopback.hpp"
#include "blocking_io.hpp"
#include "overlap/proactor.hpp"
#include "overlap/tcp_acceptor.hpp"
#include "overlap/tcp_stream.hpp"

namespace {

using overlap_test::uses_io_uring;

// Reads from fd with a 5 s limit: the bytes, or "" at end of stream; fails
// the test on a timeout (the socket was kept open) or an error.
std::string read_some_within_5s(int fd) {
  const timeval limit{5, 0};
  EXPECT_EQ(::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)), 0);
  char buf[256];
  const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
  EXPECT_GE(n, 0) << "no end of stream within 5 s: errno " << errno;
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

void write_and_run(overlap::proactor& p, overlap::tcp_stream& s, const std::string& data) {
  int calls = 0;
  s.async_write(data, [&](std::error_code ec, std::size_t n) {
    ++calls;
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(n, data.size());
  });
  p.run();
  p.restart();
  ASSERT_EQ(calls, 1);
}

TEST(registered_files, a_closed_registered_socket_reaches_the_peer_as_end_of_stream) {
  overlap::proactor p;
  if (!uses_io_uring(p)) GTEST_SKIP() << "registered files are an io_uring feature";
  auto [s, peer] = overlap_test::stream_with_peer(p);
  write_and_run(p, s, "hello");
  if (p.stats().registered_files == 0) {
    GTEST_SKIP() << "the kernel offers no sparse registered-file table (Linux 5.19+)";
  }
  EXPECT_EQ(overlap_test::read_exact_blocking(peer.get(), 5), "hello");
  s.close();
  p.run();  // the close is an operation too
  EXPECT_EQ(read_some_within_5s(peer.get()), "");
}

TEST(registered_files, a_reused_descriptor_number_carries_the_new_socket_s_bytes) {
  overlap::proactor p;
  if (!uses_io_uring(p)) GTEST_SKIP() << "registered files are an io_uring feature";
  std::set<int> numbers;
  int reused = 0;
  for (int round = 0; round < 6; ++round) {
    auto [s, peer] = overlap_test::stream_with_peer(p);
    if (!numbers.insert(s.native_handle()).second) ++reused;
    const std::string data = overlap_test::pattern(1000, static_cast<std::uint32_t>(round));
    write_and_run(p, s, data);
    EXPECT_EQ(overlap_test::read_exact_blocking(peer.get(), data.size()), data) << round;
    s.close();
    p.run();
    p.restart();
    EXPECT_EQ(read_some_within_5s(peer.get()), "") << round;
  }
  if (p.stats().registered_files == 0) {
    GTEST_SKIP() << "the kernel offers no sparse registered-file table (Linux 5.19+)";
  }
  EXPECT_EQ(p.stats().registered_files, 6u);
  EXPECT_GT(reused, 0) << "no descriptor number was reused: the test proved nothing";
}

TEST(registered_files, a_listener_s_port_is_free_once_its_proactor_is_gone) {
  std::uint16_t port = 0;
  {
    overlap::proactor p;
    if (!uses_io_uring(p)) GTEST_SKIP() << "registered files are an io_uring feature";
    overlap::tcp_acceptor acceptor(p, overlap_test::loopback(AF_INET));
    port = acceptor.local_endpoint().port();
    acceptor.async_accept_multishot([](std::error_code, overlap::tcp_stream) {});
    p.poll();  // submits the accept on the registered listener
    if (p.stats().registered_files == 0) {
      GTEST_SKIP() << "the kernel offers no sparse registered-file table (Linux 5.19+)";
    }
  }
  // No SO_REUSEADDR: binding fails while the old listener is open anywhere.
  overlap_test::unique_fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const overlap::endpoint ep = overlap_test::loopback(AF_INET, port);
  EXPECT_EQ(::bind(fd.get(), ep.data(), ep.size()), 0) << "errno " << errno;
}

// The table has a slot per descriptor number the process could open when the
// proactor was made. A socket numbered beyond it (the limit was raised later)
// goes unregistered and must work all the same.
TEST(registered_files, a_socket_numbered_beyond_the_table_works_unregistered) {
  constexpr rlim_t table_slots = 64;
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
  if (old.rlim_max < 256) GTEST_SKIP() << "RLIMIT_NOFILE's hard limit is below 256";
  rlimit small = old;
  small.rlim_cur = table_slots;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &small), 0);
  std::optional<overlap::proactor> p;
  try {
    p.emplace();  // sizes its table from the limit
  } catch (...) {
    ::setrlimit(RLIMIT_NOFILE, &old);
    throw;
  }
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &old), 0);
  if (!uses_io_uring(*p)) GTEST_SKIP() << "registered files are an io_uring feature";

  {  // numbered inside the table: registered
    auto [s, peer] = overlap_test::stream_with_peer(*p);
    ASSERT_LT(s.native_handle(), static_cast<int>(table_slots));
    write_and_run(*p, s, "low");
    EXPECT_EQ(overlap_test::read_exact_blocking(peer.get(), 3), "low");
    s.close();
    p->run();
    p->restart();
  }
  const std::uint64_t registered = p->stats().registered_files;
  if (registered == 0) {
    GTEST_SKIP() << "the kernel offers no sparse registered-file table (Linux 5.19+)";
  }

  // Take the free numbers below 80, so the next socket lands beyond the table.
  std::vector<overlap_test::unique_fd> fillers;
  for (;;) {
    overlap_test::unique_fd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0 || fd.get() >= 80) break;
    fillers.push_back(std::move(fd));
  }
  auto [s, peer] = overlap_test::stream_with_peer(*p);
  ASSERT_GE(s.native_handle(), static_cast<int>(table_slots));
  const std::string data = overlap_test::pattern(100'000, 7);
  write_and_run(*p, s, data);
  ASSERT_FALSE(::testing::Test::HasFailure()) << "the write failed: nothing to read";
  EXPECT_EQ(overlap_test::read_exact_blocking(peer.get(), data.size()), data);
  EXPECT_EQ(p->stats().registered_files, registered);  // this one was not
  s.close();
  p->run();
  EXPECT_EQ(read_some_within_5s(peer.get()), "");
}

}  // namespace
