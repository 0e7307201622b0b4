// overlap: the command-line front end (serve, echo, bench). Each subcommand
// is a thin layer over a library entry point in this directory.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "bench_echo.hpp"
#include "bench_http.hpp"
#include "echo_server.hpp"
#include "overlap/http/added_fields.hpp"
#include "overlap/http/field_value.hpp"
#include "overlap/http/target.hpp"
#include "overlap/server/server_config.hpp"

namespace {

// The bundled demo site: next to the binary's source tree when run from a
// build directory, or installed beside it.
std::string default_docroot() {
#ifdef OVERLAP_DEFAULT_DOCROOT
  return OVERLAP_DEFAULT_DOCROOT;
#else
  return "www";
#endif
}

// Longest --cache-control value: a field, not a second header block.
constexpr std::size_t max_cache_control_bytes = 1024;

unsigned default_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

// "1.5" (seconds) -> milliseconds, as CLI11 option transform.
std::chrono::milliseconds seconds_to_ms(double s) {
  return std::chrono::milliseconds(static_cast<long long>(s * 1000.0));
}

// CLI11 check of --fallback and --not-found-page: a normalised path of a
// file below DIR ("" when it is one).
std::string path_below_docroot(const std::string& v) {
  std::string normal;
  const bool ok =
      v.size() > 1 && v.front() == '/' && v.back() != '/' &&
      overlap::http::normalize_path(v, true, normal) == overlap::http::path_outcome::ok &&
      normal == v;
  return ok ? std::string() : "must be a file's path below DIR, such as /index.html";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"overlap: a Proactor-pattern framework on io_uring, its web server and tools"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "overlap 0.1.0");

