// Observability against the real binary: the admin listener (--admin-port:
// /metrics, /operations, the status page) and the operation trace (--trace).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "e2e/server_process.hpp"

namespace overlap::e2e {
namespace {

// A server with the admin listener on an ephemeral port.
class admin_server {
 public:
  explicit admin_server(const std::filesystem::path& docroot, unsigned threads = 2,
                        std::vector<std::string> launcher = {})
      : server_(docroot, {.launcher = std::move(launcher),
                          .threads = threads,
                          .extra = {"--admin-port", "0", "--max-connections", "10000"}}) {
    constexpr std::string_view marker = "admin on 127.0.0.1:";
    if (!server_.process().wait_for_stderr(marker, startup_timeout)) {
      throw std::runtime_error("no admin port reported; stderr:\n" +
                               server_.process().stderr_text());
    }
    const std::string text = server_.process().stderr_text();
    admin_port_ =
        static_cast<std::uint16_t>(std::stoul(text.substr(text.find(marker) + marker.size())));
  }
  std::uint16_t port() const noexcept { return server_.port(); }
  std::uint16_t admin_port() const noexcept { return admin_port_; }
  server_process& server() noexcept { return server_; }

  http_response admin(std::string_view method, std::string_view target) {
    http_client c(admin_port_);
    set_timeout(c.fd(), SO_RCVTIMEO, receive_timeout);
    return c.request(make_request(method, target), method == "HEAD");
  }

 private:
  server_process server_;
  std::uint16_t admin_port_ = 0;
};

// Sums a metric over its shards: `name{labels…}` lines whose labels contain
// every one of `with` (e.g. `code="2xx"`).
double metric_sum(const std::string& text, const std::string& name,
                  const std::vector<std::string>& with = {}) {
  double sum = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + "{", 0) != 0) continue;
    const auto close = line.find('}');
    const std::string labels = line.substr(name.size() + 1, close - name.size() - 1);
    bool match = true;
    for (const auto& w : with) match = match && labels.find(w) != std::string::npos;
    if (match) sum += std::stod(line.substr(close + 2));
  }
  return sum;
}

TEST(e2e_admin, metrics_count_connections_and_responses_by_class) {
  temp_dir docroot;
  write_file(docroot / "a.txt", "hello");
  admin_server s(docroot.path());
  http_client c(s.port());
  set_timeout(c.fd(), SO_RCVTIMEO, receive_timeout);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(c.request(make_request("GET", "/a.txt")).status, 200);
  EXPECT_EQ(c.request(make_request("GET", "/missing")).status, 404);

  // A response is counted when its send completes, which may be just after
  // the client has read it: poll (bounded) until the counts settle.
  std::string text;
  const bool counted = wait_until(
      [&] {
        const auto r = s.admin("GET", "/metrics");
        text = r.body;
        return r.status == 200 &&
               metric_sum(text, "overlap_http_responses_total", {"code=\"2xx\""}) >= 3 &&
               metric_sum(text, "overlap_http_responses_total", {"code=\"4xx\""}) >= 1;
      },
      5s);
  ASSERT_TRUE(counted) << text;
  EXPECT_EQ(metric_sum(text, "overlap_http_responses_total", {"code=\"2xx\""}), 3) << text;
  EXPECT_EQ(metric_sum(text, "overlap_http_responses_total", {"code=\"4xx\""}), 1) << text;
  EXPECT_EQ(metric_sum(text, "overlap_http_responses_total", {"code=\"5xx\""}), 0) << text;
  EXPECT_EQ(metric_sum(text, "overlap_connections_accepted_total"), 1) << text;
  EXPECT_EQ(metric_sum(text, "overlap_connections_open"), 1) << text;
  EXPECT_GE(metric_sum(text, "overlap_http_response_body_bytes_total"), 15) << text;
  // Both shards report.
  EXPECT_NE(text.find("overlap_connections_open{shard=\"1\"}"), std::string::npos) << text;
  // The connection's requests were received by asynchronous operations.
  EXPECT_GE(metric_sum(text, "overlap_operation_completions_total",
                       {"kind=\"receive\"", "result=\"ok\""}),
            1)
      << text;
}

