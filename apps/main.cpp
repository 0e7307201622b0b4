// overlap: the command-line front end (serve, echo, bench). Each subcommand
// is a thin layer over a library entry point in this directory.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "bench_echo.hpp"
#include "echo_server.hpp"

int main(int argc, char** argv) {
  CLI::App app{"overlap: a Proactor-pattern framework on io_uring, its web server and tools"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "overlap 0.1.0");

  overlap::apps::echo_config echo;
  auto* echo_cmd = app.add_subcommand("echo", "TCP echo server, one proactor per thread");
  echo_cmd->add_option("--bind", echo.bind, "Address to listen on")->capture_default_str();
  echo_cmd->add_option("--port", echo.port, "Port (0 = any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  echo_cmd->add_option("--threads", echo.threads, "Proactor threads (SO_REUSEPORT listeners)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();

  auto* bench_cmd = app.add_subcommand("bench", "Load generators");
  bench_cmd->require_subcommand(1);
  overlap::apps::bench_echo_config bench;
  auto* bench_echo_cmd = bench_cmd->add_subcommand("echo", "Ping-pong load on an echo server");
  bench_echo_cmd->add_option("--host", bench.host, "Server address")->capture_default_str();
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
  bench_echo_cmd->add_flag("--json", bench.json, "Print one JSON line instead of a report");
  bench_echo_cmd->add_flag("!--no-progress", bench.progress, "No live progress line");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (*echo_cmd) return overlap::apps::run_echo_server(echo);
  if (*bench_echo_cmd) return overlap::apps::run_bench_echo(bench);
  return 2;
}
