#include "bench_echo.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "latency_histogram.hpp"
#include "overlap/handler.hpp"
#include "overlap/proactor.hpp"
#include "overlap/tcp_stream.hpp"
#include "overlap/timer.hpp"
#include "progress_line.hpp"

namespace overlap::apps {
namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr unsigned max_in_flight_per_connection = 1024;  // open loop: scheduled, not yet echoed
constexpr unsigned max_messages_per_write = 64;
constexpr auto open_loop_tick = 1ms;
constexpr unsigned pattern_period = 256;

class bench_run;

class bench_connection final : public stream_handler {
 public:
  bench_connection(bench_run& run, proactor& p, unsigned id);
  void connect(const endpoint& ep) { stream_.async_connect(ep, *this); }
  // Schedules one message for sending at `when` (its latency is measured from then).
  bool schedule(clock_type::time_point when);
  void flush();
  void close() { stream_.close(); }
  std::uint64_t scheduled() const noexcept { return scheduled_; }

  void on_connect_complete(std::error_code ec) override;
  void on_read_complete(std::error_code ec, std::size_t n) override;
  void on_write_complete(std::error_code ec, std::size_t n) override;

 private:
  bench_run& run_;
  tcp_stream stream_;
  unsigned id_;
  std::uint64_t scheduled_ = 0;   // messages scheduled
  std::uint64_t sent_ = 0;        // messages handed to async_write
  std::uint64_t echoed_ = 0;      // messages fully echoed
  std::uint64_t recv_bytes_ = 0;  // echoed bytes so far
  bool write_in_flight_ = false;
  bool failed_ = false;
  std::vector<clock_type::time_point> stamps_;
};

class bench_run final : public timer_handler {
 public:
  bench_run(const bench_echo_config& c, proactor& p, const endpoint& ep)
      : config(c),
        proactor_(p),
        ticker_(p),
        progress_(p, c.progress && !c.json, [this](double t) { print_progress(t); }),
        endpoint_(ep) {
    const std::size_t span = std::max<std::size_t>(std::size_t{c.size} * max_messages_per_write,
                                                   p.options().recv_buffer_size);
    pattern.resize(pattern_period + span);
    for (std::size_t i = 0; i < pattern.size(); ++i)
      pattern[i] = static_cast<char>(i % pattern_period);
    for (unsigned i = 0; i < c.connections; ++i) {
      connections_.push_back(std::make_unique<bench_connection>(*this, p, i));
    }
  }

  void start() {
    for (auto& c : connections_) c->connect(endpoint_);
  }

  void on_connected() {
    if (++connected_ < connections_.size()) return;
    begin_ = clock_type::now();
    measure_from_ = begin_ + std::chrono::duration_cast<clock_type::duration>(
                                 std::chrono::duration<double>(config.warmup_s));
    end_ = measure_from_ + std::chrono::duration_cast<clock_type::duration>(
                               std::chrono::duration<double>(config.duration_s));
    if (config.rate > 0) {
      ticker_.async_wait(0ns, *this);
    } else {
      for (auto& c : connections_) {
        c->schedule(begin_);
        c->flush();
      }
      ticker_.async_wait(end_ - begin_, *this);
    }
    progress_.start();
  }

  // A message's echo is complete.
  void on_echo(clock_type::time_point stamp, clock_type::time_point now) {
    if (stamp < measure_from_ || now > end_) return;
    ++messages;
    latency.record(static_cast<std::uint64_t>((now - stamp).count()));
  }

  void on_error(const char* what, std::error_code ec) {
    ++errors;
    if (errors <= 5)
      std::fprintf(stderr, "overlap bench echo: %s: %s\n", what, ec.message().c_str());
    if (connected_ < connections_.size()) on_connected();  // a failed connect still counts
  }

  bool stopping() const noexcept { return stopping_; }

