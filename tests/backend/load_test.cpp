// Bounded load: a large write to a slow reader, 1,000 concurrent echo
// connections, and a tiny buffer ring that must recover from ENOBUFS.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "backend/forms.hpp"
#include "backend/loopback.hpp"
#include "overlap/error.hpp"
#include "overlap/proactor.hpp"
#include "overlap/task.hpp"
#include "overlap/tcp_acceptor.hpp"
#include "overlap/tcp_stream.hpp"
#include "overlap/timer.hpp"

using namespace std::chrono_literals;

namespace {

constexpr std::size_t eight_mib = 8u << 20;

// Makes sure `needed` descriptors fit under RLIMIT_NOFILE; false if they cannot.
bool ensure_fd_limit(rlim_t needed) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return false;
  if (rl.rlim_cur >= needed) return true;
  if (rl.rlim_max < needed) return false;
  rl.rlim_cur = needed;
  return ::setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

overlap::task<void> write_all_then_close(overlap::tcp_stream s, const std::string& data,
                                         std::error_code& ec, std::size_t& written) {
  auto [e, n] = co_await s.async_write(data, overlap::use_awaitable);
  ec = e;
  written = n;
}

class slow_reader : public ::testing::TestWithParam<overlap_test::form> {};
INSTANTIATE_TEST_SUITE_P(forms, slow_reader, overlap_test::all_forms(), overlap_test::form_name);

TEST_P(slow_reader, eight_mib_write_to_a_slow_blocking_reader_arrives_intact) {
  overlap::proactor p;
  auto [s, peer] = overlap_test::stream_with_peer(p);
  const std::string data = overlap_test::pattern(eight_mib, 50);
  std::string got;
  std::thread reader([&, fd = peer.get()] {
    char buf[4096];
    int reads = 0;
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
      if (++reads % 64 == 0) std::this_thread::sleep_for(1ms);  // a slow consumer
    }
  });
  overlap_test::op_record r;
  r.then = [&] { s.close(); };  // the reader then sees eof
  overlap_test::start(GetParam(), p, r, [&](auto&& token) { return s.async_write(data, token); });
  p.run();
  reader.join();
  ASSERT_EQ(r.calls, 1);
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.bytes, data.size());
  ASSERT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data) << "bytes differ";
}

// Reads in small chunks with a timer between reads, on the same proactor.
struct paced_reader {
  overlap::tcp_stream& s;
  overlap::timer t;
  std::string got;
  std::error_code end;
  char buf[8192];
  void next() {
    s.async_read_some(buf, [this](std::error_code ec, std::size_t n) {
      if (ec) {
        end = ec;
        return;
      }
      got.append(buf, n);
      t.async_wait(100us, [this](std::error_code) { next(); });
    });
  }
};

TEST(load, eight_mib_write_to_a_timer_paced_reader_arrives_intact) {
  overlap::proactor p;
  auto [writer, reader_side] = overlap_test::connected_pair(p);
  const std::string data = overlap_test::pattern(eight_mib, 51);
  paced_reader reader{reader_side, overlap::timer(p), {}, {}, {}};
  std::error_code ec;
  std::size_t written = 0;
  overlap::spawn(p, write_all_then_close(std::move(writer), data, ec, written));
  reader.next();
  p.run();
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(written, data.size());
  EXPECT_EQ(reader.end, overlap::errc::eof);
  ASSERT_EQ(reader.got.size(), data.size());
  EXPECT_TRUE(reader.got == data) << "bytes differ";
}

struct echo_totals {
  int verified = 0;
  int failed = 0;
  int sessions_ended = 0;
  std::error_code first_error;
};

overlap::task<void> echo_session(overlap::tcp_stream s, echo_totals& totals) {
  char buf[256];
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(buf, overlap::use_awaitable);
    if (ec) break;
    auto [wec, w] = co_await s.async_write(std::span<const char>(buf, n), overlap::use_awaitable);
    if (wec) break;
  }
  ++totals.sessions_ended;
}

overlap::task<void> echo_client(overlap::proactor& p, overlap::endpoint ep, int id,
                                echo_totals& totals, int clients, overlap::tcp_acceptor& acc) {
  const std::string msg = "connection " + std::to_string(id) + " " + overlap_test::pattern(40, id);
  std::string reply(msg.size(), '\0');
  {
    overlap::tcp_stream s(p);
    std::error_code ec = co_await s.async_connect(ep, overlap::use_awaitable);
    if (!ec) ec = (co_await s.async_write(msg, overlap::use_awaitable)).ec;
    if (!ec) ec = (co_await s.async_read(reply, overlap::use_awaitable)).ec;
    if (!ec && reply == msg) {
      ++totals.verified;
    } else {
      ++totals.failed;
      if (ec && !totals.first_error) totals.first_error = ec;
    }
  }
  if (totals.verified + totals.failed == clients) acc.cancel();  // the last one stops the server
}