  const char* backend_help =
      "io_uring or epoll (default: $OVERLAP_BACKEND, else io_uring where the kernel allows it)";
  overlap::apps::echo_config echo;
  auto* echo_cmd = app.add_subcommand("echo", "TCP echo server, one proactor per thread");
  echo_cmd
      ->add_option("--bind", echo.bind,
                   "Address to listen on: IPv4, IPv6, or unix:PATH / unix:@NAME (a Unix-domain "
                   "socket; --port unused)")
      ->capture_default_str();
  echo_cmd->add_option("--port", echo.port, "Port (0 = any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  echo_cmd->add_option("--threads", echo.threads, "Proactor threads (SO_REUSEPORT listeners)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  echo_cmd
      ->add_option("--busy-poll", echo.busy_poll_us,
                   "Longest adaptive spin before sleeping, in microseconds (0 = never spin)")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  echo_cmd->add_option("--backend", echo.backend, backend_help)
      ->check(CLI::IsMember({"io_uring", "epoll"}));
  echo_cmd
      ->add_option("--model", echo.model,
                   "Concurrency model: proactor, or for comparison reactor (epoll loop per "
                   "thread) or threads (a thread per connection, blocking I/O)")
      ->check(CLI::IsMember({"proactor", "reactor", "threads"}))
      ->capture_default_str();

  overlap::server::server_config serve;
  serve.docroot = default_docroot();
  serve.threads = default_threads();
  double header_timeout_s = 10, keepalive_timeout_s = 60, send_timeout_s = 60, grace_s = 10,
         linger_s = 2;
  std::string index_names = "index.html";
  auto* serve_cmd = app.add_subcommand("serve", "HTTP/1.1 static-file server");
  serve_cmd->add_option("DIR", serve.docroot, "Directory to serve (default: the bundled demo site)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--bind", serve.bind,
                   "Address to listen on: IPv4, IPv6, or unix:PATH / unix:@NAME (a Unix-domain "
                   "socket, e.g. behind a reverse proxy; --port unused)")
      ->capture_default_str();
  serve_cmd->add_option("--port", serve.port, "Port (0 = any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  serve_cmd->add_option("--threads", serve.threads, "Proactor threads (default: cores)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  auto* access_log_opt =
      serve_cmd->add_option("--access-log", serve.access_log, "Access log: FILE, - (stdout) or off")
          ->capture_default_str();
  std::string log_format = "combined";
  auto* log_format_opt =
      serve_cmd
          ->add_option("--access-log-format", log_format,
                       "combined (the Combined Log Format) or json (one object per line, with "
                       "the response's duration in microseconds)")
          ->check(CLI::IsMember({"combined", "json"}))
          ->capture_default_str();
  serve_cmd->add_option("--index", index_names, "Index file names, comma-separated")
      ->capture_default_str();
  auto* max_connections_opt =
      serve_cmd
          ->add_option("--max-connections", serve.max_connections,
                       "Connections across all threads; accepting pauses beyond (default: "
                       "lowered to what RLIMIT_NOFILE allows)")
          ->check(CLI::Range(1u, 10000000u))
          ->capture_default_str();
  serve_cmd
      ->add_option("--max-connections-per-client", serve.max_connections_per_client,
                   "Connections one client (an IPv4 address, an IPv6 /64) may hold open; more "
                   "are closed at once (0 = no limit)")
      ->check(CLI::Range(0u, 10000000u))
      ->capture_default_str();
  serve_cmd->add_option("--header-timeout", header_timeout_s, "Seconds to receive a request head")
      ->check(CLI::Range(0.001, 86400.0))
      ->capture_default_str();
  serve_cmd
      ->add_option("--keepalive-timeout", keepalive_timeout_s,
                   "Seconds an idle keep-alive connection is kept")
      ->check(CLI::Range(0.001, 86400.0))
      ->capture_default_str();
  serve_cmd->add_option("--send-timeout", send_timeout_s, "Seconds a send may make no progress")
      ->check(CLI::Range(0.001, 86400.0))
      ->capture_default_str();
  serve_cmd
      ->add_option("--shutdown-grace", grace_s,
                   "Seconds in-flight responses get after SIGTERM/SIGINT")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  serve_cmd
      ->add_option("--linger-timeout", linger_s,
                   "Seconds a connection closed with input still unread keeps reading (and "
                   "dropping) it, so the client gets the response rather than a reset (0 = close "
                   "at once)")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-header-bytes", serve.http.limits.max_header_bytes,
                   "Largest request head (431 beyond)")
      ->check(CLI::Range(std::size_t{256}, std::size_t{1} << 20))
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-body-discard-bytes", serve.http.limits.max_body_discard_bytes,
                   "Largest body of a GET or HEAD that is read and dropped to keep the "
                   "connection (413 and close beyond)")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 30))
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-target-bytes", serve.http.limits.max_target_bytes,
                   "Longest request target (414 beyond)")
      ->check(CLI::Range(std::size_t{16}, std::size_t{1} << 20))
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-pipelined", serve.http.max_pipelined_responses,
                   "Responses queued per connection before reading pauses")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1024}))
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-requests-per-connection", serve.http.max_requests_per_connection,
                   "Requests one connection may make; the last response closes it (0 = no "
                   "limit)")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1'000'000'000}))
      ->capture_default_str();
  serve_cmd
      ->add_option("--small-file-bytes", serve.http.site.small_file_bytes,
                   "Files up to this size are cached in memory")
      ->check(CLI::Range(std::size_t{0}, std::size_t{64} << 20))
      ->capture_default_str();
  serve_cmd
      ->add_option("--open-file-cache", serve.http.site.open_file_cache_entries,
                   "Open-file cache entries per thread")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
      ->capture_default_str();
  serve_cmd
      ->add_option("--mime-types", serve.http.site.mime_types_path,
                   "mime.types file (empty: built-in table)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--cache-control", serve.http.site.cache_control,
                   "Cache-Control value sent with every file (200, 206, 304), e.g. "
                   "'public, max-age=3600' (default: none)")
      ->check(
          [](const std::string& v) {
            return overlap::http::is_field_value(v) && v.size() <= max_cache_control_bytes
                       ? std::string()
                       : "must be a header field value: printable, at most 1024 bytes, no "
                         "line breaks, no leading or trailing space";
          },
          "FIELD_VALUE");
  unsigned serve_busy_poll_us = static_cast<unsigned>(serve.busy_poll_us.count());
  serve_cmd
      ->add_option("--busy-poll", serve_busy_poll_us,
                   "Longest adaptive spin before sleeping, in microseconds (0 = never spin)")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  auto* recv_buffers_opt =
      serve_cmd
          ->add_option("--recv-buffers", serve.recv_buffers,
                       "Receive buffers per thread, shared by its connections (a power of two)")
          ->check(CLI::Range(1u, overlap::server::max_recv_buffers))
          ->check(
              [](const std::string& v) {
                const unsigned long n = std::strtoul(v.c_str(), nullptr, 10);
                return (n & (n - 1)) == 0 ? std::string() : "must be a power of two";
              },
              "POWER_OF_TWO")
          ->capture_default_str();
  auto* recv_buffer_bytes_opt =
      serve_cmd
          ->add_option("--recv-buffer-bytes", serve.recv_buffer_bytes, "Bytes per receive buffer")
          ->check(CLI::Range(256u, 1u << 20))
          ->capture_default_str();
  serve_cmd->add_option("--backend", serve.backend, backend_help)
      ->check(CLI::IsMember({"io_uring", "epoll"}));
  std::string model = "proactor";
  serve_cmd
      ->add_option("--model", model,
                   "Concurrency model: proactor, or for comparison reactor (epoll loop per "
                   "thread) or threads (a thread per connection, blocking I/O)")
      ->check(CLI::IsMember({"proactor", "reactor", "threads"}))
      ->capture_default_str();
  bool no_defer_accept = false;
  serve_cmd->add_flag("--no-defer-accept", no_defer_accept,
                      "Accept each connection at once, not when its first bytes arrive");
  serve_cmd->add_flag("--autoindex", serve.http.site.autoindex,
                      "List directories without an index");
  serve_cmd
      ->add_option("--autoindex-max-entries", serve.http.site.autoindex_max_entries,
                   "Most entries one directory listing shows (read on the event loop)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}))
      ->capture_default_str();
  serve_cmd->add_flag("--dotfiles", serve.http.site.serve_dotfiles,
                      "Serve names starting with '.'");
  serve_cmd
      ->add_option("--fallback", serve.http.site.fallback,
                   "File served with 200 for requests of files that do not exist, e.g. "
                   "/index.html for a single-page application (default: 404)")
      ->check(path_below_docroot, "PATH");
  serve_cmd
      ->add_option("--not-found-page", serve.http.site.not_found_page,
                   "File whose content goes with every 404, e.g. /404.html (default: a "
                   "built-in page; also while the file is missing)")
      ->check(path_below_docroot, "PATH");
  std::vector<std::string> added_fields;
  serve_cmd
      ->add_option("--header", added_fields,
                   "Header field added to every response, as 'Name: value' (repeatable), e.g. "
                   "'X-Content-Type-Options: nosniff'; not for fields the server sets itself")
      ->allow_extra_args(false);
  serve_cmd->add_flag("--precompressed", serve.http.site.precompressed,
                      "Serve FILE.br, FILE.zst or FILE.gz, where it exists, for FILE to clients "
                      "that accept that coding (every file response gets Vary: Accept-Encoding)");
  auto* admin_port_opt =
      serve_cmd
          ->add_option("--admin-port", serve.admin_port,
                       "Admin listener port (/metrics, /operations, status page; 0 = any free "
                       "port; default: off). Also tracks every operation's latency")
          ->check(CLI::Range(0, 65535));
  serve_cmd->add_option("--admin-bind", serve.admin_bind, "Address of the admin listener")
      ->capture_default_str();
  auto* trace_opt = serve_cmd->add_option(
      "--trace", serve.trace_path,
      "Write every operation's initiation and completion to FILE as Chrome trace events "
      "(open in Perfetto); for debugging, it costs time per operation");
  serve_cmd->add_option(
      "--user", serve.run_as,
      "Started as root: switch to this account (NAME or NAME:GROUP, names or numbers) once "
      "the listeners are bound; DIR and the access log are opened as it");

  auto* bench_cmd = app.add_subcommand("bench", "Load generators");
  bench_cmd->require_subcommand(1);
  overlap::apps::bench_echo_config bench;
  auto* bench_echo_cmd = bench_cmd->add_subcommand("echo", "Ping-pong load on an echo server");
  bench_echo_cmd
      ->add_option("--host", bench.host, "Server address (numeric, or unix:PATH / unix:@NAME)")
      ->capture_default_str();
  bench_echo_cmd->add_option("--port", bench.port, "Server port")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  bench_echo_cmd->add_option("--connections,-c", bench.connections, "Concurrent connections")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  bench_echo_cmd->add_option("--size,-s", bench.size, "Message size in bytes")
      ->check(CLI::Range(1, 16 * 1024 * 1024))
      ->capture_default_str();
  bench_echo_cmd->add_option("--duration,-d", bench.duration_s, "Measured seconds")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  bench_echo_cmd->add_option("--warmup", bench.warmup_s, "Seconds of load before measuring")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  bench_echo_cmd->add_option("--rate", bench.rate, "Open loop: total messages/s (0 = closed loop)")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  bench_echo_cmd
      ->add_option("--busy-poll", bench.busy_poll_us,
                   "Longest adaptive spin before the generator sleeps, in microseconds (0 = "
                   "never spin)")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  bench_echo_cmd->add_flag("--json", bench.json, "Print one JSON line instead of a report");
  bench_echo_cmd->add_flag("!--no-progress", bench.progress, "No live progress line");

  overlap::apps::bench_http_config bench_http;
  auto* bench_http_cmd = bench_cmd->add_subcommand(
      "http", "Closed-loop GET load on an HTTP server (one request in flight per connection)");
  bench_http_cmd
      ->add_option("--host", bench_http.host, "Server address (numeric, or unix:PATH / unix:@NAME)")
      ->capture_default_str();
  bench_http_cmd->add_option("--port", bench_http.port, "Server port")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  bench_http_cmd->add_option("--path", bench_http.path, "Request target")->capture_default_str();
  bench_http_cmd->add_option("--connections,-c", bench_http.connections, "Concurrent connections")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  bench_http_cmd->add_option("--duration,-d", bench_http.duration_s, "Measured seconds")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  bench_http_cmd->add_option("--warmup", bench_http.warmup_s, "Seconds of load before measuring")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  bench_http_cmd->add_flag("--close", bench_http.close,
                           "Send Connection: close: a new connection per request");
  bench_http_cmd->add_flag("--json", bench_http.json, "Print one JSON line instead of a report");
  bench_http_cmd->add_flag("!--no-progress", bench_http.progress, "No live progress line");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version print and succeed. A refused command line exits 2,
    // the usual status of a usage error and the one a refused setting
    // (--header, the docroot) gets, rather than CLI11's own codes (105 …).
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (*serve_cmd) {
    serve.header_timeout_ms = seconds_to_ms(header_timeout_s);
    serve.keepalive_timeout_ms = seconds_to_ms(keepalive_timeout_s);
    serve.send_timeout_ms = seconds_to_ms(send_timeout_s);
    serve.shutdown_grace_ms = seconds_to_ms(grace_s);
    serve.linger_ms = seconds_to_ms(linger_s);
    serve.defer_accept = !no_defer_accept;
    serve.max_connections_set = max_connections_opt->count() > 0;
    serve.busy_poll_us = std::chrono::microseconds(serve_busy_poll_us);
    serve.http.site.index_names.clear();
    for (const auto& name : CLI::detail::split(index_names, ',')) {
      if (name.empty() || name.find('/') != std::string::npos) {
        std::fprintf(stderr, "overlap serve: invalid --index name '%s'\n", name.c_str());
        return 2;
      }
      serve.http.site.index_names.push_back(name);
    }
    for (const auto& line : added_fields) {
      const std::string why = overlap::http::add_response_field(serve.http.added_fields, line);
      if (!why.empty()) {
        std::fprintf(stderr, "overlap serve: --header '%s': %s\n", line.c_str(), why.c_str());
        return 2;
      }
    }
    if (log_format == "json") serve.log_format = overlap::server::access_log_format::json;
    if (serve.access_log.empty()) {
      std::fprintf(stderr, "overlap serve: --access-log needs FILE, - or off\n");
      return 2;
    }
    if (model != "proactor") {
      using overlap::server::concurrency_model;
      serve.model = model == "reactor" ? concurrency_model::reactor : concurrency_model::threads;
      if ((access_log_opt->count() > 0 && serve.access_log != "off") ||
          log_format_opt->count() > 0) {
        std::fprintf(stderr,
                     "overlap serve: --model %s writes no access log; use --access-log off "
                     "(and no --access-log-format)\n",
                     model.c_str());
        return 2;
      }
      serve.access_log = "off";
      if (admin_port_opt->count() > 0 || trace_opt->count() > 0) {
        std::fprintf(stderr,
                     "overlap serve: --admin-port and --trace apply to --model proactor only\n");
        return 2;
      }
      if (!serve.backend.empty()) {
        std::fprintf(stderr, "overlap serve: --backend applies to --model proactor only\n");
        return 2;
      }
      if (serve.max_connections_per_client > 0) {
        std::fprintf(stderr,
                     "overlap serve: --max-connections-per-client applies to --model proactor "
                     "only\n");
        return 2;
      }
      if (recv_buffers_opt->count() > 0 || recv_buffer_bytes_opt->count() > 0) {
        std::fprintf(stderr,
                     "overlap serve: --recv-buffers and --recv-buffer-bytes apply to --model "
                     "proactor only\n");
        return 2;
      }
    }
    return overlap::server::run_server(serve);
  }
  if (*echo_cmd) {
    if (echo.model != "proactor" && !echo.backend.empty()) {
      std::fprintf(stderr, "overlap echo: --backend applies to --model proactor only\n");
      return 2;
    }
    return overlap::apps::run_echo_server(echo);
  }
  if (*bench_echo_cmd) return overlap::apps::run_bench_echo(bench);
  if (*bench_http_cmd) return overlap::apps::run_bench_http(bench_http);
  return 2;
}
