// Steady-state echo round trips allocate nothing: the operation lives in the
// coroutine frame, in the stream's state (handler objects) or in a block the
// proactor recycles (callables). This TU replaces the global operator
// new/delete with counting versions; counting is switched on only for the
// measured round trips, after a warm-up that lets recycling lists grow.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <span>

#include "backend/loopback.hpp"
#include "counting_new.hpp"
#include "overlap/proactor.hpp"
#include "overlap/task.hpp"
#include "overlap/tcp_stream.hpp"

namespace {
using overlap_test::allocations;
using overlap_test::counting;
}  // namespace

namespace {

constexpr int warm_up_round_trips = 100;
constexpr int measured_round_trips = 10000;
constexpr std::size_t message_size = 64;

// Switches counting on at the start of round trip `warm_up_round_trips` and
// off after the last one.
struct allocation_window {
  int round_trips = 0;
  std::size_t counted = 0;
  bool closed = false;
  void before_round_trip(int i) {
    if (i == warm_up_round_trips) {
      allocations.store(0);
      counting.store(true);
    }
  }
  void finish() {
    counting.store(false);
    counted = allocations.load();
    closed = true;
  }
};

// Sanity: the counter sees allocations made while counting is on, so a zero
// below is meaningful.
TEST(allocations, the_counter_sees_an_allocation) {
  // Guards the tests here: the counting operator new is really in use.
  EXPECT_EQ(overlap_test::allocations_counted_for_one_new(), 1u);
}

// --- coroutine form --------------------------------------------------------

overlap::task<void> coroutine_echo_server(overlap::tcp_stream& s) {
  char buf[message_size];
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(buf, overlap::use_awaitable);
    if (ec) co_return;
    auto [wec, w] = co_await s.async_write(std::span<const char>(buf, n), overlap::use_awaitable);
    if (wec) co_return;
  }
}

overlap::task<void> coroutine_echo_client(overlap::tcp_stream& s, allocation_window& w) {
  char out[message_size];
  char in[message_size];
  std::memset(out, 'a', sizeof(out));
  for (int i = 0; i < warm_up_round_trips + measured_round_trips; ++i) {
    w.before_round_trip(i);
    std::memcpy(out, &i, sizeof(i));
    auto [wec, wn] = co_await s.async_write(out, overlap::use_awaitable);
    if (wec) break;
    auto [rec, rn] = co_await s.async_read(in, overlap::use_awaitable);
    if (rec || std::memcmp(in, out, sizeof(out)) != 0) break;
    ++w.round_trips;
  }
  w.finish();
  s.close();  // the server sees eof and ends
}

TEST(allocations, coroutine_echo_round_trips_allocate_nothing_once_warm) {
  overlap::proactor p;
  auto [client, server] = overlap_test::connected_pair(p);
  allocation_window w;
  overlap::spawn(p, coroutine_echo_server(server));
  overlap::spawn(p, coroutine_echo_client(client, w));
  p.run();
  ASSERT_TRUE(w.closed);
  ASSERT_EQ(w.round_trips, warm_up_round_trips + measured_round_trips);
  EXPECT_EQ(w.counted, 0u) << "allocations during " << measured_round_trips << " round trips";
}

// --- handler-object form -----------------------------------------------------

class handler_echo_server final : public overlap::stream_handler {
 public:
  explicit handler_echo_server(overlap::tcp_stream& s) : s_(s) {}
  void start() { s_.async_read_some(buf_, *this); }
  void on_read_complete(std::error_code ec, std::size_t n) override {
    if (!ec) s_.async_write(std::span<const char>(buf_, n), *this);
  }
  void on_write_complete(std::error_code ec, std::size_t) override {
    if (!ec) start();
  }

 private:
  overlap::tcp_stream& s_;
  char buf_[message_size];
};

class handler_echo_client final : public overlap::stream_handler {
 public:
  handler_echo_client(overlap::tcp_stream& s, allocation_window& w) : s_(s), w_(w) {
    std::memset(out_, 'b', sizeof(out_));
  }
  void send() {
    if (i_ == warm_up_round_trips + measured_round_trips) {
      w_.finish();
      s_.close();
      return;
    }
    w_.before_round_trip(i_);
    std::memcpy(out_, &i_, sizeof(i_));
    s_.async_write(std::span<const char>(out_), *this);
  }
  void on_write_complete(std::error_code ec, std::size_t) override {
    if (ec) return fail();
    s_.async_read(std::span<char>(in_), *this);
  }
  void on_read_complete(std::error_code ec, std::size_t) override {
    if (ec || std::memcmp(in_, out_, sizeof(out_)) != 0) return fail();
    ++w_.round_trips;
    ++i_;
    send();
  }

 private:
  void fail() {
    w_.finish();
    s_.close();
  }
  overlap::tcp_stream& s_;
  allocation_window& w_;
  int i_ = 0;
  char out_[message_size];
  char in_[message_size];
};

TEST(allocations, handler_object_echo_round_trips_allocate_nothing_once_warm) {
  overlap::proactor p;
  auto [client, server] = overlap_test::connected_pair(p);
  allocation_window w;
  handler_echo_server srv(server);
  handler_echo_client cli(client, w);
  srv.start();
  cli.send();
  p.run();
  ASSERT_TRUE(w.closed);
  ASSERT_EQ(w.round_trips, warm_up_round_trips + measured_round_trips);
  EXPECT_EQ(w.counted, 0u) << "allocations during " << measured_round_trips << " round trips";
}

// --- callable form -----------------------------------------------------------

struct callable_echo {
  overlap::tcp_stream& client;
  overlap::tcp_stream& server;
  allocation_window& w;
  int i = 0;
  char out[message_size] = {};
  char in[message_size] = {};
  char sbuf[message_size] = {};

  void serve() {
    server.async_read_some(sbuf, [this](std::error_code ec, std::size_t n) {
      if (ec) return;
      server.async_write(std::span<const char>(sbuf, n), [this](std::error_code wec, std::size_t) {
        if (!wec) serve();
      });
    });
  }
  void send() {
    if (i == warm_up_round_trips + measured_round_trips) return done();
    w.before_round_trip(i);
    std::memcpy(out, &i, sizeof(i));
    client.async_write(std::span<const char>(out), [this](std::error_code ec, std::size_t) {
      if (ec) return done();
      client.async_read(std::span<char>(in), [this](std::error_code rec, std::size_t) {
        if (rec || std::memcmp(in, out, sizeof(out)) != 0) return done();
        ++w.round_trips;
        ++i;
        send();
      });
    });
  }
  void done() {
    w.finish();
    client.close();
  }
};

TEST(allocations, callable_echo_round_trips_allocate_nothing_once_warm) {
  overlap::proactor p;
  auto [client, server] = overlap_test::connected_pair(p);
  allocation_window w;
  callable_echo echo{client, server, w};
  echo.serve();
  echo.send();
  p.run();
  ASSERT_TRUE(w.closed);
  ASSERT_EQ(w.round_trips, warm_up_round_trips + measured_round_trips);
  EXPECT_EQ(w.counted, 0u) << "allocations during " << measured_round_trips << " round trips";
}

}  // namespace
