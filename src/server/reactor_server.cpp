// `overlap serve --model reactor`: see model_servers.hpp.
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <list>
#include <string>
#include <system_error>

#include "model_servers.hpp"
#include "model_threads.hpp"
#include "overlap/http/connection.hpp"
#include "overlap/http/http_date.hpp"
#include "overlap/http/static_site.hpp"
#include "plain_send.hpp"
#include "site_errors.hpp"

namespace overlap::server {
namespace {

using clock = std::chrono::steady_clock;

constexpr int max_events = 256;
constexpr std::size_t read_chunk_bytes = 64 * 1024;
constexpr int accepts_per_wakeup = 64;

struct stop_flags {
  std::atomic<bool> stop{false};   // graceful: finish in-flight responses
  std::atomic<bool> abort{false};  // now
  std::atomic<std::size_t> loops_running{0};
};

class reactor_loop {
 public:
  reactor_loop(const server_config& config, int listen_fd, std::size_t max_connections,
               stop_flags& flags, bool watch_signals)
      : config_(config),
        flags_(flags),
        listen_fd_(listen_fd),
        max_connections_(max_connections),
        site_(config.docroot, config.http.site) {
    report_site_errors(site_);
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) throw std::system_error(errno, std::system_category(), "epoll_create1");
    if (watch_signals) {
      signal_fd_ = open_signal_fd({SIGINT, SIGTERM, SIGHUP});
      add(signal_fd_, EPOLLIN, &signal_fd_);
    }
    listen(true);
  }
  ~reactor_loop() {
    for (conn& c : conns_) ::close(c.fd);
    if (signal_fd_ >= 0) ::close(signal_fd_);
    ::close(epoll_fd_);
  }
  reactor_loop(const reactor_loop&) = delete;
  reactor_loop& operator=(const reactor_loop&) = delete;

  void run();

 private:
  enum class phase : std::uint8_t { idle, request, lingering };
  struct conn {
    conn(int f, const http::connection_context& ctx) : fd(f), http(ctx) {}
    int fd;
    http::connection http;
    std::string rest;  // received bytes the core did not take yet
    bool readable = true, writable = true, hangup = false, peer_eof = false;
    bool first_request = true, draining = false;
    phase state = phase::idle;
    clock::time_point request_started{}, deadline{};
    std::list<conn>::iterator self;
  };

  void add(int fd, std::uint32_t events, void* tag) const {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = tag;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0)
      throw std::system_error(errno, std::system_category(), "epoll_ctl");
  }
  void listen(bool on) {
    if (on == listening_) return;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // the listener
    if (::epoll_ctl(epoll_fd_, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, listen_fd_, &ev) == 0)
      listening_ = on;
  }

  void accept_ready();
  void on_signal();
  void serve(conn& c);
  bool read_input(conn& c);  // false: c was destroyed
  void linger(conn& c);
  void begin_close(conn& c);
  void destroy(conn& c);
  void set_deadline(conn& c);
  void housekeeping();
  void begin_shutdown();

  const server_config& config_;
  stop_flags& flags_;
  int listen_fd_;
  std::size_t max_connections_;
  http::static_site site_;
  http::http_date_clock date_;
  int epoll_fd_ = -1;
  int signal_fd_ = -1;
  bool listening_ = false;
  bool shutting_down_ = false;
  clock::time_point now_ = clock::now();
  clock::time_point resume_accept_{};  // after EMFILE/ENFILE
  clock::time_point shutdown_deadline_{};
  std::list<conn> conns_;
  char buf_[read_chunk_bytes];
};

