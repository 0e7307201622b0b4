#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <system_error>

#include "admin_server.hpp"
#include "client_limits.hpp"
#include "fd_budget.hpp"
#include "listeners.hpp"
#include "model_servers.hpp"
#include "overlap/server/server_config.hpp"
#include "overlap/signal_set.hpp"
#include "privileges.hpp"
#include "server_shard.hpp"
#include "shard_directory.hpp"
#include "thread_group.hpp"
#include "trace_writer.hpp"

namespace overlap::server {
namespace {

// Turns signals into shard flags: TERM/INT start a graceful shutdown, a
// second one cuts the responses still in flight (each shard stops once the
// kernel has let go of their buffers), a third stops at once; HUP asks every
// shard to reopen its access log.
class signal_watch final {
 public:
  signal_watch(proactor& p, shard_signals& flags, thread_group& group)
      : signals_(p, {SIGINT, SIGTERM, SIGHUP}), flags_(flags), group_(group) {
    arm();
  }

 private:
  void arm() {
    signals_.async_wait([this](std::error_code ec, std::size_t signo) {
      if (ec) return;
      if (signo == SIGHUP) {
        flags_.log_generation.fetch_add(1, std::memory_order_release);
      } else if (flags_.stop.exchange(true, std::memory_order_acq_rel)) {
        if (flags_.cut.exchange(true, std::memory_order_acq_rel)) {
          std::fprintf(stderr, "overlap serve: third signal, stopping at once\n");
          group_.stop_all();
          return;
        }
        std::fprintf(stderr, "overlap serve: second signal, cutting in-flight responses\n");
      } else {
        std::fprintf(stderr, "overlap serve: shutting down (finishing in-flight responses)\n");
      }
      arm();
    });
  }