  // Open loop: schedule every message due by now; closed loop: the end.
  void on_timer_complete(std::error_code ec) override {
    if (ec) return;
    const auto now = clock_type::now();
    if (now >= end_) {
      finish();
      return;
    }
    if (config.rate <= 0) {
      ticker_.async_wait(end_ - now, *this);  // woke early: wait out the rest
      return;
    }
    const double per_connection = config.rate / static_cast<double>(connections_.size());
    const double elapsed = std::chrono::duration<double>(now - begin_).count();
    const auto due = static_cast<std::uint64_t>(elapsed * per_connection) + 1;
    for (auto& c : connections_) {
      while (c->scheduled() < due) {
        const auto when =
            begin_ + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(
                         static_cast<double>(c->scheduled()) / per_connection));
        // Sends go out on the tick: a message due within the last tick is
        // stamped now, one further behind keeps its due time (the server is
        // late and the latency shows it).
        if (!c->schedule(when >= now - 2 * open_loop_tick ? now : when)) break;
      }
      c->flush();
    }
    ticker_.async_wait(open_loop_tick, *this);
  }

  void finish() {
    stopping_ = true;
    for (auto& c : connections_) c->close();
    ticker_.cancel();
    progress_.stop();
    proactor_.stop();
  }

  void print_progress(double t) {
    const double rate = static_cast<double>(messages - last_messages_);
    last_messages_ = messages;
    std::fprintf(stderr, "  %6.1fs  %10.0f msgs/s  p99 %8.1f us  errors %llu   ", t, rate,
                 static_cast<double>(latency.quantile(0.99)) / 1e3,
                 static_cast<unsigned long long>(errors));
  }

  const progress_line& progress() const noexcept { return progress_; }

  const bench_echo_config& config;
  std::vector<char> pattern;
  latency_histogram latency;
  std::uint64_t messages = 0;
  std::uint64_t errors = 0;
  std::uint64_t dropped = 0;  // open loop: schedule refused (too many in flight)

 private:
  proactor& proactor_;
  timer ticker_;
  progress_line progress_;
  endpoint endpoint_;
  std::vector<std::unique_ptr<bench_connection>> connections_;
  std::size_t connected_ = 0;
  std::uint64_t last_messages_ = 0;
  bool stopping_ = false;
  clock_type::time_point begin_, measure_from_, end_;
};

bench_connection::bench_connection(bench_run& run, proactor& p, unsigned id)
    : run_(run),
      stream_(p),
      id_(id),
      // Closed loop has one message in flight: keep its state to a cache line.
      stamps_(run.config.rate > 0 ? max_in_flight_per_connection : 2) {}

bool bench_connection::schedule(clock_type::time_point when) {
  if (scheduled_ - echoed_ >= stamps_.size()) {
    ++run_.dropped;
    return false;
  }
  stamps_[scheduled_ % stamps_.size()] = when;
  ++scheduled_;
  return true;
}

void bench_connection::flush() {
  if (write_in_flight_ || failed_ || run_.stopping() || sent_ == scheduled_) return;
  const auto k =
      static_cast<unsigned>(std::min<std::uint64_t>(scheduled_ - sent_, max_messages_per_write));
  const std::size_t size = run_.config.size;
  const std::size_t offset = (sent_ * size + id_) % pattern_period;
  sent_ += k;
  write_in_flight_ = true;
  stream_.async_write(std::span<const char>(run_.pattern.data() + offset, k * size), *this);
}

void bench_connection::on_connect_complete(std::error_code ec) {
  if (run_.stopping()) return;
  if (ec) {
    failed_ = true;
    run_.on_error("connect", ec);
    return;
  }
  (void)stream_.set_no_delay(true);
  stream_.async_receive(*this);
  run_.on_connected();
}

void bench_connection::on_write_complete(std::error_code ec, std::size_t) {
  write_in_flight_ = false;
  if (ec) {
    if (!run_.stopping()) run_.on_error("write", ec);
    failed_ = true;
    return;
  }
  flush();
}

