// `overlap serve --model threads`: see model_servers.hpp.
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>

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

// Stack of a connection thread: the HTTP state lives on the heap, the
// receive buffer and a few frames on the stack.
constexpr std::size_t connection_stack_bytes = 256 * 1024;
constexpr std::size_t receive_bytes = 16 * 1024;

class threaded_server {
 public:
  threaded_server(const server_config& config, int listen_fd, unsigned max_connections)
      : config_(config),
        listen_fd_(listen_fd),
        max_connections_(max_connections),
        site_(config.docroot, config.http.site) {
    report_site_errors(site_);
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) throw std::system_error(errno, std::system_category(), "eventfd");
  }
  ~threaded_server() { ::close(wake_fd_); }
  threaded_server(const threaded_server&) = delete;
  threaded_server& operator=(const threaded_server&) = delete;

  // Accepts until a signal asks to stop, then waits for the connections.
  void run();

 private:
  void serve_connection(int fd);
  void watch_signals();
  bool wait_readable_listener();
  void begin_shutdown();
  void shutdown_all(int how);

  const server_config& config_;
  int listen_fd_;
  unsigned max_connections_;
  int wake_fd_ = -1;  // wakes the acceptor for shutdown

  std::mutex site_mutex_;  // the site and its open-file cache are shared
  http::static_site site_;

  std::mutex mutex_;  // guards the members below
  std::condition_variable changed_;
  std::unordered_set<int> fds_;  // sockets of live connections
  unsigned live_ = 0;            // connection threads not yet finished
  bool stopping_ = false, aborting_ = false, done_ = false;
};

void threaded_server::run() {
  std::thread signals([this] { watch_signals(); });
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return stopping_ || live_ < max_connections_; });
      if (stopping_) break;
    }
    if (!wait_readable_listener()) break;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);  // blocking socket
    if (fd < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) continue;
      std::fprintf(stderr, "overlap serve: accept: %s (pausing %lld ms)\n", std::strerror(errno),
                   static_cast<long long>(accept_backoff_ms.count()));
      std::this_thread::sleep_for(accept_backoff_ms);
      continue;
    }
    {
      const std::lock_guard lock(mutex_);
      fds_.insert(fd);
      ++live_;
    }
    const int rc =
        start_detached_thread(connection_stack_bytes, [this, fd] { serve_connection(fd); });
    if (rc != 0) {
      std::fprintf(stderr, "overlap serve: cannot start a connection thread: %s\n",
                   std::strerror(rc));
      {
        const std::lock_guard lock(mutex_);
        fds_.erase(fd);
        --live_;
      }
      ::close(fd);
      std::this_thread::sleep_for(accept_backoff_ms);
    }
  }
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return live_ == 0; });
    done_ = true;
  }
  changed_.notify_all();
  signals.join();
}

bool threaded_server::wait_readable_listener() {
  pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  for (;;) {
    const int n = ::poll(p, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || (p[1].revents & POLLIN) != 0) return false;
    if ((p[0].revents & POLLIN) != 0) return true;
  }
}

// SIGTERM/SIGINT: stop accepting, let the connections finish their queued
// responses (their reading side is shut, so they read end of stream), and
// after the grace period cut the rest; a second signal cuts them at once.
void threaded_server::watch_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  const timespec poll_period{0, 100'000'000};
  clock::time_point grace_end{};
  for (;;) {
    const int signo = ::sigtimedwait(&set, nullptr, &poll_period);
    std::unique_lock lock(mutex_);
    if (done_) return;
    if (signo == SIGINT || signo == SIGTERM) {
      if (!stopping_) {
        std::fprintf(stderr, "overlap serve: shutting down (finishing in-flight responses)\n");
        stopping_ = true;
        grace_end = clock::now() + config_.shutdown_grace_ms;
        const std::uint64_t one = 1;
        (void)!::write(wake_fd_, &one, sizeof one);
        for (int fd : fds_) ::shutdown(fd, SHUT_RD);
        changed_.notify_all();
      } else if (!aborting_) {
        std::fprintf(stderr, "overlap serve: second signal, stopping now\n");
        aborting_ = true;
      }
    }
    if (stopping_ && !aborting_ && clock::now() >= grace_end) aborting_ = true;
    if (aborting_) {
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
  }
}

