#include "server_shard.hpp"

#include <cstdio>
#include <cstring>
#include <iterator>
#include <optional>
#include <utility>

#include "site_errors.hpp"

namespace overlap::server {

server_shard::server_shard(proactor& p, const server_config& config, int listen_fd,
                           unsigned max_connections, shard_signals& signals, unsigned index,
                           std::chrono::steady_clock::time_point started)
    : proactor_(p),
      config_(config),
      signals_(signals),
      acceptor_(p, listen_fd),
      tick_(p),
      accept_backoff_(p),
      site_(config.docroot, config.http.site),
      loader_(p, site_.cache()),
      max_connections_(max_connections) {
  sync_wall_clock();
  refresh_clock();
  if (config.access_log != "off") {
    log_ = std::make_unique<access_log_writer>(p, config.access_log, config.log_format);
  }
  if (!config.trace_path.empty()) {
    trace_ = std::make_unique<trace_writer>(p, config.trace_path, index, started);
  }
  // The loop never opens or reads a file itself: misses and revalidations go
  // through the loader as io_uring operations.
  site_.cache().defer_misses(true);
  report_site_errors(site_);
}

http::connection_context server_shard::context(http::access_log_sink* sink) noexcept {
  http::connection_context c{config_.http, site_, date_clock_, sink};
  // Counted for the admin listener only: nothing to keep otherwise.
  if (config_.admin_port >= 0) c.counts = &counters_.responses;
  return c;
}

void server_shard::sync_wall_clock() noexcept {
  wall_offset_ = std::chrono::system_clock::now().time_since_epoch() -
                 std::chrono::duration_cast<std::chrono::system_clock::duration>(
                     std::chrono::steady_clock::now().time_since_epoch());
}

void server_shard::refresh_clock() noexcept {
  // The loop's clock plus the last wall-clock offset: no clock read here.
  date_clock_.update(std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          proactor_.now().time_since_epoch()) +
      wall_offset_));
}

void server_shard::start() {
  arm_accept();
  tick_.async_wait(housekeeping_period_ms, *this);
}

void server_shard::arm_accept() {
  // During a back-off (EMFILE) only the back-off timer re-arms: a session
  // closing meanwhile must not start an accept that fails and starts the
  // timer a second time while it runs.
  if (accepting_ || backing_off_ || shutting_down_ || sessions_.size() >= max_connections_) return;
  accepting_ = true;
  // A multishot accept takes every connection waiting in the backlog in one
  // go, overshooting the limit by whatever burst arrives. Near the limit,
  // accept one at a time, so clients past it wait in the backlog.
  if (max_connections_ - sessions_.size() > multishot_accept_headroom) {
    acceptor_.async_accept_multishot(*this);
  } else {
    acceptor_.async_accept(*this);
  }
}

void server_shard::on_accept_complete(std::error_code ec, tcp_stream peer, bool more) {
  if (!more) accepting_ = false;
  if (ec) {
    if (shutting_down_ || ec == std::errc::operation_canceled) return;
    // EMFILE/ENFILE (or anything else): pause, then try again; existing
    // connections are unaffected.
    ++counters_.accept_errors;
    std::fprintf(stderr, "overlap serve: accept: %s (pausing %lld ms)\n", ec.message().c_str(),
                 static_cast<long long>(accept_backoff_ms.count()));
    backing_off_ = true;
    accept_backoff_.async_wait(accept_backoff_ms, backoff_handler_);
    return;
  }
  if (sessions_.size() >= max_connections_) {
    // Taken by a multishot accept's burst past the limit, before the
    // cancellation issued at the limit took effect. Keeping it could use up
    // the descriptors the open-file cache needs (every request would then
    // fail); closing it is what the limit means.
    ++counters_.connections_over_limit;
    return;  // `peer` closes here
  }
  client_slot slot;
  std::optional<endpoint> address;
  if (clients_ != nullptr) {
    address = peer.remote_endpoint();
    // A peer whose address cannot be read is already gone: not counted, its
    // session ends at its first read.
    if (const auto key = client_key_of(*address)) {
      if (!clients_->try_add(*key)) {
        ++counters_.connections_over_client_limit;
        return;  // `peer` closes here, before a byte is read
      }
      slot = client_slot(*clients_, *key);
    }
  }
  ++counters_.connections_accepted;
  sessions_.emplace_front(*this, std::move(peer), std::move(slot), address ? &*address : nullptr);
  sessions_.front().start(sessions_.begin());
  if (sessions_.size() >= max_connections_ && accepting_) {
    acceptor_.cancel();  // at the limit: leave further clients in the backlog
  } else if (!more) {
    arm_accept();
  }
}

