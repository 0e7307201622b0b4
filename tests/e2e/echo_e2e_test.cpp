// End-to-end: the real `overlap echo` and `overlap bench echo` on loopback —
// bytes come back intact over several connections and threads, with and
// without busy-polling; the load generator verifies and reports; bad flags
// and unreachable servers give an error and a non-zero exit; SIGTERM stops
// the echo server with status 0; where io_uring is blocked it runs on epoll.
#include <signal.h>

#include <string>
#include <vector>

#include "blocking_io.hpp"
#include "e2e/server_process.hpp"

namespace overlap::e2e {
namespace {

// `overlap echo --port 0 EXTRA...`, started and waited for until it prints
// the address it bound (on stdout, unlike serve).
class echo_process {
 public:
  // launcher: words run before the binary, which they must exec.
  explicit echo_process(std::vector<std::string> extra = {}, std::vector<std::string> launcher = {})
      : child_(argv(extra, launcher), (dir_ / "stdout").string()) {
    constexpr std::string_view marker = "listening on 127.0.0.1:";
    std::string text;
    const bool up = wait_until(
        [&] {
          text = read_file(dir_ / "stdout");
          const auto at = text.find(marker);
          return at != std::string::npos && text.find('\n', at) != std::string::npos;
        },
        startup_timeout);
    if (!up) {
      throw std::runtime_error("overlap echo did not report its port; stderr:\n" +
                               child_.stderr_text());
    }
    port_ = static_cast<std::uint16_t>(std::stoul(text.substr(text.find(marker) + marker.size())));
  }

  std::uint16_t port() const noexcept { return port_; }
  child_process& process() noexcept { return child_; }