void bench_connection::on_read_complete(std::error_code ec, std::size_t) {
  if (run_.stopping()) return;
  if (ec) {
    run_.on_error("read", ec);
    failed_ = true;
    return;
  }
  const auto data = stream_.received();
  // Every echoed byte is checked against the pattern this connection sent.
  const std::size_t offset = (recv_bytes_ + id_) % pattern_period;
  if (std::memcmp(data.data(), run_.pattern.data() + offset, data.size()) != 0) {
    run_.on_error("verify", std::make_error_code(std::errc::illegal_byte_sequence));
    failed_ = true;
    stream_.close();
    return;
  }
  recv_bytes_ += data.size();
  stream_.consume(data.size());
  const std::size_t size = run_.config.size;
  const auto now = clock_type::now();
  const bool closed_loop = run_.config.rate <= 0;
  while (recv_bytes_ >= (echoed_ + 1) * size) {
    run_.on_echo(stamps_[echoed_ % stamps_.size()], now);
    ++echoed_;
    if (closed_loop) schedule(now);
  }
  stream_.async_receive(*this);
  flush();
}

void print_report(const bench_run& run, const bench_echo_config& c) {
  const double msgs_per_s = static_cast<double>(run.messages) / c.duration_s;
  const double mib_per_s = msgs_per_s * c.size / (1024.0 * 1024.0);
  const auto us = [&](double q) { return static_cast<double>(run.latency.quantile(q)) / 1e3; };
  if (c.json) {
    std::printf(
        "{\"connections\":%u,\"size\":%u,\"duration_s\":%.3f,\"rate\":%.1f,\"messages\":%llu,"
        "\"msgs_per_s\":%.1f,\"mib_per_s\":%.3f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
        "\"p999_us\":%.1f,\"errors\":%llu,\"dropped\":%llu}\n",
        c.connections, c.size, c.duration_s, c.rate, static_cast<unsigned long long>(run.messages),
        msgs_per_s, mib_per_s, us(0.5), us(0.99), us(0.999),
        static_cast<unsigned long long>(run.errors), static_cast<unsigned long long>(run.dropped));
    return;
  }
  run.progress().finish_line();
  std::printf("overlap bench echo: %u connections x %u B, %s, %.1f s\n", c.connections, c.size,
              c.rate > 0 ? "open loop" : "closed loop", c.duration_s);
  if (c.rate > 0) std::printf("  target     %.0f msgs/s\n", c.rate);
  std::printf("  messages   %llu (%.0f msgs/s, %.2f MiB/s each way)\n",
              static_cast<unsigned long long>(run.messages), msgs_per_s, mib_per_s);
  std::printf("  latency    p50 %.1f us   p99 %.1f us   p99.9 %.1f us\n", us(0.5), us(0.99),
              us(0.999));
  std::printf("  errors     %llu\n", static_cast<unsigned long long>(run.errors));
  if (run.dropped > 0) {
    std::printf("  dropped    %llu (server fell behind the rate)\n",
                static_cast<unsigned long long>(run.dropped));
  }
}

}  // namespace

int run_bench_echo(const bench_echo_config& config) {
  const auto ep = endpoint::parse(config.host, static_cast<std::uint16_t>(config.port));
  if (!ep) {
    std::fprintf(stderr, "overlap bench echo: invalid --host '%s' (numeric address expected)\n",
                 config.host.c_str());
    return 2;
  }
  try {
    proactor_options options;
    options.recv_buffer_count = 4096;
    options.busy_poll = std::chrono::microseconds(config.busy_poll_us);
    proactor p(options);
    bench_run run(config, p, *ep);
    run.start();
    p.run();
    // The run closed its connections; let their operations complete before
    // the buffers they send from go away with the run.
    p.restart();
    p.run();
    print_report(run, config);
    return run.errors == 0 && run.messages > 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "overlap bench echo: %s\n", e.what());
    return 1;
  }
}

}  // namespace overlap::apps
