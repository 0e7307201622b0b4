#include "admin_server.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <coroutine>
#include <cstdio>
#include <ctime>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "overlap/error.hpp"
#include "overlap/http/parser.hpp"
#include "overlap/http/status.hpp"
#include "overlap/timer.hpp"
#include "server_shard.hpp"

namespace overlap::server {

// The reports of one request, filled on shard 0's thread: its own at once,
// the others' as their posts come back. Shared with those posts, which may
// arrive after the request gave up waiting.
struct admin_server::gather {
  std::vector<shard_report> reports;
  unsigned pending = 0;
  bool finished = false;
  std::coroutine_handle<> waiter;

  void arrive(shard_report r) {
    if (finished) return;
    reports.push_back(std::move(r));
    if (--pending == 0) finish();
  }
  void finish() {
    if (finished) return;
    finished = true;
    if (waiter) std::exchange(waiter, {}).resume();
  }
  // co_await g->all(): resumes when every report is in, or finish() is
  // called. (An awaiter of its own: GCC 12 may copy an lvalue awaitable.)
  struct awaiter {
    gather* g;
    bool await_ready() const noexcept { return g->finished; }
    void await_suspend(std::coroutine_handle<> h) const noexcept { g->waiter = h; }
    void await_resume() const noexcept {}
  };
  awaiter all() noexcept { return awaiter{this}; }
};

namespace {

using http::http_status;

std::string response(http_status status, std::string_view content_type, std::string_view body,
                     bool head_only, std::string_view extra_headers = {}) {
  std::string out;
  out.reserve(body.size() + 256);
  out += "HTTP/1.1 ";
  out += std::to_string(static_cast<unsigned>(status));
  out += ' ';
  out += reason_phrase(status);
  out += "\r\nContent-Type: ";
  out += content_type;
  out += "\r\nContent-Length: ";
  out += std::to_string(body.size());
  out += "\r\nCache-Control: no-store\r\nConnection: close\r\n";
  out += extra_headers;
  out += "\r\n";
  if (!head_only) out += body;
  return out;
}

std::string error_response(http_status status, bool head_only, std::string_view extra = {}) {
  std::string body(reason_phrase(status));
  body += '\n';
  return response(status, "text/plain; charset=utf-8", body, head_only, extra);
}

}  // namespace

admin_server::admin_server(proactor& p, int listen_fd, shard_directory& shards, admin_info info)
    : proactor_(p),
      acceptor_(p, listen_fd),
      retry_(p),
      shards_(shards),
      info_(std::move(info)),
      started_(std::chrono::steady_clock::now()) {}

admin_server::~admin_server() {
  close();
}

void admin_server::start() {
  arm_accept();
}

void admin_server::close() noexcept {
  if (closed_) return;
  closed_ = true;
  acceptor_.close();
  retry_.cancel();
}

void admin_server::arm_accept() {
  acceptor_.async_accept_multishot([this](std::error_code ec, tcp_stream s) {
    if (ec) {
      if (closed_ || ec == errc::operation_aborted) return;
      // EMFILE and the like: the multishot accept has ended; try again
      // after the same pause as the main listener.
      std::fprintf(stderr, "overlap serve: admin accept: %s (pausing %lld ms)\n",
                   ec.message().c_str(), static_cast<long long>(accept_backoff_ms.count()));
      retry_.async_wait(accept_backoff_ms, [this](std::error_code tec, std::size_t) {
        if (!tec && !closed_) arm_accept();
      });
      return;
    }
    if (*connections_ >= admin_max_connections) return;  // s closes: too many scrapers
    ++*connections_;
    spawn(proactor_, serve(std::move(s)));
  });
}

task<void> admin_server::serve(tcp_stream s) {
  // Shared with the frame, which the proactor may destroy after this
  // admin_server is gone (a connection still open at shutdown).
  struct release {
    std::shared_ptr<std::size_t> n;
    ~release() { --*n; }
  } counted{connections_};

  http::request_parser parser;
  char buf[4096];
  std::string reply;
  // One deadline for the whole request, so a client dribbling a byte at a
  // time cannot hold one of the few admin connections.
  const auto deadline = proactor_.now() + admin_io_timeout_ms;
  for (;;) {
    const auto left = std::max<std::chrono::nanoseconds>(deadline - proactor_.now(), 1ms);
    auto [ec, n] = co_await s.async_read_some(std::span<char>(buf), use_awaitable,
                                              op_options{.timeout = left});
    if (ec) co_return;  // closed, reset or too slow: nothing to answer
    const auto r = parser.parse(std::span<const char>(buf, n));
    if (r.event == http::parse_event::need_more) continue;
    if (r.event == http::parse_event::error) {
      reply = error_response(parser.error_status(), false);
      break;
    }
    const http::request& req = parser.current();
    if (req.method != http::method_kind::get && req.method != http::method_kind::head) {
      reply = error_response(http_status::method_not_allowed, false, "Allow: GET, HEAD\r\n");
      break;
    }
    reply = co_await respond(req.target);
    if (req.method == http::method_kind::head) {
      // The same head, without the body.
      if (const auto end = reply.find("\r\n\r\n"); end != std::string::npos) reply.resize(end + 4);
    }
    break;
  }
  (void)co_await s.async_write(std::span<const char>(reply), use_awaitable,
                               op_options{.timeout = admin_io_timeout_ms});
  (void)s.shutdown(SHUT_WR);
}

task<std::string> admin_server::respond(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  const bool metrics = path == "/metrics";
  const bool operations = path == "/operations";
  const bool status = path == "/" || path == "/status";
  if (!metrics && !operations && !status) co_return error_response(http_status::not_found, false);

  // Ask every shard for its report; shard 0 (this thread) answers at once.
  auto g = std::make_shared<gather>();
  const unsigned count = shards_.size();
  g->pending = count;
  for (unsigned i = 0; i < count; ++i) {
    // Captures the directory, not `this`: it runs on another thread and the
    // directory outlives every shard, this admin_server may not.
    shard_directory& directory = shards_;
    const bool posted = shards_.post_to(i, [g, i, &directory](server_shard& shard) {
      shard_report r = shard.report(i);
      if (i == 0) {
        g->arrive(std::move(r));
        return;
      }
      // Back to shard 0, where the request waits.
      directory.post(0, [g, r = std::move(r)]() mutable { g->arrive(std::move(r)); });
    });
    if (!posted) --g->pending;  // that shard has already stopped
  }
  if (g->pending == 0) g->finish();
  timer deadline(proactor_);
  deadline.async_wait(admin_gather_timeout_ms, [g](std::error_code ec, std::size_t) {
    if (!ec) g->finish();
  });
  co_await g->all();
  deadline.cancel();
  if (g->pending != 0) {
    co_return error_response(http_status::service_unavailable, false);
  }
  std::sort(g->reports.begin(), g->reports.end(),
            [](const shard_report& a, const shard_report& b) { return a.index < b.index; });

  admin_info info = info_;
  info.uptime_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  if (metrics) {
    co_return response(http_status::ok, "text/plain; version=0.0.4; charset=utf-8",
                       render_metrics(g->reports, info), false);
  }
  if (operations) {
    co_return response(http_status::ok, "text/plain; charset=utf-8",
                       render_operations(g->reports, admin_max_rows), false);
  }
  co_return response(http_status::ok, "text/html; charset=utf-8",
                     render_status_page(g->reports, info, admin_max_rows), false);
}

}  // namespace overlap::server