 private:
  static std::vector<std::string> argv(const std::vector<std::string>& extra,
                                       std::vector<std::string> a) {
    for (const char* word : {overlap_binary, "echo", "--port", "0"}) a.emplace_back(word);
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  temp_dir dir_;  // before child_: holds its stdout
  child_process child_;
  std::uint16_t port_ = 0;
};

// Three connections, each sending messages of several sizes (up to 256 KiB,
// larger than one receive buffer) and checking every byte that comes back.
void expect_echoes_intact(std::uint16_t port) {
  std::vector<socket_fd> conns;
  for (int i = 0; i < 3; ++i) conns.push_back(connect_to(port));
  std::uint64_t seed = 1;
  for (const std::size_t size : {1u, 64u, 4096u, 70'000u, 256u * 1024u}) {
    for (auto& c : conns) {
      const std::string msg = random_bytes(size, seed++);
      ASSERT_TRUE(send_all(c.get(), msg));
      EXPECT_TRUE(same_bytes(overlap_test::read_exact_blocking(c.get(), msg.size()), msg))
          << size << " bytes";
    }
  }
}

// Where seccomp blocks io_uring (as in a container), the echo server starts
// on the epoll backend, says so, and echoes the same.
TEST(e2e_echo, falls_back_to_epoll_where_io_uring_is_blocked) {
  echo_process echo({"--threads", "2"}, {WITHOUT_IO_URING_BINARY});
  EXPECT_TRUE(echo.process().wait_for_stderr("io_uring is not available", receive_timeout))
      << echo.process().stderr_text();
  expect_echoes_intact(echo.port());
}

// Started by a systemd socket unit (sd_listen_fds(3)), the echo server takes
// descriptor 3 instead of binding a port, shares it between its threads and
// echoes as ever; each model does.
TEST(e2e_echo, takes_the_listening_socket_systemd_passes) {
  for (const char* model : {"proactor", "reactor", "threads"}) {
    passed_socket s = listening_socket();
    echo_process echo({"--threads", "2", "--model", model}, as_systemd(s.fd.get()));
    s.fd.reset();  // the server holds it now
    EXPECT_EQ(echo.port(), s.port) << model << ": it bound a socket of its own";
    EXPECT_TRUE(echo.process().wait_for_stderr("listening socket from systemd", receive_timeout))
        << model << ": " << echo.process().stderr_text();
    expect_echoes_intact(s.port);
  }
}

TEST(e2e_echo, echoes_every_byte_with_busy_polling) {
  echo_process server({"--threads", "2"});  // default: --busy-poll 50
  expect_echoes_intact(server.port());
}

TEST(e2e_echo, echoes_every_byte_without_busy_polling) {
  echo_process server({"--threads", "2", "--busy-poll", "0"});
  expect_echoes_intact(server.port());
}

// With a connection open (and echoed once), SIGTERM stops the server with 0.
void expect_sigterm_exits_0(echo_process& server) {
  socket_fd idle = connect_to(server.port());
  ASSERT_TRUE(send_all(idle.get(), "ping"));
  ASSERT_EQ(overlap_test::read_exact_blocking(idle.get(), 4), "ping");
  ASSERT_TRUE(server.process().signal(SIGTERM));
  const exit_result exit = server.process().wait(exit_timeout);
  EXPECT_TRUE(exit.clean_exit(0)) << exit.describe() << "\n" << server.process().stderr_text();
}

TEST(e2e_echo, sigterm_exits_0_with_connections_open) {
  echo_process server({"--threads", "2"});
  expect_sigterm_exits_0(server);
}

// The comparison models echo the same bytes, report their port the same way,
// stop on SIGTERM with status 0 while connections are open, and carry the
// load generator's run without errors.
class e2e_echo_model : public ::testing::TestWithParam<const char*> {};

TEST_P(e2e_echo_model, echoes_every_byte_and_stops_on_sigterm) {
  echo_process server({"--threads", "2", "--model", GetParam()});
  expect_echoes_intact(server.port());
  expect_sigterm_exits_0(server);
}

INSTANTIATE_TEST_SUITE_P(models, e2e_echo_model, ::testing::Values("reactor", "threads"));

// The load generator against the echo server: closed and open loop, each
// reporting messages and no errors in its JSON line.
void expect_bench_ok(std::uint16_t port, std::vector<std::string> extra) {
  temp_dir out;
  std::vector<std::string> argv{overlap_binary,       "bench",      "echo", "--port",
                                std::to_string(port), "--duration", "0.5",  "--json",
                                "--no-progress"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  child_process bench(argv, (out / "stdout").string());
  const exit_result exit = bench.wait(exit_timeout);
  ASSERT_TRUE(exit.clean_exit(0)) << exit.describe() << "\n" << bench.stderr_text();
  const std::string json = read_file(out / "stdout");
  EXPECT_NE(json.find("\"errors\":0,"), std::string::npos) << json;
  EXPECT_EQ(json.find("\"messages\":0,"), std::string::npos) << json;
}

TEST(e2e_echo, bench_closed_loop_reports_messages_without_errors) {
  echo_process server;
  expect_bench_ok(server.port(), {"--connections", "8", "--size", "512"});
}

TEST(e2e_echo, bench_closed_loop_against_each_model_reports_no_errors) {
  for (const char* model : {"reactor", "threads"}) {
    echo_process server({"--model", model});
    expect_bench_ok(server.port(), {"--connections", "32", "--size", "4096"});
  }
}

TEST(e2e_echo, bench_open_loop_reports_messages_without_errors) {
  echo_process server;
  expect_bench_ok(server.port(), {"--connections", "4", "--size", "64", "--rate", "2000"});
}

// A spinning generator (--busy-poll) still verifies every byte, in both loops.
TEST(e2e_echo, bench_with_busy_polling_reports_messages_without_errors) {
  echo_process server;
  expect_bench_ok(server.port(), {"--connections", "4", "--busy-poll", "50"});
  expect_bench_ok(server.port(), {"--connections", "4", "--rate", "2000", "--busy-poll", "50"});
}

TEST(e2e_echo, bench_against_a_closed_port_fails_with_a_message) {
  // Bind a port, then close it, so nothing listens there.
  std::uint16_t port = 0;
  {
    echo_process server;
    port = server.port();
  }
  const auto r = run_overlap(
      {"bench", "echo", "--port", std::to_string(port), "--duration", "0.2", "--no-progress"});
  EXPECT_TRUE(r.exit.exited && !r.exit.clean_exit(0)) << r.exit.describe();
  EXPECT_NE(r.stderr_text.find("refused"), std::string::npos) << r.stderr_text;
}

TEST(e2e_echo, bad_flags_are_rejected) {
  const std::vector<std::vector<std::string>> cases = {
      {"echo", "--threads", "0"},
      {"echo", "--busy-poll", "99999"},
      {"echo", "--port", "70000"},
      {"echo", "--no-such-flag"},
      {"echo", "--model", "forking"},
      {"echo", "--model", "reactor", "--backend", "epoll"},
      {"bench", "echo", "--size", "0"},
      {"bench", "echo", "--connections", "0"},
      {"bench", "echo", "--busy-poll", "10001"},
      {"bench", "echo", "--host", "not-an-address", "--duration", "0.2"},
  };
  expect_rejected(cases);
}

// A command line the parser refuses exits 2 (a usage error), for every
// subcommand, like a setting refused after parsing; --help and --version exit 0.
TEST(e2e_cli, refused_command_lines_exit_with_status_2) {
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"no-such-command"},
      {"echo", "--no-such-flag"},
      {"echo", "--threads", "0"},
      {"serve", "--port", "99999"},
      {"serve", "--access-log-format", "xml"},
      {"serve", "--max-header-bytes", "lots"},
      {"bench", "echo", "--size", "0"},
      {"bench", "http", "--connections", "0"},
  };
  for (const auto& args : cases) {
    const auto r = run_overlap(args);
    std::string line = "overlap";
    for (const auto& a : args) line += " " + a;
    EXPECT_TRUE(r.exit.clean_exit(2)) << line << ": " << r.exit.describe();
    EXPECT_FALSE(r.stderr_text.empty()) << line;
  }
  EXPECT_TRUE(run_overlap({"--version"}).exit.clean_exit(0));
}

TEST(e2e_echo, port_of_a_running_echo_server_is_refused_to_a_second_one) {
  echo_process first({"--threads", "2"});
  const auto r = run_overlap({"echo", "--port", std::to_string(first.port()), "--threads", "2"});
  EXPECT_TRUE(r.exit.exited && !r.exit.clean_exit(0)) << r.exit.describe();
  EXPECT_NE(r.stderr_text.find("in use"), std::string::npos) << r.stderr_text;
  expect_echoes_intact(first.port());  // the first server keeps every connection
}

TEST(e2e_echo, help_exits_0_and_lists_flags) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"echo", "--help"}, {"bench", "echo", "--help"}}) {
    temp_dir out;
    std::vector<std::string> argv{overlap_binary};
    argv.insert(argv.end(), args.begin(), args.end());
    child_process child(argv, (out / "stdout").string());
    const exit_result exit = child.wait(exit_timeout);
    EXPECT_TRUE(exit.clean_exit(0)) << exit.describe();
    const std::string text = read_file(out / "stdout");
    const std::vector<const char*> flags =
        args[0] == "echo" ? std::vector<const char*>{"--port", "--threads", "--busy-poll"}
                          : std::vector<const char*>{"--connections", "--size", "--rate", "--json"};
    for (const char* flag : flags) {
      EXPECT_NE(text.find(flag), std::string::npos) << flag << " missing from:\n" << text;
    }
  }
}

}  // namespace
}  // namespace overlap::e2e
