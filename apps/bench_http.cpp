#include "bench_http.hpp"

#include <llhttp.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "latency_histogram.hpp"
#include "overlap/error.hpp"
#include "overlap/handler.hpp"
#include "overlap/proactor.hpp"
#include "overlap/tcp_stream.hpp"
#include "overlap/timer.hpp"
#include "progress_line.hpp"

namespace overlap::apps {
namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Errors printed in full; the rest are only counted.
constexpr std::uint64_t errors_printed = 5;

class http_run;

// One client connection: connect, then GET after GET, each sent when the
// previous response is complete. A connection the server ends (Connection:
// close, or --close) is replaced by a new one.
class http_connection final : public stream_handler {
 public:
  http_connection(http_run& run, proactor& p);
  void connect();
  void close() { stream_.close(); }

  void on_connect_complete(std::error_code ec) override;
  void on_read_complete(std::error_code ec, std::size_t n) override;
  void on_write_complete(std::error_code ec, std::size_t n) override;

 private:
  static int on_body(llhttp_t* parser, const char* at, std::size_t length);
  static int on_message_complete(llhttp_t* parser);
  void send_request();
  // After a completion: true if it needs no handling (the run is over or this
  // connection failed), or was the last operation of a connection being
  // replaced, which replace() then reconnects.
  bool settled();
  // The connection ended after its last response: start a new one once no
  // operation of the old one is still to complete.
  void replace();
  void fail(const char* what, std::error_code ec);

  http_run& run_;
  proactor& proactor_;
  tcp_stream stream_;
  llhttp_t parser_{};
  clock_type::time_point sent_at_{};
  bool reading_ = false;
  bool writing_ = false;
  bool awaiting_response_ = false;
  bool replacing_ = false;
  bool failed_ = false;
};

class http_run final : public timer_handler {
 public:
  http_run(const bench_http_config& c, proactor& p, const endpoint& ep)
      : config(c),
        proactor_(p),
        end_timer_(p),
        progress_(p, c.progress && !c.json, [this](double t) { print_progress(t); }),
        endpoint_(ep) {
    // An IPv6 literal goes in brackets in Host (RFC 9110 §7.2, RFC 3986 §3.2.2).
    const std::string host = ep.family() == AF_INET6 ? "[" + c.host + "]" : c.host;
    request = "GET " + c.path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(c.port) +
              "\r\n" + (c.close ? "Connection: close\r\n" : "") + "\r\n";
    llhttp_settings_init(&settings);
    for (unsigned i = 0; i < c.connections; ++i) {
      connections_.push_back(std::make_unique<http_connection>(*this, p));
    }
  }

  void start() {
    begin_ = clock_type::now();
    measure_from_ = begin_ + std::chrono::duration_cast<clock_type::duration>(
                                 std::chrono::duration<double>(config.warmup_s));
    end_ = measure_from_ + std::chrono::duration_cast<clock_type::duration>(
                               std::chrono::duration<double>(config.duration_s));
    for (auto& c : connections_) c->connect();
    end_timer_.async_wait(end_ - begin_, *this);
    progress_.start();
  }

  void on_response(unsigned status, clock_type::time_point sent, clock_type::time_point now) {
    if (sent < measure_from_ || now > end_) return;
    ++responses;
    if (status < 200 || status > 299) ++non_2xx;
    latency.record(static_cast<std::uint64_t>((now - sent).count()));
  }

  // Body bytes count as they arrive, as wrk counts what it reads: with large
  // files and many connections a run may complete few responses or none.
  void on_body_bytes(std::size_t n) {
    const auto now = clock_type::now();
    if (now >= measure_from_ && now <= end_) bytes += n;
  }

  void on_connection() {
    if (clock_type::now() >= measure_from_) ++connects;
  }

  void on_error(const char* what, std::error_code ec) {
    if (++errors <= errors_printed) {
      std::fprintf(stderr, "overlap bench http: %s: %s\n", what, ec.message().c_str());
    }
  }

  bool stopping() const noexcept { return stopping_; }
  const endpoint& target() const noexcept { return endpoint_; }

  // A connection gave up after an error; when none is left, so does the run.
  void on_connection_lost() {
    if (++lost_ == connections_.size() && !stopping_) finish();
  }