TEST(e2e_admin, metrics_are_well_formed_prometheus_text) {
  temp_dir docroot;
  write_file(docroot / "a.txt", "hello");
  admin_server s(docroot.path());
  http_client c(s.port());
  set_timeout(c.fd(), SO_RCVTIMEO, receive_timeout);
  EXPECT_EQ(c.request(make_request("GET", "/a.txt")).status, 200);
  const auto r = s.admin("GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type").value_or(""), "text/plain; version=0.0.4; charset=utf-8");

  // Every sample line is `name{labels} value` or `name value`, and every
  // family is introduced by HELP and TYPE.
  const std::regex sample(R"(^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [-+0-9.eInf]+$)");
  std::set<std::string> typed;
  std::istringstream in(r.body);
  std::size_t samples = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# TYPE ", 0) == 0) {
      typed.insert(line.substr(7, line.find(' ', 7) - 7));
      continue;
    }
    if (line.rfind("# HELP ", 0) == 0) continue;
    ASSERT_TRUE(std::regex_match(line, sample)) << line;
    std::string name = line.substr(0, line.find_first_of("{ "));
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string base = name.substr(0, name.size() - std::strlen(suffix));
      if (name.ends_with(suffix) && typed.count(base) != 0) name = base;
    }
    EXPECT_EQ(typed.count(name), 1u) << "no TYPE before " << line;
    ++samples;
  }
  EXPECT_GT(samples, 20u);

  // The latency histogram of receives: cumulative buckets that never fall,
  // ending in +Inf equal to the count.
  std::vector<double> buckets;
  std::istringstream again(r.body);
  for (std::string line; std::getline(again, line);) {
    if (line.rfind("overlap_operation_latency_seconds_bucket{shard=\"0\",kind=\"timer\"", 0) == 0) {
      buckets.push_back(std::stod(line.substr(line.find("} ") + 2)));
    }
  }
  ASSERT_EQ(buckets.size(), 16u) << r.body;
  for (std::size_t i = 1; i < buckets.size(); ++i) EXPECT_GE(buckets[i], buckets[i - 1]);
  EXPECT_EQ(buckets.back(), metric_sum(r.body, "overlap_operation_latency_seconds_count",
                                       {"shard=\"0\"", "kind=\"timer\""}));
}

TEST(e2e_admin, operations_lists_a_connection_waiting_for_the_rest_of_its_request) {
  temp_dir docroot;
  write_file(docroot / "a.txt", "hello");
  admin_server s(docroot.path(), 1);
  http_client c(s.port());
  ASSERT_TRUE(c.send("GET /a.txt HTTP/1.1\r\n"));  // the head is not complete

  std::string table;
  const bool listed = wait_until(
      [&] {
        const auto r = s.admin("GET", "/operations");
        table = r.body;
        return r.status == 200 && table.find(" receive ") != std::string::npos;
      },
      5s);
  ASSERT_TRUE(listed) << table;
  EXPECT_NE(table.find("accept_multishot"), std::string::npos) << table;
  EXPECT_EQ(table.rfind("shard", 0), 0u) << "starts with its column names: " << table;

  // The client finishes its request and is answered: its receive is no
  // longer the one waiting, and the server still serves.
  set_timeout(c.fd(), SO_RCVTIMEO, receive_timeout);
  ASSERT_TRUE(c.send("Host: x\r\n\r\n"));
  EXPECT_EQ(c.read_response().status, 200);
}

TEST(e2e_admin, status_page_and_errors) {
  temp_dir docroot;
  admin_server s(docroot.path());
  const auto page = s.admin("GET", "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.header("content-type").value_or(""), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("href=\"/metrics\""), std::string::npos) << page.body;
  EXPECT_NE(page.body.find(docroot.path().string()), std::string::npos) << page.body;

  const auto head = s.admin("HEAD", "/metrics");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_GT(std::stoul(head.header("content-length").value_or("0")), 0u);

  const auto post = s.admin("POST", "/metrics");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("allow").value_or(""), "GET, HEAD");
  EXPECT_EQ(s.admin("GET", "/missing").status, 404);
  EXPECT_EQ(s.admin("GET", "/metrics?x=1").status, 200);

  http_client bad(s.admin_port());
  set_timeout(bad.fd(), SO_RCVTIMEO, receive_timeout);
  EXPECT_EQ(bad.request("GET / HTTP/1.1\r\nHost : x\r\n\r\n").status, 400);

  // The web server itself still answers, and stops cleanly.
  http_client c(s.port());
  set_timeout(c.fd(), SO_RCVTIMEO, receive_timeout);
  EXPECT_EQ(c.request(make_request("GET", "/nothing")).status, 404);
  ASSERT_TRUE(s.server().process().signal(SIGTERM));
  const auto exit = s.server().process().wait(exit_timeout);
  EXPECT_TRUE(exit.clean_exit(0)) << exit.describe();
}

