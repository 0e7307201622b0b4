// The admin listener of `overlap serve` (--admin-port): /metrics (Prometheus
// text format), /operations (the operations in flight, longest-waiting first)
// and / (an HTML status page). It runs on shard 0's proactor and gathers a
// report from every shard by posting to its proactor: each shard copies its
// own counters on its own thread, so the hot path takes no lock and shares no
// cache line. One request per connection; the admin listener is for
// operators and scrapers, not for load.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "admin_pages.hpp"
#include "overlap/proactor.hpp"
#include "overlap/task.hpp"
#include "overlap/tcp_acceptor.hpp"
#include "overlap/tcp_stream.hpp"
#include "overlap/timer.hpp"
#include "shard_directory.hpp"

namespace overlap::server {

// Limits of the admin listener (not configurable: it serves a few scrapers).
inline constexpr std::size_t admin_max_connections = 16;
inline constexpr std::chrono::milliseconds admin_io_timeout_ms{5000};
// How long a request waits for the other shards' reports before 503.
inline constexpr std::chrono::milliseconds admin_gather_timeout_ms{2000};
// Rows of the in-flight table per shard on /operations and the status page.
inline constexpr std::size_t admin_max_rows = 1000;

class admin_server {
 public:
  admin_server(proactor& p, int listen_fd, shard_directory& shards, admin_info info);
  admin_server(const admin_server&) = delete;
  admin_server& operator=(const admin_server&) = delete;
  ~admin_server();

  void start();
  // Stops accepting (graceful shutdown); requests being answered finish.
  void close() noexcept;

 private:
  struct gather;
  void arm_accept();
  task<void> serve(tcp_stream s);
  // The response to a GET of `target`, head and body.
  task<std::string> respond(std::string_view target);

  proactor& proactor_;
  tcp_acceptor acceptor_;
  timer retry_;  // accepting again after an accept error
  shard_directory& shards_;
  admin_info info_;
  std::chrono::steady_clock::time_point started_;
  // Admin connections open; shared with their coroutine frames.
  std::shared_ptr<std::size_t> connections_ = std::make_shared<std::size_t>(0);
  bool closed_ = false;
};

}  // namespace overlap::server