void server_shard::erase(std::list<http_session>::iterator it) {
  sessions_.erase(it);
  if (shutting_down_) {
    finish_if_drained();
  } else if (!accepting_) {
    arm_accept();
  }
}

void server_shard::on_timer_complete(std::error_code ec) {
  if (ec) return;
  housekeeping();
  if (!proactor_.stopped()) tick_.async_wait(housekeeping_period_ms, *this);
}

void server_shard::housekeeping() {
  sync_wall_clock();  // follows changes of the system clock within a tick
  refresh_clock();
  const auto now = loop_now();
  if (signals_.stop.load(std::memory_order_acquire) && !shutting_down_) begin_shutdown();
  if (signals_.cut.load(std::memory_order_acquire) && shutting_down_ && !cutting_) {
    // A second signal ends the grace period now: the connections are
    // aborted below, and the loop stops once the kernel has handed back
    // every operation on their buffers (it may still be copying from them),
    // or after cut_stop_bound_ms if it holds on to one.
    cutting_ = true;
    shutdown_deadline_ = now;
    hard_stop_at_ = now + cut_stop_bound_ms;
  }
  if (const unsigned g = signals_.log_generation.load(std::memory_order_acquire);
      g != log_generation_) {
    log_generation_ = g;
    if (log_) log_->request_reopen();
  }
  if (shutting_down_ && now >= shutdown_deadline_) {
    abort_sessions();
  } else {
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      auto next = std::next(it);  // the session may erase itself
      it->check_deadline(now);
      it = next;
    }
  }
  if (log_) log_->flush();
  if (trace_) trace_->flush();
  if (cutting_ && now >= hard_stop_at_) {
    proactor_.stop();
    return;
  }
  finish_if_drained();
}

shard_report server_shard::report(unsigned index) const {
  shard_report r;
  r.index = index;
  r.backend = proactor_.backend_name();
  r.open_connections = sessions_.size();
  r.counters = counters_;
  if (log_) r.counters.access_log_dropped_lines = log_->dropped_lines();
  r.stats = proactor_.stats();
  r.ops = proactor_.operation_metrics();
  r.tracking = proactor_.options().track_operations;
  r.outstanding = proactor_.outstanding_operations();
  return r;
}

void server_shard::begin_shutdown() {
  shutting_down_ = true;
  if (shutdown_hook_) std::exchange(shutdown_hook_, nullptr)();
  shutdown_deadline_ = loop_now() + config_.shutdown_grace_ms;
  acceptor_.close();
  accept_backoff_.cancel();
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    auto next = std::next(it);
    it->drain();
    it = next;
  }
  finish_if_drained();
}

void server_shard::abort_sessions() {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    auto next = std::next(it);  // the session may erase itself
    it->abort();
    it = next;
  }
}

void server_shard::stop_now(std::chrono::milliseconds bound) {
  const auto until = std::chrono::steady_clock::now() + bound;
  // Keeps each run_for below waiting out its slice when nothing else is in
  // flight (a log write still to start on the next flush), not returning at once.
  const proactor::work_guard waiting(proactor_);
  proactor_.restart();
  refresh_clock();
  if (!shutting_down_) begin_shutdown();
  shutdown_deadline_ = loop_now();  // a housekeeping tick aborts anything left, too
  abort_sessions();
  finish_if_drained();
  for (auto now = std::chrono::steady_clock::now(); !drained_ && now < until;
       now = std::chrono::steady_clock::now()) {
    proactor_.restart();
    proactor_.run_for(
        std::min<std::chrono::nanoseconds>(until - now, std::chrono::milliseconds(10)));
    finish_if_drained();
  }
}

void server_shard::finish_if_drained() {
  if (drained_ || !shutting_down_ || !sessions_.empty()) return;
  if (log_) {
    log_->flush();
    if (!log_->idle()) return;  // the next tick looks again
  }
  if (trace_) {
    trace_->stop();  // the rest of the run is not traced
    trace_->flush();
    if (!trace_->idle()) return;
    if (trace_->dropped_events() > 0) {
      std::fprintf(stderr, "overlap serve: trace: %llu events dropped (writing fell behind)\n",
                   static_cast<unsigned long long>(trace_->dropped_events()));
    }
  }
  drained_ = true;
  proactor_.stop();
}

}  // namespace overlap::server