void reactor_loop::run() {
  epoll_event events[max_events];
  auto next_tick = now_;
  // The loop that reads the signals keeps running until the others are done,
  // so that a second signal still stops those draining their connections.
  const auto done = [this] {
    return shutting_down_ && conns_.empty() &&
           (signal_fd_ < 0 || flags_.loops_running.load(std::memory_order_acquire) == 1);
  };
  while (!done() && !flags_.abort.load(std::memory_order_acquire)) {
    const int n = ::epoll_wait(epoll_fd_, events, max_events,
                               static_cast<int>(housekeeping_period_ms.count()));
    if (n < 0 && errno != EINTR)
      throw std::system_error(errno, std::system_category(), "epoll_wait");
    now_ = clock::now();
    date_.update(std::chrono::system_clock::now());
    for (int i = 0; i < n; ++i) {
      void* tag = events[i].data.ptr;
      if (tag == nullptr) {
        accept_ready();
      } else if (tag == &signal_fd_) {
        on_signal();
      } else {
        conn& c = *static_cast<conn*>(tag);
        const std::uint32_t e = events[i].events;
        if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c.readable = true;
        if (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c.hangup = true;
        if (e & (EPOLLOUT | EPOLLERR)) c.writable = true;
        serve(c);  // may destroy c
      }
    }
    // After the batch: shutting down destroys connections later events name.
    if (flags_.stop.load(std::memory_order_acquire) && !shutting_down_) begin_shutdown();
    if (now_ >= next_tick) {
      housekeeping();
      next_tick = now_ + housekeeping_period_ms;
    }
  }
}

void reactor_loop::accept_ready() {
  for (int i = 0; i < accepts_per_wakeup && conns_.size() < max_connections_; ++i) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) return;
      // EMFILE/ENFILE (or anything else): pause; existing connections go on.
      std::fprintf(stderr, "overlap serve: accept: %s (pausing %lld ms)\n", std::strerror(errno),
                   static_cast<long long>(accept_backoff_ms.count()));
      listen(false);
      resume_accept_ = now_ + accept_backoff_ms;
      return;
    }
    conns_.emplace_front(fd, http::connection_context{config_.http, site_, date_, nullptr});
    conn& c = conns_.front();
    c.self = conns_.begin();
    try {
      add(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, &c);
    } catch (const std::system_error& e) {
      std::fprintf(stderr, "overlap serve: %s\n", e.what());
      destroy(c);
      continue;
    }
    serve(c);  // with TCP_DEFER_ACCEPT the request is usually there already
  }
  if (conns_.size() >= max_connections_) listen(false);
}

void reactor_loop::on_signal() {
  signalfd_siginfo si{};
  while (::read(signal_fd_, &si, sizeof si) == sizeof si) {
    if (si.ssi_signo == SIGHUP) continue;  // no access log to reopen
    if (flags_.stop.exchange(true, std::memory_order_acq_rel)) {
      std::fprintf(stderr, "overlap serve: second signal, stopping now\n");
      flags_.abort.store(true, std::memory_order_release);
    } else {
      std::fprintf(stderr, "overlap serve: shutting down (finishing in-flight responses)\n");
    }
  }
}

bool reactor_loop::read_input(conn& c) {
  bool fed = false;
  while (c.http.wants_input() && !c.draining) {
    if (!c.rest.empty()) {
      const std::size_t used = c.http.feed(c.rest);
      c.rest.erase(0, used);
      fed = fed || used > 0;
      if (!c.rest.empty()) break;
      continue;
    }
    if (!c.readable) break;
    const ssize_t n = ::recv(c.fd, buf_, sizeof buf_, 0);
    if (n > 0) {
      // A short read emptied the socket: the next byte brings a new edge. A
      // hang-up may already be queued behind the data, so read on after one.
      if (static_cast<std::size_t>(n) < sizeof buf_ && !c.hangup) c.readable = false;
      const std::size_t used = c.http.feed({buf_, static_cast<std::size_t>(n)});
      if (used < static_cast<std::size_t>(n)) c.rest.assign(buf_ + used, buf_ + n);
      fed = true;
    } else if (n == 0) {
      c.readable = false;
      c.peer_eof = true;
      c.http.feed_eof();
    } else if (errno == EAGAIN || errno == EINTR) {
      if (errno == EAGAIN) c.readable = false;
    } else {
      destroy(c);  // reset: nothing more will be sent or received
      return false;
    }
  }
  if (c.http.has_output()) {
    c.first_request = false;
    c.state = phase::idle;
  } else if (fed && c.state == phase::idle) {
    c.state = phase::request;  // part of a request head: the header timeout runs
    c.request_started = now_;
  }
  return true;
}

