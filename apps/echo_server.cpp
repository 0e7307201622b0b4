#include "echo_server.hpp"

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <list>
#include <system_error>

#include "echo_models.hpp"
#include "listeners.hpp"
#include "overlap/handler.hpp"
#include "overlap/proactor.hpp"
#include "overlap/signal_set.hpp"
#include "overlap/tcp_acceptor.hpp"
#include "overlap/tcp_stream.hpp"
#include "overlap/timer.hpp"
#include "thread_group.hpp"

namespace overlap::apps {
namespace {

using server::inherited_listeners;
using server::listener_set;
using server::open_listeners;
using server::thread_group;

using namespace std::chrono_literals;

// Pause before accepting again after EMFILE/ENFILE, so a full descriptor
// table does not turn into a busy loop.
constexpr auto accept_backoff = 100ms;

class echo_shard;

// One connection: receive into the shared buffer ring, write the same bytes
// back straight from the ring buffer, release it, receive again. An idle
// connection holds no buffer, and no byte is copied in user space.
class echo_session final : public stream_handler {
 public:
  echo_session(echo_shard& shard, tcp_stream s) : shard_(shard), stream_(std::move(s)) {}
  void start(std::list<echo_session>::iterator self) {
    self_ = self;
    stream_.async_receive(*this);
  }

  void on_read_complete(std::error_code ec, std::size_t) override;
  void on_write_complete(std::error_code ec, std::size_t n) override;

 private:
  void finish();
  echo_shard& shard_;
  tcp_stream stream_;
  std::list<echo_session>::iterator self_;
};

class echo_shard final : public accept_handler, public timer_handler {
 public:
  echo_shard(proactor& p, int listen_fd) : proactor_(p), acceptor_(p, listen_fd), backoff_(p) {}

  void start() { acceptor_.async_accept_multishot(*this); }
  void stop() {
    acceptor_.close();
    backoff_.cancel();
    sessions_.clear();
  }

  void on_accept_complete(std::error_code ec, tcp_stream peer, bool more) override {
    if (ec) {
      if (ec == std::errc::operation_canceled) return;
      if (ec != std::errc::too_many_files_open && ec != std::errc::too_many_files_open_in_system) {
        std::fprintf(stderr, "overlap echo: accept: %s\n", ec.message().c_str());
      }
      backoff_.async_wait(accept_backoff, *this);
      return;
    }
    sessions_.emplace_front(*this, std::move(peer));
    sessions_.front().start(sessions_.begin());
    if (!more) start();
  }

  void on_timer_complete(std::error_code ec) override {
    if (!ec) start();
  }

  void erase(std::list<echo_session>::iterator it) { sessions_.erase(it); }

 private:
  proactor& proactor_;
  tcp_acceptor acceptor_;
  timer backoff_;
  std::list<echo_session> sessions_;
};

void echo_session::on_read_complete(std::error_code ec, std::size_t) {
  if (ec) {
    finish();
    return;
  }
  stream_.async_write(stream_.received(), *this);
}

void echo_session::on_write_complete(std::error_code ec, std::size_t n) {
  if (ec) {
    finish();
    return;
  }
  stream_.consume(n);
  stream_.async_receive(*this);
}

void echo_session::finish() {
  shard_.erase(self_);
}

// The proactor server: one shard (proactor, listener, sessions) per thread;
// shard 0 also watches the stop signals and reports its counters.
void run_proactor_shards(const echo_config& config, const listener_set& listeners) {
  proactor_options options;
  options.busy_poll = std::chrono::microseconds(config.busy_poll_us);
  options.backend = config.backend;
  thread_group group(config.threads, options);
  group.run([&](unsigned index, proactor& p) {
    echo_shard shard(p, listeners.fds[index]);
    shard.start();
    if (index == 0) {
      // Announced once the proactor exists, so a backend that cannot be
      // set up is reported instead of a port nobody serves.
      std::printf("listening on %s\n", listeners.bound.to_string().c_str());
      std::fflush(stdout);
      if (!p.backend_fallback_reason().empty()) {
        std::fprintf(stderr, "overlap echo: io_uring is not available (%s); using epoll\n",
                     p.backend_fallback_reason().c_str());
      }
      signal_set signals(p, {SIGINT, SIGTERM});
      signals.async_wait([&](std::error_code ec, std::size_t) {
        if (!ec) group.stop_all();
      });
      p.run();
      shard.stop();
      const proactor_stats st = p.stats();
      std::fprintf(stderr,
                   "overlap echo: shard 0: %llu completions, %llu enters, %llu ENOBUFS, "
                   "%llu spill receives, %llu CQ overflows, %llu SQ full, %llu busy polls "
                   "(%llu ended asleep)\n",
                   static_cast<unsigned long long>(st.completions),
                   static_cast<unsigned long long>(st.submissions),
                   static_cast<unsigned long long>(st.enobufs),
                   static_cast<unsigned long long>(st.spill_receives),
                   static_cast<unsigned long long>(st.cq_overflows),
                   static_cast<unsigned long long>(st.sq_full),
                   static_cast<unsigned long long>(st.busy_polls),
                   static_cast<unsigned long long>(st.busy_poll_misses));
    } else {
      p.run();
      shard.stop();
    }
  });
}

}  // namespace

int run_echo_server(const echo_config& config) {
  const auto ep = endpoint::parse(config.bind, static_cast<std::uint16_t>(config.port));
  if (!ep) {
    std::fprintf(stderr, "overlap echo: invalid --bind address '%s'\n", config.bind.c_str());
    return 2;
  }
  listener_set listeners;
  try {
    // A thread per connection has one acceptor, whatever --threads says.
    const unsigned listener_count = config.model == "threads" ? 1 : config.threads;
    if (auto passed = inherited_listeners(listener_count)) {
      // Started by a systemd socket unit: its socket; --bind and --port do
      // not apply.
      listeners = std::move(*passed);
      std::fprintf(stderr, "overlap echo: using the listening socket from systemd (%s)\n",
                   listeners.bound.to_string().c_str());
    } else {
      listeners = open_listeners(*ep, listener_count, /*defer_accept_seconds=*/0);
    }
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "overlap echo: %s\n", e.what());
    return 1;
  }

  // Block the stop signals before any shard thread starts (threads inherit
  // the mask), so only shard 0's signal_set receives them.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);

  try {
    if (config.model == "proactor") {
      run_proactor_shards(config, listeners);
    } else {
      std::printf("listening on %s\n", listeners.bound.to_string().c_str());
      std::fflush(stdout);
      if (config.model == "threads") {
        run_echo_threads(listeners.fds[0]);
      } else {
        run_echo_reactor(listeners.fds);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "overlap echo: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace overlap::apps