  signal_set signals_;
  shard_signals& flags_;
  thread_group& group_;
};

// Raises RLIMIT_NOFILE as far as needed and allowed, and returns how many
// connections to accept (see fd_budget.hpp), saying so when it is fewer than
// configured or when an explicit --max-connections will not fit.
unsigned plan_descriptors(const server_config& config) {
  rlimit now{};
  if (::getrlimit(RLIMIT_NOFILE, &now) != 0) return config.max_connections;
  const rlim_t hard = now.rlim_max;  // for the message: the plan may have to ignore it
  const std::size_t cache = config.http.site.open_file_cache_entries;
  fd_budget b = plan_fd_budget(now, config.max_connections, config.threads, cache,
                               config.max_connections_set);
  if (b.soft_limit > now.rlim_cur) {
    rlimit raised = now;
    raised.rlim_cur = static_cast<rlim_t>(b.soft_limit);
    if (::setrlimit(RLIMIT_NOFILE, &raised) != 0) {
      now.rlim_max = now.rlim_cur;  // cannot raise: plan with what there is
      b = plan_fd_budget(now, config.max_connections, config.threads, cache,
                         config.max_connections_set);
    }
  }
  if (b.limited && config.max_connections_set) {
    std::fprintf(stderr,
                 "overlap serve: warning: --max-connections %u does not fit in RLIMIT_NOFILE "
                 "%llu with %llu descriptors kept for open files and the server; when "
                 "descriptors run out, accepting pauses\n",
                 config.max_connections, static_cast<unsigned long long>(b.soft_limit),
                 static_cast<unsigned long long>(b.reserve));
  } else if (b.limited) {
    std::fprintf(stderr,
                 "overlap serve: RLIMIT_NOFILE %llu (hard limit %llu) leaves room for %u "
                 "connections, not %u: raise the limit (ulimit -n) or set --max-connections\n",
                 static_cast<unsigned long long>(b.soft_limit),
                 static_cast<unsigned long long>(hard), b.max_connections, config.max_connections);
  }
  return b.max_connections;
}

// Detaches a shard from the directory before its proactor goes away.
struct directory_entry {
  shard_directory& directory;
  unsigned index;
  ~directory_entry() { directory.detach(index); }
};

// The proactor server: one shard (proactor, listener, cache, sessions) per
// thread; shard 0 also watches the signals and runs the admin listener.
void run_proactor_shards(const server_config& config, const listener_set& listeners,
                         unsigned max_connections, int admin_fd, const std::string& admin_at) {
  shard_signals flags;
  proactor_options options;
  options.busy_poll = config.busy_poll_us;
  options.recv_buffer_count = config.recv_buffers;
  options.recv_buffer_size = config.recv_buffer_bytes;
  options.backend = config.backend;
  options.track_operations = admin_fd >= 0;
  thread_group group(config.threads, options);
  shard_directory directory(config.threads);
  std::optional<client_limits> clients;
  if (config.max_connections_per_client > 0) clients.emplace(config.max_connections_per_client);
  const unsigned per_shard = (max_connections + config.threads - 1) / config.threads;
  const auto started = std::chrono::steady_clock::now();
  const auto start_time =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  group.run([&](unsigned index, proactor& p) {
    server_shard shard(p, config, listeners.fds[index], per_shard, flags, index, started);
    if (clients) shard.limit_clients(&*clients);
    std::optional<admin_server> admin;
    if (index == 0 && admin_fd >= 0) {
      admin.emplace(p, admin_fd, directory,
                    admin_info{.listen = listeners.bound.to_string(),
                               .docroot = config.docroot,
                               .start_time_seconds = start_time});
      shard.on_shutdown([&admin] { admin->close(); });
    }
    directory.attach(index, p, shard);
    const directory_entry attached{directory, index};
    std::optional<signal_watch> watch;
    if (index == 0) {
      watch.emplace(p, flags, group);
      // Announced once a proactor exists, so a backend that cannot be set
      // up is reported instead of a port nobody serves.
      std::fprintf(stderr, "overlap serve: listening on %s, serving %s with %u thread%s (%s)\n",
                   listeners.bound.to_string().c_str(), config.docroot.c_str(), config.threads,
                   config.threads == 1 ? "" : "s", p.backend_name());
      if (!p.backend_fallback_reason().empty()) {
        std::fprintf(stderr, "overlap serve: io_uring is not available (%s); using epoll\n",
                     p.backend_fallback_reason().c_str());
      }
    }
    if (admin) {
      std::fprintf(stderr, "overlap serve: admin on %s (/metrics, /operations, /)\n",
                   admin_at.c_str());
      admin->start();
    }
    shard.start();
    p.run();
    if (index == 0) {
      // This shard reads the signals: it goes on doing so while the others
      // drain their connections, so that a second signal can still cut them.
      // The guard keeps each run_for waiting its period even if no operation
      // is left, rather than returning at once.
      const proactor::work_guard waiting(p);
      while (group.running() > 1 && !group.stopping()) {
        p.restart();
        p.run_for(housekeeping_period_ms);
      }
    }
    // Stopped at once: the connections still have operations in the kernel
    // on buffers the shard owns, and the access log may hold lines not yet
    // written. Neither may be dropped by just destroying the shard.
    if (group.stopping()) shard.stop_now(stop_now_bound_ms);
  });
}

}  // namespace

int run_server(const server_config& config) {
  const auto ep = endpoint::parse(config.bind, static_cast<std::uint16_t>(config.port));
  if (!ep) {
    std::fprintf(stderr, "overlap serve: invalid --bind address '%s'\n", config.bind.c_str());
    return 2;
  }
  if (const int fd = ::open(config.docroot.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC); fd < 0) {
    std::fprintf(stderr, "overlap serve: cannot serve '%s': %s\n", config.docroot.c_str(),
                 std::strerror(errno));
    return 2;
  } else {
    ::close(fd);
  }
  listener_set listeners;
  try {
    // Thread per connection: one acceptor, whatever --threads says.
    const unsigned listener_count = config.model == concurrency_model::threads ? 1 : config.threads;
    if (auto passed = inherited_listeners(listener_count)) {
      // Started by a systemd socket unit: its socket, its options; --bind
      // and --port do not apply.
      listeners = std::move(*passed);
      std::fprintf(stderr, "overlap serve: using the listening socket from systemd (%s)\n",
                   listeners.bound.to_string().c_str());
    } else {
      // The kernel holds a silent connection for about the header timeout.
      const auto defer_s =
          std::chrono::ceil<std::chrono::seconds>(config.header_timeout_ms).count();
      listeners = open_listeners(*ep, listener_count,
                                 config.defer_accept ? static_cast<int>(std::max<long long>(
                                                           1, std::min<long long>(defer_s, 3600)))
                                                     : 0);
    }
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "overlap serve: %s\n", e.what());
    return 1;
  }