TEST(load, thousand_concurrent_echo_connections_each_get_their_echo) {
  constexpr int clients = 1000;
  if (!ensure_fd_limit(2 * clients + 64)) GTEST_SKIP() << "RLIMIT_NOFILE cannot be raised enough";
  overlap::proactor p;
  overlap::tcp_acceptor acc(p, overlap_test::loopback(AF_INET));
  echo_totals totals;
  int accepted = 0;
  acc.async_accept_multishot([&](std::error_code ec, overlap::tcp_stream s) {
    if (ec) return;  // cancelled at the end (or out of descriptors: the test then fails below)
    ++accepted;
    overlap::spawn(p, echo_session(std::move(s), totals));
  });
  const overlap::endpoint ep = acc.local_endpoint();
  for (int i = 0; i < clients; ++i) overlap::spawn(p, echo_client(p, ep, i, totals, clients, acc));
  p.run();
  EXPECT_EQ(totals.failed, 0) << totals.first_error.message();
  EXPECT_EQ(totals.verified, clients);
  EXPECT_EQ(accepted, clients);
  EXPECT_EQ(totals.sessions_ended, clients);
}

// --- ENOBUFS recovery ----------------------------------------------------

struct receive_totals {
  int intact = 0;
  int broken = 0;
  int ended = 0;
};

std::string client_stream(int id, int messages, std::size_t message_size) {
  std::string all;
  for (int m = 0; m < messages; ++m) {
    all += overlap_test::pattern(message_size, static_cast<std::uint32_t>(id * 1000 + m));
  }
  return all;
}

overlap::task<void> send_messages(overlap::proactor& p, overlap::endpoint ep, int id, int messages,
                                  std::size_t message_size, int& done, int& failed) {
  const std::string all = client_stream(id, messages, message_size);
  overlap::tcp_stream s(p);
  if (co_await s.async_connect(ep, overlap::use_awaitable)) {
    ++failed;
    co_return;
  }
  // First line: the client's id, so the server knows what to expect.
  std::string hello = std::to_string(id);
  hello.resize(8, ' ');
  if ((co_await s.async_write(hello, overlap::use_awaitable)).ec) {
    ++failed;
    co_return;
  }
  overlap::timer pause(p);
  for (int m = 0; m < messages; ++m) {
    const std::span<const char> msg(all.data() + m * message_size, message_size);
    if ((co_await s.async_write(msg, overlap::use_awaitable)).ec) {
      ++failed;
      co_return;
    }
    co_await pause.async_wait(0ns, overlap::use_awaitable);  // interleave connections
  }
  s.shutdown(SHUT_WR);
  // Wait for the server to close its side, so the data was surely read.
  char c;
  co_await s.async_read_some(std::span<char>(&c, 1), overlap::use_awaitable);
  ++done;
}

// Receives everything through async_receive until end of stream, then checks
// it against what the client (named by the first 8 bytes) sent.
overlap::task<void> serve_receiver(overlap::tcp_stream s, int messages, std::size_t message_size,
                                   receive_totals& totals) {
  std::string got;
  std::error_code end;
  for (;;) {
    auto [ec, n] = co_await s.async_receive(overlap::use_awaitable);
    if (ec) {
      end = ec;
      break;
    }
    const auto data = s.received();
    if (data.size() != n || n == 0) {
      ++totals.broken;
      co_return;
    }
    got.append(data.data(), data.size());
    s.consume(n);
  }
  ++totals.ended;
  const int id = got.size() >= 8 ? std::atoi(got.substr(0, 8).c_str()) : -1;
  if (end == overlap::errc::eof && id >= 0 &&
      got.substr(std::min<std::size_t>(8, got.size())) ==
          client_stream(id, messages, message_size)) {
    ++totals.intact;
  } else {
    ++totals.broken;
  }
}

TEST(load, tiny_buffer_ring_recovers_from_enobufs_without_dropping_connections) {
  constexpr int connections = 64;
  constexpr int messages = 8;
  constexpr std::size_t message_size = 300;  // several 64-byte buffers per message
  overlap::proactor_options options;
  options.recv_buffer_count = 2;
  options.recv_buffer_size = 64;
  overlap::proactor p(options);
  overlap::tcp_acceptor acc(p, overlap_test::loopback(AF_INET));
  receive_totals totals;
  int accepted = 0;
  acc.async_accept_multishot([&](std::error_code ec, overlap::tcp_stream s) {
    if (ec) return;
    overlap::spawn(p, serve_receiver(std::move(s), messages, message_size, totals));
    if (++accepted == connections) acc.cancel();
  });
  int done = 0, failed = 0;
  for (int i = 0; i < connections; ++i) {
    overlap::spawn(p,
                   send_messages(p, acc.local_endpoint(), i, messages, message_size, done, failed));
  }
  p.run();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(done, connections);
  EXPECT_EQ(totals.broken, 0);
  EXPECT_EQ(totals.intact, connections);
  EXPECT_EQ(totals.ended, connections);
  const overlap::proactor_stats st = p.stats();
  if (!overlap_test::uses_io_uring(p)) return;  // no shared ring: the data checks above stand
  EXPECT_GT(st.enobufs + st.spill_receives, 0u)
      << "the test did not exhaust the buffer ring, so it proved nothing";
  RecordProperty("enobufs", static_cast<int>(st.enobufs));
  RecordProperty("spill_receives", static_cast<int>(st.spill_receives));
}

}  // namespace
