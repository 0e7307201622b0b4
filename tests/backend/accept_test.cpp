// The Acceptor and the connector: async_accept (single and multishot),
// async_connect, connection refused, IPv6 loopback.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backend/forms.hpp"
#include "backend/loopback.hpp"
#include "backend/round_trip.hpp"
#include "overlap/error.hpp"
#include "overlap/proactor.hpp"
#include "overlap/task.hpp"
#include "overlap/tcp_acceptor.hpp"
#include "overlap/tcp_stream.hpp"

namespace {

using overlap_test::blocking_connect;
using overlap_test::form;
using overlap_test::op_record;
using overlap_test::unique_fd;

std::uint16_t local_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return overlap::endpoint(reinterpret_cast<sockaddr*>(&ss), len).port();
}

class accept_test : public ::testing::TestWithParam<form> {};
INSTANTIATE_TEST_SUITE_P(forms, accept_test, overlap_test::all_forms(), overlap_test::form_name);

TEST_P(accept_test, accept_delivers_a_connected_stream) {
  overlap::proactor p;
  overlap::tcp_acceptor acc(p, overlap_test::loopback(AF_INET));
  op_record r;
  overlap_test::start(GetParam(), p, r, [&](auto&& token) { return acc.async_accept(token); });
  unique_fd client = blocking_connect(acc.local_endpoint());
  p.run();
  ASSERT_EQ(r.calls, 1);
  ASSERT_FALSE(r.ec) << r.ec.message();
  ASSERT_EQ(r.peers.size(), 1u);
  EXPECT_EQ(r.peers[0].remote_endpoint().port(), local_port(client.get()));
  // The accepted stream is usable: bytes written by the client arrive.
  overlap_test::write_all_blocking(client.get(), "ping", 4);
  char buf[4];
  std::string got;
  r.peers[0].async_read(buf, [&](std::error_code ec, std::size_t n) {
    EXPECT_FALSE(ec);
    got.assign(buf, n);
  });
  p.run();
  EXPECT_EQ(got, "ping");
}

TEST_P(accept_test, connect_opens_a_stream_to_a_listener) {
  overlap::proactor p;
  overlap::tcp_acceptor acc(p, overlap_test::loopback(AF_INET));
  overlap::tcp_stream server;
  acc.async_accept([&](std::error_code ec, overlap::tcp_stream s) {
    EXPECT_FALSE(ec);
    server = std::move(s);
  });
  overlap::tcp_stream client(p);
  op_record r;
  const overlap::endpoint ep = acc.local_endpoint();
  overlap_test::start(GetParam(), p, r,
                      [&](auto&& token) { return client.async_connect(ep, token); });
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_FALSE(r.ec) << r.ec.message();
  ASSERT_TRUE(client.is_open());
  EXPECT_EQ(client.remote_endpoint().port(), ep.port());
  ASSERT_TRUE(server.is_open());
  EXPECT_EQ(server.remote_endpoint().port(), client.local_endpoint().port());
}

TEST_P(accept_test, connect_to_a_closed_port_reports_connection_refused) {
  overlap::proactor p;
  const auto refused = overlap_test::closed_port();
  overlap::tcp_stream client(p);
  op_record r;
  const overlap::endpoint ep = overlap_test::loopback(AF_INET, refused.port);
  overlap_test::start(GetParam(), p, r,
                      [&](auto&& token) { return client.async_connect(ep, token); });
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.ec, std::errc::connection_refused) << r.ec.message();
  EXPECT_EQ(r.ec.category(), std::system_category()) << "raw kernel errors are system errors";
}

TEST(multishot_accept, callable_is_called_once_per_connection) {
  overlap::proactor p;
  overlap::tcp_acceptor acc(p, overlap_test::loopback(AF_INET));
  constexpr std::size_t connections = 5;
  std::vector<overlap::tcp_stream> peers;
  std::vector<std::error_code> results;
  acc.async_accept_multishot([&](std::error_code ec, overlap::tcp_stream s) {
    results.push_back(ec);
    if (!ec) peers.push_back(std::move(s));
    if (peers.size() == connections && !ec) acc.cancel();
  });
  std::vector<unique_fd> clients;
  for (std::size_t i = 0; i < connections; ++i)
    clients.push_back(blocking_connect(acc.local_endpoint()));
  p.run();
  ASSERT_EQ(peers.size(), connections);
  ASSERT_EQ(results.size(), connections + 1) << "one call per connection, then the final abort";
  for (std::size_t i = 0; i < connections; ++i) EXPECT_FALSE(results[i]) << results[i].message();
  EXPECT_EQ(results.back(), overlap::errc::operation_aborted);
  for (auto& s : peers) EXPECT_TRUE(s.is_open());
}

struct multishot_recorder final : overlap::accept_handler {
  overlap::tcp_acceptor* acc = nullptr;
  std::size_t wanted = 0;
  std::vector<overlap::tcp_stream> peers;
  std::vector<bool> more;
  std::vector<std::error_code> results;
  void on_accept_complete(std::error_code ec, overlap::tcp_stream s, bool m) override {
    results.push_back(ec);
    more.push_back(m);
    if (!ec) peers.push_back(std::move(s));
    if (!ec && peers.size() == wanted) acc->cancel();
  }
};