  if (!config.trace_path.empty()) {
    if (const auto ec = begin_trace_file(config.trace_path)) {
      std::fprintf(stderr, "overlap serve: cannot write --trace file '%s': %s\n",
                   config.trace_path.c_str(), ec.message().c_str());
      return 2;
    }
  }

  // The admin listener: loopback by default, opened here so a port in use is
  // reported before anything is served.
  int admin_fd = -1;
  std::string admin_at;
  listener_set admin;  // kept to the end: a Unix-domain socket's file goes with it
  if (config.admin_port >= 0) {
    const auto admin_ep =
        endpoint::parse(config.admin_bind, static_cast<std::uint16_t>(config.admin_port));
    if (!admin_ep) {
      std::fprintf(stderr, "overlap serve: invalid --admin-bind address '%s'\n",
                   config.admin_bind.c_str());
      return 2;
    }
    try {
      admin = open_listeners(*admin_ep, 1, 0);
      admin_fd = admin.fds[0];
      admin_at = admin.bound.to_string();
    } catch (const std::system_error& e) {
      std::fprintf(stderr, "overlap serve: admin listener: %s\n", e.what());
      return 1;
    }
  }

  // Threads inherit the mask: only the signal_set of shard 0 sees these.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  // sendfile(2) has no MSG_NOSIGNAL: a peer that vanished must not kill us.
  ::signal(SIGPIPE, SIG_IGN);

  const unsigned max_connections = plan_descriptors(config);

  // Root is for binding: the docroot, the access log and every request are
  // handled as the --user account.
  if (!config.run_as.empty()) {
    const account_lookup who = find_account(config.run_as);
    std::string error = who.error.empty() ? drop_privileges(who.found) : who.error;
    if (error.empty() && ::access(config.docroot.c_str(), R_OK | X_OK) != 0) {
      error = "user '" + config.run_as + "' cannot read '" + config.docroot +
              "': " + std::strerror(errno);
    }
    if (!error.empty()) {
      std::fprintf(stderr, "overlap serve: %s\n", error.c_str());
      return 2;
    }
  }

  if (config.model != concurrency_model::proactor) {
    const bool threads = config.model == concurrency_model::threads;
    std::fprintf(
        stderr, "overlap serve: listening on %s, serving %s with %s (model %s)\n",
        listeners.bound.to_string().c_str(), config.docroot.c_str(),
        threads ? "a thread per connection"
                : (std::to_string(config.threads) + (config.threads == 1 ? " thread" : " threads"))
                      .c_str(),
        threads ? "threads" : "reactor");
  }

  try {
    if (config.model == concurrency_model::threads) {
      run_threaded_server(config, listeners.fds[0], max_connections);
    } else if (config.model == concurrency_model::reactor) {
      run_reactor_server(config, listeners.fds, max_connections);
    } else {
      run_proactor_shards(config, listeners, max_connections, admin_fd, admin_at);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "overlap serve: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "overlap serve: stopped\n");
  return 0;
}

}  // namespace overlap::server
