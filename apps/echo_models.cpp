#include "echo_models.hpp"

#include "model_threads.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <list>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_set>

namespace overlap::apps {
namespace {

constexpr auto accept_backoff = std::chrono::milliseconds(100);
constexpr std::size_t buffer_bytes = 64 * 1024;

std::system_error last_error(const char* what) {
  return std::system_error(errno, std::system_category(), what);
}

// --- reactor ---------------------------------------------------------------

class echo_reactor {
 public:
  echo_reactor(int listen_fd, std::atomic<bool>& stop, bool watch_signals)
      : listen_fd_(listen_fd), stop_(stop) {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) throw last_error("epoll_create1");
    if (watch_signals) {
      signal_fd_ = server::open_signal_fd({SIGINT, SIGTERM});
      add(signal_fd_, EPOLLIN, &signal_fd_);
    }
    add(listen_fd_, EPOLLIN, nullptr);
  }
  ~echo_reactor() {
    for (conn& c : conns_) ::close(c.fd);
    if (signal_fd_ >= 0) ::close(signal_fd_);
    ::close(epoll_fd_);
  }
  echo_reactor(const echo_reactor&) = delete;
  echo_reactor& operator=(const echo_reactor&) = delete;

  void run() {
    epoll_event events[256];
    while (!stop_.load(std::memory_order_acquire)) {
      const int n = ::epoll_wait(epoll_fd_, events, 256, 250);  // the stop flag is read between
      if (n < 0 && errno != EINTR) throw last_error("epoll_wait");
      for (int i = 0; i < n; ++i) {
        void* tag = events[i].data.ptr;
        if (tag == nullptr) {
          accept_ready();
        } else if (tag == &signal_fd_) {
          stop_.store(true, std::memory_order_release);
        } else {
          conn& c = *static_cast<conn*>(tag);
          if (events[i].events & (EPOLLOUT | EPOLLERR)) c.writable = true;
          serve(c);
        }
      }
    }
  }

 private:
  struct conn {
    int fd;
    std::string pending;  // received, not yet sent back (the socket was full)
    bool writable = true;
    std::list<conn>::iterator self;
  };

  void add(int fd, std::uint32_t events, void* tag) const {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = tag;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) throw last_error("epoll_ctl");
  }

  void accept_ready() {
    for (int i = 0; i < 64; ++i) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
          std::fprintf(stderr, "overlap echo: accept: %s\n", std::strerror(errno));
        }
        return;
      }
      conns_.push_front(conn{fd, {}, true, {}});
      conns_.front().self = conns_.begin();
      add(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, &conns_.front());
    }
  }

  // Flushes what is pending, then echoes until the socket is empty or full.
  void serve(conn& c) {
    if (!flush(c)) return;
    while (c.pending.empty()) {
      const ssize_t n = ::recv(c.fd, buf_, sizeof buf_, 0);
      if (n > 0) {
        c.pending.assign(buf_, static_cast<std::size_t>(n));
        if (!flush(c)) return;
        if (static_cast<std::size_t>(n) < sizeof buf_) return;  // emptied: wait for the edge
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      destroy(c);  // end of stream or an error
      return;
    }
  }

  // False when the connection was closed.
  bool flush(conn& c) {
    while (!c.pending.empty() && c.writable) {
      const ssize_t n = ::send(c.fd, c.pending.data(), c.pending.size(), MSG_NOSIGNAL);
      if (n > 0) {
        c.pending.erase(0, static_cast<std::size_t>(n));
      } else if (n < 0 && errno == EAGAIN) {
        c.writable = false;
      } else if (!(n < 0 && errno == EINTR)) {
        destroy(c);
        return false;
      }
    }
    return true;
  }

  void destroy(conn& c) {
    ::close(c.fd);
    conns_.erase(c.self);
  }

  int listen_fd_;
  std::atomic<bool>& stop_;
  int epoll_fd_ = -1;
  int signal_fd_ = -1;
  std::list<conn> conns_;
  char buf_[buffer_bytes];
};

// --- thread per connection -------------------------------------------------

class echo_threads {
 public:
  explicit echo_threads(int listen_fd)
      : listen_fd_(listen_fd), signal_fd_(server::open_signal_fd({SIGINT, SIGTERM})) {}
  ~echo_threads() { ::close(signal_fd_); }
  echo_threads(const echo_threads&) = delete;
  echo_threads& operator=(const echo_threads&) = delete;

  void run() {
    for (;;) {
      pollfd p[2] = {{listen_fd_, POLLIN, 0}, {signal_fd_, POLLIN, 0}};
      if (::poll(p, 2, -1) < 0) {
        if (errno == EINTR) continue;
        throw last_error("poll");
      }
      if (p[1].revents & POLLIN) break;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);  // blocking socket
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE) std::this_thread::sleep_for(accept_backoff);
        continue;
      }
      start(fd);
    }
    // Stop: cut every connection, so each thread's recv returns, and wait.
    std::unique_lock lock(mutex_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    done_.wait(lock, [&] { return fds_.empty(); });
  }

 private:
  void start(int fd) {
    {
      const std::lock_guard lock(mutex_);
      fds_.insert(fd);
    }
    const int rc = server::start_detached_thread(128 * 1024, [this, fd] { echo(fd); });
    if (rc != 0) {
      std::fprintf(stderr, "overlap echo: cannot start a thread: %s\n", std::strerror(rc));
      finish(fd);
    }
  }

  void echo(int fd) {
    char buf[16 * 1024];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      if (!send_all(fd, buf, static_cast<std::size_t>(n))) break;
    }
    finish(fd);
  }

  static bool send_all(int fd, const char* p, std::size_t len) {
    while (len > 0) {
      const ssize_t n = ::send(fd, p, len, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      p += n;
      len -= static_cast<std::size_t>(n);
    }
    return true;
  }

  void finish(int fd) {
    const std::lock_guard lock(mutex_);
    fds_.erase(fd);  // under the lock: the stop never shuts a reused number
    ::close(fd);
    done_.notify_all();
  }

  int listen_fd_;
  int signal_fd_;
  std::mutex mutex_;
  std::condition_variable done_;
  std::unordered_set<int> fds_;
};

}  // namespace

void run_echo_reactor(const std::vector<int>& listen_fds) {
  std::atomic<bool> stop{false};
  server::run_on_threads(
      listen_fds.size(),
      [&](std::size_t index) {
        echo_reactor loop(listen_fds[index], stop, index == 0);
        loop.run();
      },
      [&] { stop.store(true, std::memory_order_release); });
}

void run_echo_threads(int listen_fd) {
  echo_threads server(listen_fd);
  server.run();
}

}  // namespace overlap::apps
