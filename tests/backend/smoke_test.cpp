#include <gtest/gtest.h>

#include <string>

#include "overlap/error.hpp"
#include "overlap/proactor.hpp"
#include "overlap/task.hpp"
#include "overlap/tcp_acceptor.hpp"
#include "overlap/tcp_stream.hpp"
#include "overlap/timer.hpp"

using namespace std::chrono_literals;

namespace {

overlap::task<void> echo_once(overlap::tcp_acceptor& acc) {
  auto [ec, peer] = co_await acc.async_accept(overlap::use_awaitable);
  if (ec) co_return;
  char buf[64];
  auto [rec, n] = co_await peer.async_read_some(buf, overlap::use_awaitable);
  if (rec) co_return;
  co_await peer.async_write(std::span<const char>(buf, n), overlap::use_awaitable);
}

TEST(smoke, coroutine_echo_round_trip) {
  overlap::proactor p;
  overlap::tcp_acceptor acc(p, overlap::endpoint::loopback_v4(0));
  overlap::spawn(p, echo_once(acc));
  overlap::tcp_stream client(p);
  std::string got;
  char buf[64];
  client.async_connect(acc.local_endpoint(), [&](std::error_code ec) {
    ASSERT_FALSE(ec) << ec.message();
    client.async_write(std::span<const char>("hello", 5), [&](std::error_code wec, std::size_t) {
      ASSERT_FALSE(wec);
      client.async_read(std::span<char>(buf, 5), [&](std::error_code rec, std::size_t n) {
        ASSERT_FALSE(rec) << rec.message();
        got.assign(buf, n);
      });
    });
  });
  p.run();
  EXPECT_EQ(got, "hello");
}

TEST(smoke, timer_fires) {
  overlap::proactor p;
  overlap::timer t(p);
  int fired = 0;
  t.async_wait(1ms, [&](std::error_code ec) {
    EXPECT_FALSE(ec);
    ++fired;
  });
  p.run();
  EXPECT_EQ(fired, 1);
}

}  // namespace