  void on_timer_complete(std::error_code ec) override {
    if (ec) return;
    const auto now = clock_type::now();
    if (now < end_) {
      end_timer_.async_wait(end_ - now, *this);  // woke early: wait out the rest
      return;
    }
    finish();
  }

  void finish() {
    stopping_ = true;
    end_timer_.cancel();
    for (auto& c : connections_) c->close();
    progress_.stop();
    proactor_.stop();
  }

  void print_progress(double t) {
    const double rate = static_cast<double>(responses - last_responses_);
    last_responses_ = responses;
    std::fprintf(stderr, "  %6.1fs  %10.0f req/s  p99 %8.1f us  errors %llu   ", t, rate,
                 static_cast<double>(latency.quantile(0.99)) / 1e3,
                 static_cast<unsigned long long>(errors));
  }

  const progress_line& progress() const noexcept { return progress_; }

  const bench_http_config& config;
  std::string request;
  llhttp_settings_t settings{};
  latency_histogram latency;
  std::uint64_t responses = 0;
  std::uint64_t non_2xx = 0;
  std::uint64_t bytes = 0;     // response bodies received while measuring
  std::uint64_t connects = 0;  // connections made while measuring
  std::uint64_t errors = 0;

 private:
  proactor& proactor_;
  timer end_timer_;
  progress_line progress_;
  endpoint endpoint_;
  std::vector<std::unique_ptr<http_connection>> connections_;
  std::uint64_t last_responses_ = 0;
  std::size_t lost_ = 0;
  bool stopping_ = false;
  clock_type::time_point begin_, measure_from_, end_;
};

http_connection::http_connection(http_run& run, proactor& p) : run_(run), proactor_(p), stream_(p) {
  run_.settings.on_body = &http_connection::on_body;
  run_.settings.on_message_complete = &http_connection::on_message_complete;
}

void http_connection::connect() {
  stream_ = tcp_stream(proactor_);
  llhttp_init(&parser_, HTTP_RESPONSE, &run_.settings);
  parser_.data = this;
  replacing_ = false;
  writing_ = true;  // the connect reports through on_connect_complete
  stream_.async_connect(run_.target(), *this);
}

void http_connection::on_connect_complete(std::error_code ec) {
  writing_ = false;
  if (run_.stopping()) return;
  if (ec) {
    fail("connect", ec);
    return;
  }
  run_.on_connection();
  (void)stream_.set_no_delay(true);
  reading_ = true;
  stream_.async_receive(*this);
  send_request();
}

void http_connection::send_request() {
  sent_at_ = clock_type::now();
  awaiting_response_ = true;
  writing_ = true;
  stream_.async_write(std::span<const char>(run_.request), *this);
}

bool http_connection::settled() {
  if (run_.stopping() || failed_) return true;
  if (!replacing_) return false;
  replace();
  return true;
}

void http_connection::on_write_complete(std::error_code ec, std::size_t) {
  writing_ = false;
  if (settled()) return;
  if (ec) fail("write", ec);
}

int http_connection::on_body(llhttp_t* parser, const char*, std::size_t length) {
  static_cast<http_connection*>(parser->data)->run_.on_body_bytes(length);
  return HPE_OK;
}

int http_connection::on_message_complete(llhttp_t* parser) {
  auto& self = *static_cast<http_connection*>(parser->data);
  self.awaiting_response_ = false;
  self.run_.on_response(parser->status_code, self.sent_at_, clock_type::now());
  // One request is in flight: stop here so that the caller sends the next.
  return HPE_PAUSED;
}

void http_connection::on_read_complete(std::error_code ec, std::size_t) {
  reading_ = false;
  if (settled()) return;
  if (ec == errc::eof) {
    if (awaiting_response_) {
      fail("read", std::make_error_code(std::errc::connection_aborted));  // closed mid-response
      return;
    }
    replace();
    return;
  }
  if (ec) {
    fail("read", ec);
    return;
  }
  const auto data = stream_.received();
  const llhttp_errno_t err = llhttp_execute(&parser_, data.data(), data.size());
  stream_.consume(data.size());
  if (err == HPE_PAUSED) {
    // A response is complete. Anything after it would be an answer to a
    // request never sent.
    if (llhttp_get_error_pos(&parser_) != data.data() + data.size()) {
      fail("response", std::make_error_code(std::errc::protocol_error));
      return;
    }
    llhttp_resume(&parser_);
    if (run_.config.close || llhttp_should_keep_alive(&parser_) == 0) {
      replace();
      return;
    }
    send_request();
  } else if (err != HPE_OK) {
    fail("response", std::make_error_code(std::errc::protocol_error));
    return;
  }
  reading_ = true;
  stream_.async_receive(*this);
}

void http_connection::replace() {
  replacing_ = true;
  stream_.close();  // in-flight operations complete with operation_aborted
  if (!reading_ && !writing_) connect();
}

void http_connection::fail(const char* what, std::error_code ec) {
  failed_ = true;
  run_.on_error(what, ec);
  stream_.close();
  run_.on_connection_lost();
}

// The request target as a JSON string's contents (it has no control characters).
std::string json_escaped(const std::string& s) {
  std::string out;
  for (const char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out;
}

void print_report(const http_run& run, const bench_http_config& c) {
  const double rps = static_cast<double>(run.responses) / c.duration_s;
  const double mib_per_s = static_cast<double>(run.bytes) / c.duration_s / (1024.0 * 1024.0);
  const auto us = [&](double q) { return static_cast<double>(run.latency.quantile(q)) / 1e3; };
  if (c.json) {
    std::printf(
        "{\"connections\":%u,\"path\":\"%s\",\"close\":%s,\"duration_s\":%.3f,"
        "\"responses\":%llu,\"requests_per_s\":%.1f,\"body_bytes\":%llu,"
        "\"body_mib_per_s\":%.3f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,"
        "\"non_2xx\":%llu,\"connects\":%llu,\"errors\":%llu}\n",
        c.connections, json_escaped(c.path).c_str(), c.close ? "true" : "false", c.duration_s,
        static_cast<unsigned long long>(run.responses), rps,
        static_cast<unsigned long long>(run.bytes), mib_per_s, us(0.5), us(0.99), us(0.999),
        static_cast<unsigned long long>(run.non_2xx), static_cast<unsigned long long>(run.connects),
        static_cast<unsigned long long>(run.errors));
    return;
  }
  run.progress().finish_line();
  std::printf("overlap bench http: %u connections, GET %s%s, %.1f s\n", c.connections,
              c.path.c_str(), c.close ? " (Connection: close)" : "", c.duration_s);
  std::printf("  responses  %llu (%.0f req/s, %.2f MiB/s of bodies)\n",
              static_cast<unsigned long long>(run.responses), rps, mib_per_s);
  std::printf("  latency    p50 %.1f us   p99 %.1f us   p99.9 %.1f us\n", us(0.5), us(0.99),
              us(0.999));
  std::printf("  non-2xx    %llu\n", static_cast<unsigned long long>(run.non_2xx));
  std::printf("  connects   %llu\n", static_cast<unsigned long long>(run.connects));
  std::printf("  errors     %llu\n", static_cast<unsigned long long>(run.errors));
}

}  // namespace

int run_bench_http(const bench_http_config& config) {
  const auto ep = endpoint::parse(config.host, static_cast<std::uint16_t>(config.port));
  if (!ep) {
    std::fprintf(stderr, "overlap bench http: invalid --host '%s' (numeric address expected)\n",
                 config.host.c_str());
    return 2;
  }
  const bool control = std::any_of(config.path.begin(), config.path.end(), [](char ch) {
    return static_cast<unsigned char>(ch) <= ' ' || ch == '\x7f';
  });
  if (config.path.empty() || control) {
    std::fprintf(stderr, "overlap bench http: invalid --path '%s'\n", config.path.c_str());
    return 2;
  }
  try {
    proactor_options options;
    options.recv_buffer_count = 1024;
    options.recv_buffer_size = 16 * 1024;
    proactor p(options);
    http_run run(config, p, *ep);
    run.start();
    p.run();
    // The run closed its connections; let their operations complete before
    // the buffers they send from go away with the run.
    p.restart();
    p.run();
    print_report(run, config);
    // A run of large files may complete no response; one that received
    // nothing at all measured nothing.
    const bool ok = run.errors == 0 && run.non_2xx == 0 && (run.responses > 0 || run.bytes > 0);
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "overlap bench http: %s\n", e.what());
    return 1;
  }
}

}  // namespace overlap::apps