TEST(multishot_accept, handler_object_sees_more_until_the_final_completion) {
  overlap::proactor p;
  overlap::tcp_acceptor acc(p, overlap_test::loopback(AF_INET));
  multishot_recorder h;
  h.acc = &acc;
  h.wanted = 4;
  acc.async_accept_multishot(h);
  std::vector<unique_fd> clients;
  for (std::size_t i = 0; i < h.wanted; ++i)
    clients.push_back(blocking_connect(acc.local_endpoint()));
  p.run();
  ASSERT_EQ(h.peers.size(), h.wanted);
  ASSERT_EQ(h.results.size(), h.wanted + 1);
  for (std::size_t i = 0; i < h.wanted; ++i) {
    EXPECT_FALSE(h.results[i]);
    EXPECT_TRUE(h.more[i]) << "connection " << i;
  }
  EXPECT_EQ(h.results.back(), overlap::errc::operation_aborted);
  EXPECT_FALSE(h.more.back());
}

TEST(multishot_accept, connections_arriving_in_waves_all_get_through) {
  overlap::proactor p;
  overlap::tcp_acceptor acc(p, overlap_test::loopback(AF_INET));
  std::vector<overlap::tcp_stream> peers;
  std::vector<unique_fd> clients;
  int aborted = 0;
  constexpr std::size_t waves = 3, per_wave = 4;
  acc.async_accept_multishot([&](std::error_code ec, overlap::tcp_stream s) {
    if (ec) {
      EXPECT_EQ(ec, overlap::errc::operation_aborted);
      ++aborted;
      return;
    }
    peers.push_back(std::move(s));
    if (peers.size() % per_wave == 0 && peers.size() < waves * per_wave) {
      // The next wave connects only after this one was accepted, so the one
      // armed operation must keep accepting.
      for (std::size_t i = 0; i < per_wave; ++i)
        clients.push_back(blocking_connect(acc.local_endpoint()));
    }
    if (peers.size() == waves * per_wave) acc.cancel();
  });
  for (std::size_t i = 0; i < per_wave; ++i)
    clients.push_back(blocking_connect(acc.local_endpoint()));
  p.run();
  EXPECT_EQ(peers.size(), waves * per_wave);
  EXPECT_EQ(aborted, 1);
}

TEST(accept, accept_on_a_closed_acceptor_reports_bad_file_descriptor) {
  overlap::proactor p;
  overlap::tcp_acceptor acc(p, overlap_test::loopback(AF_INET));
  acc.close();
  std::error_code got;
  int calls = 0;
  acc.async_accept([&](std::error_code ec, overlap::tcp_stream) {
    got = ec;
    ++calls;
  });
  p.run();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(got, std::errc::bad_file_descriptor);
}

// acceptor_options::no_delay relies on Linux copying TCP_NODELAY from the
// listener to accepted sockets; the servers skip a setsockopt per connection.
TEST(accept, no_delay_on_the_listener_is_inherited_by_accepted_streams) {
  overlap::proactor p;
  overlap::acceptor_options o;
  o.no_delay = true;
  overlap::tcp_acceptor acc(p, overlap_test::loopback(AF_INET), o);
  overlap::tcp_stream client(p);
  client.async_connect(acc.local_endpoint(), [](std::error_code) {});
  int nodelay = -1;
  acc.async_accept([&](std::error_code ec, overlap::tcp_stream s) {
    ASSERT_FALSE(ec);
    socklen_t len = sizeof(nodelay);
    ASSERT_EQ(::getsockopt(s.native_handle(), IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
  });
  p.run();
  EXPECT_EQ(nodelay, 1);
}

TEST(accept, binding_a_port_in_use_throws) {
  overlap::proactor p;
  overlap::tcp_acceptor first(p, overlap_test::loopback(AF_INET));
  overlap::acceptor_options o;
  o.reuse_address = false;
  EXPECT_THROW(overlap::tcp_acceptor(p, first.local_endpoint(), o), std::system_error);
}

overlap::task<void> echo_one(overlap::tcp_acceptor& acc) {
  auto [ec, peer] = co_await acc.async_accept(overlap::use_awaitable);
  if (ec) co_return;
  char buf[256];
  for (;;) {
    auto [rec, n] = co_await peer.async_read_some(buf, overlap::use_awaitable);
    if (rec) co_return;
    auto [wec, w] =
        co_await peer.async_write(std::span<const char>(buf, n), overlap::use_awaitable);
    if (wec) co_return;
  }
}

TEST(ipv6, echo_over_ipv6_loopback) {
  if (!overlap_test::ipv6_loopback_available()) GTEST_SKIP() << "::1 cannot be bound here";
  overlap::proactor p;
  overlap::tcp_acceptor acc(p, overlap_test::loopback(AF_INET6));
  ASSERT_EQ(acc.local_endpoint().family(), AF_INET6);
  EXPECT_EQ(acc.local_endpoint().to_string().rfind("[::1]:", 0), 0u);
  overlap::spawn(p, echo_one(acc));
  std::string reply;
  std::error_code err;
  const std::string msg = overlap_test::pattern(1000, 6);
  overlap::spawn(p, overlap_test::ask(p, acc.local_endpoint(), msg, reply, err));
  p.run();
  EXPECT_FALSE(err) << err.message();
  EXPECT_EQ(reply, msg);
}

}  // namespace
