// End-to-end: `overlap bench http` against the real `overlap serve`. Its JSON
// line must account for every response and its body bytes, --close must open a
// connection per request, and failures must show in the exit status.
#include <csignal>
#include <cstdlib>
#include <sstream>

#include "e2e/server_process.hpp"

namespace overlap::e2e {
namespace {

constexpr std::size_t file_size = 3000;

// The unsigned number after "key": in a flat JSON object; nullopt if absent.
std::optional<std::uint64_t> json_number(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\":";
  const auto at = json.find(needle);
  if (at == std::string::npos) return std::nullopt;
  return std::strtoull(json.c_str() + at + needle.size(), nullptr, 10);
}

struct bench_result {
  exit_result exit;
  std::string json;
  std::string stderr_text;
};

bench_result run_bench(std::uint16_t port, std::vector<std::string> extra,
                       const char* duration = "0.5") {
  temp_dir out;
  std::vector<std::string> argv{overlap_binary,       "bench",      "http",   "--port",
                                std::to_string(port), "--duration", duration, "--json",
                                "--no-progress"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  child_process bench(argv, (out / "stdout").string());
  bench_result r;
  r.exit = bench.wait(exit_timeout);
  bench.wait_for_stderr_close(exit_timeout);
  r.stderr_text = bench.stderr_text();
  r.json = read_file(out / "stdout");
  return r;
}

// Body bytes count as they arrive: every completed response's, plus at most
// one file's worth per connection still receiving when the run ended.
void expect_body_bytes(const std::string& json, std::uint64_t responses,
                       std::uint64_t connections) {
  const auto bytes = json_number(json, "body_bytes");
  ASSERT_TRUE(bytes.has_value()) << json;
  EXPECT_GE(*bytes, responses * file_size) << json;
  EXPECT_LT(*bytes, (responses + connections) * file_size) << json;
}

class e2e_bench_http : public ::testing::Test {
 protected:
  e2e_bench_http() { write_file(docroot_ / "file.bin", random_bytes(file_size, 81)); }
  temp_dir docroot_;
};

TEST_F(e2e_bench_http, keep_alive_counts_every_response_and_body_byte) {
  server_process server(docroot_.path());
  const auto r = run_bench(server.port(), {"--connections", "4", "--path", "/file.bin"});
  ASSERT_TRUE(r.exit.clean_exit(0)) << r.exit.describe() << "\n" << r.stderr_text;
  const auto responses = json_number(r.json, "responses");
  ASSERT_TRUE(responses.has_value()) << r.json;
  EXPECT_GT(*responses, 0u) << r.json;
  expect_body_bytes(r.json, *responses, 4);
  EXPECT_EQ(json_number(r.json, "non_2xx"), 0u) << r.json;
  EXPECT_EQ(json_number(r.json, "errors"), 0u) << r.json;
  EXPECT_EQ(json_number(r.json, "connects"), 4u) << "keep-alive reconnected: " << r.json;
}

TEST_F(e2e_bench_http, close_opens_a_connection_per_request) {
  server_process server(docroot_.path());
  const auto r = run_bench(server.port(), {"--connections", "4", "--path", "/file.bin", "--close"});
  ASSERT_TRUE(r.exit.clean_exit(0)) << r.exit.describe() << "\n" << r.stderr_text;
  const auto responses = json_number(r.json, "responses");
  const auto connects = json_number(r.json, "connects");
  ASSERT_TRUE(responses.has_value() && connects.has_value()) << r.json;
  EXPECT_GT(*responses, 4u) << r.json;
  // Every measured response came over a connection made while measuring,
  // and each connection carries at most one request.
  EXPECT_GE(*connects, *responses) << r.json;
  expect_body_bytes(r.json, *responses, 4);
  EXPECT_EQ(json_number(r.json, "errors"), 0u) << r.json;
}

TEST_F(e2e_bench_http, error_statuses_are_counted_and_fail_the_run) {
  server_process server(docroot_.path());
  const auto r = run_bench(server.port(), {"--connections", "2", "--path", "/missing"});
  EXPECT_TRUE(r.exit.exited && !r.exit.clean_exit(0)) << r.exit.describe();
  const auto non_2xx = json_number(r.json, "non_2xx");
  ASSERT_TRUE(non_2xx.has_value()) << r.json;
  EXPECT_GT(*non_2xx, 0u);
  EXPECT_EQ(json_number(r.json, "responses"), non_2xx) << r.json;
}

TEST_F(e2e_bench_http, closed_port_fails_at_once_with_a_message) {
  std::uint16_t port = 0;
  {
    server_process server(docroot_.path());
    port = server.port();
  }
  // Every connection is refused: the run ends then, not after its 30 s (which
  // would outlast the wait for its exit).
  const auto r = run_bench(port, {"--connections", "3"}, "30");
  EXPECT_TRUE(r.exit.exited && !r.exit.clean_exit(0)) << r.exit.describe();
  EXPECT_NE(r.stderr_text.find("refused"), std::string::npos) << r.stderr_text;
  EXPECT_EQ(json_number(r.json, "errors"), 3u) << r.json;
}

// Over IPv6 the Host header needs the address in brackets; without them the
// server answers 400 and the run fails.
TEST_F(e2e_bench_http, ipv6_host_is_sent_in_brackets) {
  {
    const int probe = ::socket(AF_INET6, SOCK_STREAM, 0);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    const bool ok = probe >= 0 && ::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    if (probe >= 0) ::close(probe);
    if (!ok) GTEST_SKIP() << "no IPv6 loopback";
  }
  std::vector<std::string> argv{overlap_binary, "serve", docroot_.path().string(), "--bind", "::1",
                                "--port",       "0",     "--access-log",           "off"};
  if (const std::string model = serve_model(); !model.empty()) {
    argv.insert(argv.end(), {"--model", model});
  }
  child_process server(argv);
  constexpr std::string_view marker = "listening on [::1]:";
  ASSERT_TRUE(server.wait_for_stderr(marker, startup_timeout)) << server.stderr_text();
  const std::string text = server.stderr_text();
  const auto port =
      static_cast<std::uint16_t>(std::stoul(text.substr(text.find(marker) + marker.size())));
  const auto r = run_bench(port, {"--host", "::1", "--connections", "2", "--path", "/file.bin"});
  ASSERT_TRUE(r.exit.clean_exit(0)) << r.exit.describe() << "\n" << r.stderr_text << r.json;
  EXPECT_EQ(json_number(r.json, "non_2xx"), 0u) << r.json;
  EXPECT_GT(json_number(r.json, "responses").value_or(0), 0u) << r.json;
}

// The run ends with requests still queued on many connections. Each must go
// out intact or not at all: a generator that freed its request before the
// queued send ran once sent heap garbage, which the server logged as 400s.
TEST_F(e2e_bench_http, requests_queued_when_the_run_ends_are_never_sent_corrupt) {
  const std::string model = serve_model();
  if (!model.empty() && model != "proactor") GTEST_SKIP() << "only the proactor model logs";
  write_file(docroot_ / "big.bin", random_bytes(70000, 82));  // sent from the file, not memory
  temp_dir logs;
  const auto log_path = logs / "access.log";
  server_process server(docroot_.path(),
                        {.access_log = log_path.string(), .threads = 2, .extra = {}});
  for (int round = 0; round < 3; ++round) {
    const auto r = run_bench(server.port(), {"--connections", "64", "--path", "/big.bin"});
    ASSERT_TRUE(r.exit.clean_exit(0)) << r.exit.describe() << "\n" << r.stderr_text << r.json;
  }
  ASSERT_TRUE(server.process().signal(SIGTERM));
  ASSERT_TRUE(server.process().wait(exit_timeout).clean_exit(0));
  std::istringstream log(read_file(log_path));
  std::size_t lines = 0;
  std::vector<std::string> bad;
  for (std::string line; std::getline(log, line); ++lines) {
    if (line.find("\"GET /big.bin HTTP/1.1\" 200 ") == std::string::npos && bad.size() < 5) {
      bad.push_back(line);
    }
  }
  EXPECT_GT(lines, 0u);
  EXPECT_TRUE(bad.empty()) << "logged: " << bad.front();
}

TEST(e2e_bench_http_flags, bad_flags_are_rejected_with_a_message) {
  const std::vector<std::vector<std::string>> cases = {
      {"bench", "http", "--connections", "0"},
      {"bench", "http", "--duration", "0"},
      {"bench", "http", "--path", ""},
      {"bench", "http", "--path", "/a b"},
      {"bench", "http", "--host", "not-an-address"},
      {"bench", "http", "--port", "70000"},
  };
  expect_rejected(cases);
}

TEST(e2e_bench_http_flags, help_lists_the_flags) {
  temp_dir out;
  child_process child({overlap_binary, "bench", "http", "--help"}, (out / "stdout").string());
  EXPECT_TRUE(child.wait(exit_timeout).clean_exit(0));
  const std::string text = read_file(out / "stdout");
  for (const char* flag : {"--connections", "--path", "--duration", "--close", "--json"}) {
    EXPECT_NE(text.find(flag), std::string::npos) << flag << " missing from:\n" << text;
  }
}

}  // namespace
}  // namespace overlap::e2e
