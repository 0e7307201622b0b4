// The server's hot path allocates nothing: 10,000 keep-alive GETs of a cached
// small file through a real server_shard (acceptor, http_session, HTTP core,
// open-file cache, Date clock) on a proactor, with a client on the same
// proactor. Counting covers the whole process (this TU replaces operator
// new), so the client is written to allocate nothing either.
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>

#include "counting_new.hpp"
#include "listeners.hpp"
#include "overlap/endpoint.hpp"
#include "overlap/handler.hpp"
#include "overlap/proactor.hpp"
#include "overlap/server/server_config.hpp"
#include "overlap/tcp_stream.hpp"
#include "server_shard.hpp"

namespace {

using overlap_test::allocations;
using overlap_test::counting;

constexpr int warm_up_requests = 200;
constexpr int measured_requests = 10000;
constexpr std::string_view request = "GET /small.txt HTTP/1.1\r\nHost: test\r\n\r\n";
constexpr std::string_view body = "0123456789abcdef0123456789abcdef small cached body\n";

class temp_docroot {
 public:
  temp_docroot() {
    char tmpl[] = "/tmp/overlap-alloc-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
    path_ = tmpl;
    std::ofstream(path_ / "small.txt", std::ios::binary) << body;
  }
  ~temp_docroot() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Sends one request at a time and reads one response. The first response
// fixes the response length (the head does not change from one request to
// the next: the Date field has a fixed width); every later one is read with
// async_read of exactly that many bytes into a fixed buffer and checked.
class keep_alive_client final : public overlap::stream_handler {
 public:
  keep_alive_client(overlap::proactor& p, overlap::server::shard_signals& signals)
      : stream_(p), signals_(signals) {}

  void start(const overlap::endpoint& server) {
    stream_.async_connect(server, [this](std::error_code ec, std::size_t) {
      if (ec) return fail("connect", ec);
      send();
    });
  }

  void on_write_complete(std::error_code ec, std::size_t) override {
    if (ec) return fail("write", ec);
    if (response_length_ == 0) {
      stream_.async_receive(*this);  // the first response: length unknown yet
    } else {
      stream_.async_read(std::span<char>(in_, response_length_), *this);
    }
  }

  void on_read_complete(std::error_code ec, std::size_t n) override {
    if (ec) return fail("read", ec);
    if (response_length_ == 0) {
      const auto data = stream_.received();
      const std::size_t take = std::min(data.size(), sizeof(in_) - have_);
      std::memcpy(in_ + have_, data.data(), take);
      stream_.consume(take);
      have_ += take;
      const std::string_view got(in_, have_);
      const auto end_of_head = got.find("\r\n\r\n");
      if (end_of_head == std::string_view::npos || have_ < end_of_head + 4 + body.size()) {
        stream_.async_receive(*this);
        return;
      }
      response_length_ = end_of_head + 4 + body.size();
      n = response_length_;
    }
    const std::string_view got(in_, n);
    if (n != response_length_ || !got.starts_with("HTTP/1.1 200 ") || !got.ends_with(body)) {
      return fail("response", {});
    }
    ++completed_;
    send();
  }

  int completed() const noexcept { return completed_; }
  std::size_t counted() const noexcept { return counted_; }
  const char* failure() const noexcept { return failure_; }

 private:
  void send() {
    if (completed_ == warm_up_requests) {
      allocations.store(0);
      counting.store(true);
    }
    if (completed_ == warm_up_requests + measured_requests) {
      counting.store(false);
      counted_ = allocations.load();
      finish();
      return;
    }
    stream_.async_write(std::span<const char>(request.data(), request.size()), *this);
  }
  void fail(const char* what, std::error_code ec) {
    counting.store(false);
    std::snprintf(failure_, sizeof(failure_), "%s: %s", what, ec.message().c_str());
    finish();
  }
  void finish() {
    stream_.close();            // the session sees end of stream and goes away
    signals_.stop.store(true);  // the shard's next housekeeping tick stops it
  }

  overlap::tcp_stream stream_;
  overlap::server::shard_signals& signals_;
  char in_[1024];
  std::size_t have_ = 0;
  std::size_t response_length_ = 0;
  int completed_ = 0;
  std::size_t counted_ = 0;
  char failure_[128] = "";
};

TEST(server_allocations, the_counter_sees_an_allocation) {
  // Guards the tests here: the counting operator new is really in use.
  EXPECT_EQ(overlap_test::allocations_counted_for_one_new(), 1u);
}

TEST(server_allocations, keep_alive_gets_of_a_cached_file_allocate_nothing_once_warm) {
  temp_docroot docroot;
  overlap::server::server_config config;
  config.docroot = docroot.path().string();
  config.access_log = "off";
  // The per-request path is what is measured: a cache revalidation (a statx
  // through the file loader, whose job is allocated; at most once per
  // revalidation interval per path) must not fall inside the window.
  config.http.site.revalidate_interval_ms = std::chrono::hours(1);
  const auto ep = *overlap::endpoint::parse("127.0.0.1", 0);
  auto listeners = overlap::server::open_listeners(ep, 1, /*defer_accept_seconds=*/0);
  ASSERT_EQ(listeners.fds.size(), 1u);

  overlap::proactor p;
  overlap::server::shard_signals signals;
  overlap::server::server_shard shard(p, config, listeners.fds[0], config.max_connections, signals);
  shard.start();
  keep_alive_client client(p, signals);
  client.start(listeners.bound);
  p.run_for(std::chrono::seconds(60));  // bounded: the shard stops itself well before

  ASSERT_STREQ(client.failure(), "");
  ASSERT_EQ(client.completed(), warm_up_requests + measured_requests);
  EXPECT_EQ(client.counted(), 0u) << "allocations during " << measured_requests << " requests";
}

}  // namespace