void reactor_loop::serve(conn& c) {
  if (c.state == phase::lingering) {
    linger(c);
    return;
  }
  for (;;) {
    if (!read_input(c)) return;
    while (c.http.has_output() && c.writable) {
      const ssize_t n = send_queued(c.fd, c.http);
      if (n == -EAGAIN) {
        c.writable = false;
      } else if (n < 0) {
        destroy(c);  // reset by the peer
        return;
      } else if (n == 0) {
        break;
      }
    }
    if (c.http.should_close() || (c.draining && !c.http.has_output())) {
      begin_close(c);
      return;
    }
    // Go round again only when sending made room for input already waiting.
    if (c.http.has_output() || !c.http.wants_input() || c.draining ||
        (c.rest.empty() && !c.readable))
      break;
  }
  set_deadline(c);
}

void reactor_loop::begin_close(conn& c) {
  // As the proactor server: linger only when input may still be on its way.
  const bool input_pending = c.http.input_may_follow() || !c.rest.empty();
  if (c.peer_eof || !input_pending || config_.linger_ms.count() <= 0 || shutting_down_) {
    destroy(c);
    return;
  }
  ::shutdown(c.fd, SHUT_WR);
  c.state = phase::lingering;
  c.deadline = now_ + config_.linger_ms;
  linger(c);
}

void reactor_loop::linger(conn& c) {
  while (c.readable) {
    const ssize_t n = ::recv(c.fd, buf_, sizeof buf_, 0);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      c.readable = false;
      return;
    }
    destroy(c);  // the client closed (or reset)
    return;
  }
}

void reactor_loop::destroy(conn& c) {
  ::close(c.fd);  // also leaves the epoll set
  conns_.erase(c.self);
  if (!shutting_down_ && conns_.size() < max_connections_ && now_ >= resume_accept_) listen(true);
}

void reactor_loop::set_deadline(conn& c) {
  if (c.state == phase::lingering) return;  // fixed when lingering began
  if (c.http.has_output()) {
    c.deadline = now_ + config_.send_timeout_ms;  // since the last send made progress
  } else if (c.state == phase::request) {
    c.deadline = c.request_started + config_.header_timeout_ms;
  } else {
    c.deadline =
        now_ + (c.first_request ? config_.header_timeout_ms : config_.keepalive_timeout_ms);
  }
}

void reactor_loop::housekeeping() {
  if (!listening_ && !shutting_down_ && now_ >= resume_accept_ && conns_.size() < max_connections_)
    listen(true);
  const bool grace_over = shutting_down_ && now_ >= shutdown_deadline_;
  for (auto it = conns_.begin(); it != conns_.end();) {
    conn& c = *it++;  // c may be destroyed
    if (grace_over || now_ >= c.deadline) destroy(c);
  }
}

void reactor_loop::begin_shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  shutdown_deadline_ = now_ + config_.shutdown_grace_ms;
  listen(false);
  for (auto it = conns_.begin(); it != conns_.end();) {
    conn& c = *it++;
    c.draining = true;  // no new requests; responses in flight still finish
    if (!c.http.has_output()) destroy(c);
  }
}

}  // namespace

void run_reactor_server(const server_config& config, const std::vector<int>& listen_fds,
                        unsigned max_connections) {
  stop_flags flags;
  flags.loops_running = listen_fds.size();
  const std::size_t per_thread = (max_connections + listen_fds.size() - 1) / listen_fds.size();
  run_on_threads(
      listen_fds.size(),
      [&](std::size_t index) {
        struct leaving {
          stop_flags& f;
          ~leaving() { f.loops_running.fetch_sub(1, std::memory_order_acq_rel); }
        } count_down{flags};
        reactor_loop loop(config, listen_fds[index], per_thread, flags, index == 0);
        loop.run();
      },
      [&] { flags.abort.store(true, std::memory_order_release); });
}

}  // namespace overlap::server
