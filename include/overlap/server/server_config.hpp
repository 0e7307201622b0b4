// Configuration of `overlap serve`: every limit and timeout with its unit in
// its name and its default here, in one place.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "overlap/http/limits.hpp"

namespace overlap::server {

using namespace std::chrono_literals;

inline constexpr unsigned default_port = 8080;
// Time for a client to send a complete request head, from its first byte (or
// from accept for the first request). Defends against slowloris.
inline constexpr std::chrono::milliseconds default_header_timeout_ms = 10s;
// Idle time allowed between keep-alive requests.
inline constexpr std::chrono::milliseconds default_keepalive_timeout_ms = 60s;
// Time a send may go without progress before the connection is dropped.
inline constexpr std::chrono::milliseconds default_send_timeout_ms = 60s;
// After SIGTERM/SIGINT: time given to in-flight responses before closing.
inline constexpr std::chrono::milliseconds default_shutdown_grace_ms = 10s;
// After a response that closes the connection, unread input is drained for at
// most this long so the client sees the response rather than a reset.
inline constexpr std::chrono::milliseconds default_linger_ms = 2s;
// TCP_DEFER_ACCEPT: a connection reaches the server with its first request
// bytes (one wake-up instead of two); one that sends nothing stays with the
// kernel for about the header timeout and is then handed over (and closed by
// the header timeout) or dropped. Off: every connection is accepted at once.
inline constexpr bool default_defer_accept = true;
// Adaptive busy-polling (proactor_options::busy_poll): the longest a thread
// spins for its next completion before sleeping. Zero never spins.
inline constexpr std::chrono::microseconds default_busy_poll_us{0};
// The receive-buffer ring each proactor thread shares among its connections
// (proactor_options::recv_buffer_count and recv_buffer_size): a power of two
// of buffers, up to 32768, of this many bytes each, allocated per thread at
// start (4 MiB with the defaults). A connection holds buffers only while its
// received bytes wait to be parsed; when all are taken, a connection receives
// into a buffer of its own instead, so none waits for the ring.
inline constexpr unsigned default_recv_buffers = 1024;
inline constexpr unsigned default_recv_buffer_bytes = 4096;
inline constexpr unsigned max_recv_buffers = 32768;
// Connections across all threads; past it, accepting pauses.
inline constexpr unsigned default_max_connections = 10000;
// Connections one client may hold open at once (0: no per-client limit).
inline constexpr unsigned default_max_connections_per_client = 0;
// Access-log bytes buffered per thread before a write is started, and the
// most kept while a write is in flight (beyond it, lines are dropped and counted).
inline constexpr std::size_t access_log_flush_bytes = 32 * 1024;
inline constexpr std::size_t access_log_max_buffer_bytes = 4 * 1024 * 1024;
// Period of the per-thread housekeeping tick (timeouts, log flush, signals).
inline constexpr std::chrono::milliseconds housekeeping_period_ms = 250ms;
// After a second SIGTERM/SIGINT, the longest a thread waits for the kernel to
// hand back the operations of the connections it aborted before it stops.
inline constexpr std::chrono::milliseconds cut_stop_bound_ms = 2000ms;
// After a third signal (or when another thread failed), the longest a thread
// runs on to get the same operations back and its access log written.
inline constexpr std::chrono::milliseconds stop_now_bound_ms = 1000ms;
// Pause before accepting again after EMFILE/ENFILE.
inline constexpr std::chrono::milliseconds accept_backoff_ms = 100ms;

// The concurrency model the HTTP core runs on (the paper's three designs):
// proactor — asynchronous operations and completion handlers, one proactor
//            per thread (the server this project is about);
// reactor  — epoll readiness, then non-blocking read/write/sendfile on the
//            same thread (paper §8 and Appendix A.2), one loop per thread;
// threads  — one thread per connection with blocking I/O (Appendix A.1).
// The latter two exist to measure the designs side by side (bench/http.sh).
enum class concurrency_model : std::uint8_t { proactor, reactor, threads };

// The access log's line format: the Combined Log Format of nginx and Apache,
// or one JSON object per line (with the response's duration).
enum class access_log_format : std::uint8_t { combined, json };

struct server_config {
  std::string docroot;  // directory to serve
  std::string bind = "127.0.0.1";
  unsigned port = default_port;
  unsigned threads = 1;
  std::string access_log = "-";  // a path, "-" (stdout) or "off"
  access_log_format log_format = access_log_format::combined;
  std::chrono::milliseconds header_timeout_ms = default_header_timeout_ms;
  std::chrono::milliseconds keepalive_timeout_ms = default_keepalive_timeout_ms;
  std::chrono::milliseconds send_timeout_ms = default_send_timeout_ms;
  std::chrono::milliseconds shutdown_grace_ms = default_shutdown_grace_ms;
  std::chrono::milliseconds linger_ms = default_linger_ms;
  unsigned max_connections = default_max_connections;
  // Set by the user (rather than the default): kept even when RLIMIT_NOFILE
  // is too low for it; the default shrinks to what the limit allows.
  bool max_connections_set = false;
  // Connections one client (an IPv4 address, an IPv6 /64) may hold open at
  // once, across all threads; more are closed as soon as they are accepted.
  // 0: no such limit.
  unsigned max_connections_per_client = default_max_connections_per_client;
  bool defer_accept = default_defer_accept;
  std::chrono::microseconds busy_poll_us = default_busy_poll_us;
  unsigned recv_buffers = default_recv_buffers;
  unsigned recv_buffer_bytes = default_recv_buffer_bytes;
  // proactor_options::backend: "io_uring", "epoll", or empty for io_uring
  // where the kernel allows it ($OVERLAP_BACKEND also applies).
  std::string backend;
  concurrency_model model = concurrency_model::proactor;
  // The admin listener (/metrics, /operations, status page): off when
  // admin_port < 0. It also turns on operation tracking (latency histograms
  // and the in-flight table, stamped with the loop's clock).
  int admin_port = -1;
  std::string admin_bind = "127.0.0.1";
  // Chrome trace-event file of every operation (empty: off).
  std::string trace_path;
  // "NAME[:GROUP]": the account to switch to once the listeners are bound,
  // before the docroot and the access log are opened (empty: stay as is).
  std::string run_as;
  http::http_config http;
};

// Serves until SIGTERM/SIGINT (graceful), reopening the access log on SIGHUP.
// Returns the process exit status; set-up failures are printed to stderr.
int run_server(const server_config& config);

}  // namespace overlap::server