TEST(e2e_admin, sigterm_with_an_admin_connection_open_exits_0) {
  temp_dir docroot;
  admin_server s(docroot.path());
  http_client idle(s.admin_port());  // connected, says nothing
  http_client half(s.admin_port());
  ASSERT_TRUE(half.send("GET /metrics HTTP/1.1\r\n"));
  EXPECT_EQ(s.admin("GET", "/metrics").status, 200);  // both are accepted by now
  ASSERT_TRUE(s.server().process().signal(SIGTERM));
  const auto exit = s.server().process().wait(exit_timeout);
  EXPECT_TRUE(exit.clean_exit(0)) << exit.describe();
}

TEST(e2e_admin, admin_listener_recovers_after_running_out_of_descriptors) {
#if defined(__SANITIZE_ADDRESS__)
  // The sanitizer preset also runs UBSan, whose vptr check opens a pipe to
  // probe memory: in a server with no descriptor left it fails and reports a
  // false "invalid vptr", which stops the server. Debug and TSan runs cover it.
  GTEST_SKIP() << "UBSan's vptr check needs a free descriptor; this test takes them all";
#endif
  constexpr const char* prlimit = "/usr/bin/prlimit";
  if (::access(prlimit, X_OK) != 0) GTEST_SKIP() << prlimit << " is not available";
  constexpr int clients = 80;
  if (raise_fd_limit(2 * clients + 256) < 2 * clients + 64) {
    GTEST_SKIP() << "RLIMIT_NOFILE cannot be raised enough for the clients";
  }
  temp_dir docroot;
  admin_server s(docroot.path(), 1, {prlimit, "--nofile=40:40", "--"});
  // Connections that each sent part of a request hold the server's
  // descriptors until it runs out.
  std::vector<http_client> holders;
  for (int i = 0; i < clients; ++i) {
    holders.emplace_back(s.port());
    ASSERT_TRUE(holders.back().send("GET / HTTP/1.1\r\n"));
  }
  ASSERT_TRUE(s.server().process().wait_for_stderr("Too many open files", receive_timeout))
      << s.server().process().stderr_text();
  // An admin client now waits in the backlog, and the admin accept fails.
  http_client waiting(s.admin_port());
  ASSERT_TRUE(waiting.send(make_request("GET", "/metrics")));
  ASSERT_TRUE(s.server().process().wait_for_stderr("admin accept", receive_timeout))
      << s.server().process().stderr_text();
  holders.clear();  // descriptors come back
  set_timeout(waiting.fd(), SO_RCVTIMEO, receive_timeout);
  try {
    EXPECT_EQ(waiting.read_response().status, 200);
    EXPECT_EQ(s.admin("GET", "/metrics").status, 200);
  } catch (const std::exception& e) {
    FAIL() << e.what() << "\nserver stderr:\n" << s.server().process().stderr_text();
  }
}