void set_timeout(int fd, int option, clock::duration d) {
  const auto us =
      std::max<long long>(1, std::chrono::duration_cast<std::chrono::microseconds>(d).count());
  timeval tv{static_cast<time_t>(us / 1'000'000), static_cast<suseconds_t>(us % 1'000'000)};
  ::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
}

void threaded_server::serve_connection(int fd) {
  {
    http::http_date_clock date;
    http::connection c(http::connection_context{config_.http, site_, date, nullptr, &site_mutex_});
    char buf[receive_bytes];
    std::string rest;
    bool peer_eof = false, first_request = true, in_request = false;
    clock::time_point request_started{};
    clock::duration receive_timeout{};                      // the SO_RCVTIMEO set last
    set_timeout(fd, SO_SNDTIMEO, config_.send_timeout_ms);  // per send call: "no progress"

    bool alive = true;
    while (alive) {
      date.update(std::chrono::system_clock::now());
      while (c.has_output()) {
        const ssize_t n = send_queued(fd, c);
        if (n < 0) {
          alive = false;  // reset, or the send timed out
          break;
        }
        if (n == 0) break;
      }
      if (!alive || c.should_close()) break;
      if (!c.wants_input()) continue;  // the queue made room: feed on
      if (!rest.empty()) {
        const std::size_t used = c.feed(rest);
        rest.erase(0, used);
        continue;
      }
      const auto now = clock::now();
      const clock::duration want = in_request ? request_started + config_.header_timeout_ms - now
                                   : first_request ? clock::duration(config_.header_timeout_ms)
                                                   : clock::duration(config_.keepalive_timeout_ms);
      if (want <= clock::duration::zero()) break;  // the header timeout ran out
      if (in_request || want != receive_timeout) {
        set_timeout(fd, SO_RCVTIMEO, want);
        receive_timeout = want;
      }
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) {
        const std::size_t used = c.feed({buf, static_cast<std::size_t>(n)});
        if (used < static_cast<std::size_t>(n)) rest.assign(buf + used, buf + n);
        if (c.has_output()) {
          first_request = false;
          in_request = false;
        } else if (!in_request) {
          in_request = true;  // part of a request head: the header timeout runs
          request_started = now;
        }
      } else if (n == 0) {
        peer_eof = true;
        c.feed_eof();
      } else if (errno != EINTR) {
        break;  // timed out (EAGAIN) or reset
      }
    }
    // Lingering close, as the other models: after a malformed request, or a
    // response sent before the request's content, the client may still be
    // sending; read and drop it for a while so the kernel does not reset the
    // connection under the response.
    if (alive && !peer_eof && (c.input_may_follow() || !rest.empty()) &&
        config_.linger_ms.count() > 0) {
      ::shutdown(fd, SHUT_WR);
      const auto end = clock::now() + config_.linger_ms;
      for (clock::duration left = config_.linger_ms; left > clock::duration::zero();
           left = end - clock::now()) {
        set_timeout(fd, SO_RCVTIMEO, left);
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno != EINTR)) break;
      }
    }
  }  // the connection (and its cache pins) go before the thread is counted out
  std::lock_guard lock(mutex_);
  fds_.erase(fd);  // under the lock: the signal thread never shuts a reused number
  ::close(fd);
  --live_;
  changed_.notify_all();  // the acceptor may wait for room, run() for the last one
}

}  // namespace

void run_threaded_server(const server_config& config, int listen_fd, unsigned max_connections) {
  threaded_server server(config, listen_fd, max_connections);
  server.run();
}

}  // namespace overlap::server
