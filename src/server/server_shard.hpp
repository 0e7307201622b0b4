// One thread's share of `overlap serve`: a proactor, a SO_REUSEPORT listener,
// the static site with its open-file cache, the Date clock, the access log and
// the connections. Shards share nothing but the stop/reopen flags.
#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <optional>

#include "access_log_writer.hpp"
#include "file_loader.hpp"
#include "http_session.hpp"
#include "overlap/handler.hpp"
#include "overlap/http/http_date.hpp"
#include "overlap/http/static_site.hpp"
#include "overlap/proactor.hpp"
#include "overlap/server/server_config.hpp"
#include "overlap/tcp_acceptor.hpp"
#include "overlap/timer.hpp"
#include "shard_report.hpp"
#include "trace_writer.hpp"

namespace overlap::server {

// Flags set by the signal-handling shard, read by every shard's housekeeping.
struct shard_signals {
  std::atomic<bool> stop{false};
  std::atomic<bool> cut{false};  // a second signal: end the grace period now
  std::atomic<unsigned> log_generation{0};
};

class server_shard final : public accept_handler, public timer_handler {
 public:
  // `index` and `started` name the shard and the time origin in the trace.
  server_shard(proactor& p, const server_config& config, int listen_fd, unsigned max_connections,
               shard_signals& signals, unsigned index = 0,
               std::chrono::steady_clock::time_point started = {});
  void start();
  // --max-connections-per-client: the count shared by every shard (null:
  // no limit). Set before start(); it must outlive the shard.
  void limit_clients(client_limits* limits) noexcept { clients_ = limits; }

  void on_accept_complete(std::error_code ec, tcp_stream peer, bool more) override;
  void on_timer_complete(std::error_code ec) override;

  // Used by sessions.
  const server_config& config() const noexcept { return config_; }
  http::connection_context context(http::access_log_sink* sink) noexcept;
  // The Date clock follows the loop's clock (proactor::now()): refreshing it
  // reads no clock, and a batch of requests shares one reading.
  void refresh_clock() noexcept;
  http_session::clock::time_point loop_now() const noexcept { return proactor_.now(); }
  access_log_writer* access_log() noexcept { return log_.get(); }
  file_loader& loader() noexcept { return loader_; }
  void erase(std::list<http_session>::iterator it);
  std::time_t now_seconds() const noexcept { return date_clock_.now_seconds(); }
  // A copy of this shard's counters (admin listener); on this shard's thread.
  shard_report report(unsigned index) const;
  // Called once when a graceful shutdown begins (the admin listener closes).
  void on_shutdown(std::function<void()> fn) { shutdown_hook_ = std::move(fn); }
  // A stop at once (a third signal, or another thread failed), called after
  // the loop has returned: aborts every connection, then runs the loop until
  // the kernel has handed back their operations, whose buffers this shard
  // owns, and the access log is written; for at most `bound`.
  void stop_now(std::chrono::milliseconds bound);

 private:
  void arm_accept();
  void sync_wall_clock() noexcept;
  void housekeeping();
  void begin_shutdown();
  void abort_sessions();  // each session closes; those with operations in flight go when they end
  void finish_if_drained();

  proactor& proactor_;
  const server_config& config_;
  shard_signals& signals_;
  tcp_acceptor acceptor_;
  timer tick_;
  timer accept_backoff_;
  http::static_site site_;
  file_loader loader_;  // declared before sessions_: they unlink from it first
  http::http_date_clock date_clock_;
  // system_clock minus steady_clock, re-read every housekeeping tick.
  std::chrono::system_clock::duration wall_offset_{};
  std::unique_ptr<access_log_writer> log_;
  std::unique_ptr<trace_writer> trace_;
  std::list<http_session> sessions_;
  std::size_t max_connections_;
  client_limits* clients_ = nullptr;  // --max-connections-per-client, or null
  shard_counters counters_;
  std::function<void()> shutdown_hook_;
  // Free connection slots below which accepting goes one connection at a time.
  static constexpr std::size_t multishot_accept_headroom = 64;

  unsigned log_generation_ = 0;
  bool accepting_ = false;
  bool backing_off_ = false;  // accept_backoff_ is running: it re-arms the accept
  bool shutting_down_ = false;
  http_session::clock::time_point shutdown_deadline_{};
  bool cutting_ = false;
  http_session::clock::time_point hard_stop_at_{};
  bool drained_ = false;  // finish_if_drained() found nothing left and stopped the loop

  struct backoff_handler final : timer_handler {
    explicit backoff_handler(server_shard& s) : shard(s) {}
    void on_timer_complete(std::error_code ec) override {
      shard.backing_off_ = false;
      if (!ec) shard.arm_accept();
    }
    server_shard& shard;
  } backoff_handler_{*this};
};

}  // namespace overlap::server