TEST(e2e_admin, admin_port_in_use_is_reported_and_nothing_is_served) {
  socket_fd taken(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(taken.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(taken.get(), 1), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(taken.get(), reinterpret_cast<sockaddr*>(&addr), &len);

  temp_dir docroot;
  const auto r = run_overlap({"serve", docroot.path().string(), "--port", "0", "--admin-port",
                              std::to_string(ntohs(addr.sin_port))});
  EXPECT_TRUE(r.exit.clean_exit(1)) << r.exit.describe();
  EXPECT_NE(r.stderr_text.find("admin listener"), std::string::npos) << r.stderr_text;
  EXPECT_EQ(r.stderr_text.find("listening"), std::string::npos) << r.stderr_text;
}

TEST(e2e_admin, admin_flags_are_checked) {
  temp_dir docroot;
  const auto model = run_overlap(
      {"serve", docroot.path().string(), "--port", "0", "--model", "reactor", "--admin-port", "0"});
  EXPECT_TRUE(model.exit.clean_exit(2)) << model.exit.describe();
  EXPECT_NE(model.stderr_text.find("--admin-port"), std::string::npos) << model.stderr_text;

  const auto bind = run_overlap({"serve", docroot.path().string(), "--port", "0", "--admin-port",
                                 "0", "--admin-bind", "not-an-address"});
  EXPECT_TRUE(bind.exit.clean_exit(2)) << bind.exit.describe();
  EXPECT_NE(bind.stderr_text.find("--admin-bind"), std::string::npos) << bind.stderr_text;

  const auto port = run_overlap({"serve", docroot.path().string(), "--admin-port", "70000"});
  EXPECT_TRUE(port.exit.exited && !port.exit.clean_exit(0)) << port.exit.describe();
}

// ---------------------------------------------------------------- --trace

struct trace_event {
  std::string name, ph, id;
};

TEST(e2e_trace, every_completion_follows_its_initiation_in_chrome_trace_json) {
  temp_dir docroot;
  write_file(docroot / "a.txt", "hello");
  const auto trace = docroot / "trace.json";
  server_process server(docroot.path(), {.extra = {"--trace", trace.string()}});
  {
    http_client c(server.port());
    set_timeout(c.fd(), SO_RCVTIMEO, receive_timeout);
    EXPECT_EQ(c.request(make_request("GET", "/a.txt")).status, 200);
    EXPECT_EQ(c.request(make_request("GET", "/missing")).status, 404);
  }
  ASSERT_TRUE(server.process().signal(SIGTERM));
  const auto exit = server.process().wait(exit_timeout);
  ASSERT_TRUE(exit.clean_exit(0)) << exit.describe();

  // The JSON array format: "[" and one event object per line, each followed
  // by a comma (the closing bracket is optional).
  const std::string text = read_file(trace);
  ASSERT_EQ(text.rfind("[\n", 0), 0u) << text.substr(0, 200);
  const std::regex line_re(
      R"re(^\{"name":"([a-z_]+)","cat":"op","ph":"([bne])","id":"(0x[0-9a-f]+)","pid":[0-9]+,"tid":[0-9]+,"ts":[0-9.]+,"args":\{[^{}]*\}\},$)re");
  std::vector<trace_event> events;
  std::istringstream in(text.substr(2));
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, line_re)) << line;
    events.push_back({m[1], m[2], m[3]});
  }
  // Paired by id: an "n" or "e" only while its operation is open.
  std::map<std::string, std::string> open;  // id -> name
  std::map<std::string, int> ended;         // name -> "e" events
  for (const auto& e : events) {
    if (e.ph == "b") {
      EXPECT_EQ(open.count(e.id), 0u) << "initiated twice without completing: " << e.id;
      open[e.id] = e.name;
      continue;
    }
    ASSERT_EQ(open.count(e.id), 1u) << e.name << " " << e.ph << " without initiation";
    EXPECT_EQ(open[e.id], e.name);
    if (e.ph == "e") {
      open.erase(e.id);
      ++ended[e.name];
    }
  }
  // The requests were received and answered by traced operations.
  EXPECT_GE(ended["receive"], 2);
  EXPECT_GE(ended["writev_all"], 2);
}

TEST(e2e_trace, unwritable_trace_file_is_reported) {
  temp_dir docroot;
  const auto r = run_overlap({"serve", docroot.path().string(), "--port", "0", "--trace",
                              (docroot / "no-such-dir" / "t.json").string()});
  EXPECT_TRUE(r.exit.clean_exit(2)) << r.exit.describe();
  EXPECT_NE(r.stderr_text.find("--trace"), std::string::npos) << r.stderr_text;
  EXPECT_EQ(r.stderr_text.find("listening"), std::string::npos) << r.stderr_text;
}

}  // namespace
}  // namespace overlap::e2e
