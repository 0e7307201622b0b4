// Hostile traffic, end to end: dozens of connections send a seeded mix of
// valid, malformed, truncated and random requests, and reset, half-close or
// abandon their connections at random points, while one well-behaved
// keep-alive client checks every byte it is sent. Afterwards the server must
// still answer a fresh client exactly, and exit 0 on SIGTERM (under the
// sanitizer builds a finding makes that exit non-zero).
//
// Bounded in operations and in time; the seed makes every run send the same
// bytes, so a failure can be replayed.
#include <atomic>

#include "e2e/server_process.hpp"

namespace overlap::e2e {
namespace {

using namespace std::string_view_literals;

constexpr int max_sockets = 48;
constexpr int operations = 30000;
constexpr auto traffic_time_cap = 20s;  // a bound on the run, not an assertion

class hostile_client {
 public:
  hostile_client(std::uint16_t port, std::uint64_t seed) : port_(port), rng_(seed) {}

  hostile_client(const hostile_client&) = delete;
  hostile_client& operator=(const hostile_client&) = delete;

  // One random step: open a connection, write, read, or end one.
  void step() {
    if (sockets_.empty() || (sockets_.size() < max_sockets && chance(0.15))) {
      open();
      return;
    }
    const std::size_t i = pick(sockets_.size());
    const double action = uniform();
    if (action < 0.55) {
      write(sockets_[i].get(), payload());
    } else if (action < 0.75) {
      drain(sockets_[i].get());
    } else if (action < 0.82) {
      ::shutdown(sockets_[i].get(), SHUT_WR);  // half-close: the server sees eof
    } else if (action < 0.90) {
      reset_connection(sockets_[i]);  // RST, whatever is in flight
      sockets_.erase(sockets_.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      sockets_.erase(sockets_.begin() + static_cast<std::ptrdiff_t>(i));  // plain close
    }
  }

  // Ends every connection still open, half of them with a reset.
  void finish() {
    for (auto& s : sockets_) {
      if (chance(0.5)) reset_connection(s);
    }
    sockets_.clear();
  }

  std::size_t opened() const noexcept { return opened_; }

 private:
  void open() {
    auto [s, ec] = try_connect(port_);
    if (ec) return;  // the server may be pausing accepts; try again later
    const int flags = ::fcntl(s.get(), F_GETFL);
    ::fcntl(s.get(), F_SETFL, flags | O_NONBLOCK);
    sockets_.push_back(std::move(s));
    ++opened_;
  }

  // Sends what fits without blocking; a full socket buffer drops the rest.
  // Sometimes the bytes go one small write at a time, as a slow client's do.
  void write(int fd, const std::string& bytes) {
    const std::size_t piece = chance(0.1) ? 1 + pick(7) : bytes.size();
    for (std::size_t at = 0; at < bytes.size(); at += piece) {
      const std::size_t n = std::min(piece, bytes.size() - at);
      if (::send(fd, bytes.data() + at, n, MSG_NOSIGNAL | MSG_DONTWAIT) <= 0) return;
    }
  }

  static void drain(int fd) {
    char sink[16 * 1024];
    for (int i = 0; i < 8; ++i) {
      if (::recv(fd, sink, sizeof sink, MSG_DONTWAIT) <= 0) return;
    }
  }

  // One or more requests, sometimes cut short, sometimes plain noise.
  std::string payload() {
    const double kind = uniform();
    if (kind < 0.1) return random_bytes(1 + pick(600), rng_());
    std::string out;
    const std::size_t count = 1 + pick(4);
    for (std::size_t k = 0; k < count; ++k) out += request();
    if (kind < 0.25) out.resize(pick(out.size() + 1));  // truncated anywhere
    return out;
  }

  std::string request() {
    static constexpr std::string_view methods[] = {
        "GET",  "GET", "GET",    "HEAD",    "POST",  "PUT",    "OPTIONS",
        "BREW", "get", "DELETE", "CONNECT", "TRACE", "G\x01T", "GETGETGETGETGETGETGET"};
    static constexpr std::string_view targets[] = {"/small.txt",
                                                   "/big.bin",
                                                   "/",
                                                   "/dir",
                                                   "/dir/",
                                                   "/missing",
                                                   "/%2e%2e/secret",
                                                   "/small.txt?q=1#f",
                                                   "//small.txt",
                                                   "/small%00.txt",
                                                   "/%ZZ",
                                                   "http://localhost/small.txt",
                                                   "*",
                                                   "localhost:443",
                                                   "/dir/../small.txt",
                                                   "/\xc0\xae\xc0\xae/secret",
                                                   "/.hidden"};
    static constexpr std::string_view versions[] = {"HTTP/1.1", "HTTP/1.1", "HTTP/1.1",
                                                    "HTTP/1.0", "HTTP/2.0", "HTTP/1.1x",
                                                    "HTTP/9.9", "",         "http/1.1"};
    static constexpr std::string_view fields[] = {
        "Host: localhost",
        "Host: other",
        "Host: bad host",
        "Range: bytes=0-99",
        "Range: bytes=-50",
        "Range: bytes=100-",
        "Range: bytes=0-1,5-9,20-",
        "Range: bytes=999999-",
        "Range: lines=1-2",
        "If-None-Match: *",
        "If-None-Match: \"x\", W/\"y\"",
        "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT",
        "If-Modified-Since: yesterday",
        "If-Range: \"nope\"",
        "Connection: close",
        "Connection: keep-alive",
        "Content-Length: 5",
        "Content-Length: -1",
        "Content-Length: 99999999999999999999",
        "Transfer-Encoding: chunked",
        "Transfer-Encoding: gzip, chunked",
        "Expect: 100-continue",
        "Accept-Encoding: gzip, deflate, br, zstd",
        "Accept-Encoding: *;q=0.5, gzip;q=0",
        "Accept-Encoding: br;q=abc",
        " folded continuation",
        "X-Space : before colon",
        "NoColonHere",
        "X-Nul: a\0b"sv};
    std::string r = pick_of(methods);
    r += ' ';
    r += pick_of(targets);
    if (const std::string v = pick_of(versions); !v.empty()) r += ' ' + v;
    r += "\r\n";
    const std::size_t n = pick(5);
    for (std::size_t k = 0; k < n; ++k) r += pick_of(fields) + "\r\n";
    if (chance(0.05)) r += "X-Big: " + std::string(1 + pick(12000), 'b') + "\r\n";
    if (chance(0.03)) r = std::string(pick(9000), 'A') + r;  // an over-long line
    r += "\r\n";
    if (chance(0.1)) r += chance(0.5) ? "5\r\nhello\r\n0\r\n\r\n" : "zz;junk\r\nhello\r\n";
    return r;
  }

  template <std::size_t N>
  std::string pick_of(const std::string_view (&options)[N]) {
    return std::string(options[pick(N)]);
  }

  double uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }
  bool chance(double p) { return uniform() < p; }
  std::size_t pick(std::size_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }

  std::uint16_t port_;
  std::mt19937_64 rng_;
  std::vector<socket_fd> sockets_;
  std::size_t opened_ = 0;
};

struct site {
  temp_dir root;
  std::string small = random_bytes(1024, 71);
  std::string big = random_bytes(1u << 20, 72);
  std::string secret = "outside-the-docroot";

  site() {
    write_file(root / "www" / "small.txt", small);
    write_file(root / "www" / "big.bin", big);
    write_file(root / "www" / "dir" / "index.html", "<p>index</p>");
    write_file(root / "www" / ".hidden", "hidden");
    // Twins for --precompressed, small and large; none for the index.
    write_file(root / "www" / "small.txt.gz", random_bytes(400, 73));
    write_file(root / "www" / "big.bin.br", random_bytes(300'000, 74));
    write_file(root / "secret", secret);
  }
  std::filesystem::path docroot() const { return root / "www"; }
};

// One keep-alive connection, one request after another, each checked in full
// (status, length and every byte), until told to stop. Returns the failures.
std::vector<std::string> witness(std::uint16_t port, const site& s, const std::atomic<bool>& stop,
                                 std::size_t& rounds) {
  std::vector<std::string> failures;
  try {
    http_client client(port);
    while (!stop.load() && failures.empty() && rounds < 2000) {
      const auto small = client.request(make_request("GET", "/small.txt"));
      if (small.status != 200 || small.body != s.small) {
        failures.push_back("GET /small.txt: " + small.status_line + ", " +
                           std::to_string(small.body.size()) + " bytes");
      }
      const auto big = client.request(make_request("GET", "/big.bin"));
      if (big.status != 200) failures.push_back("GET /big.bin: " + big.status_line);
      if (auto same = same_bytes(big.body, s.big); !same) failures.push_back(same.message());
      const auto part =
          client.request(make_request("GET", "/big.bin", "Range: bytes=1000-1999\r\n"));
      if (part.status != 206 || part.body != s.big.substr(1000, 1000)) {
        failures.push_back("range: " + part.status_line);
      }
      // Two pipelined requests: answered in order, on the same connection.
      if (!client.send(make_request("HEAD", "/small.txt") + make_request("GET", "/dir/"))) {
        failures.push_back("pipelined send failed");
        break;
      }
      const auto head = client.read_response(true);
      const auto index = client.read_response();
      if (head.status != 200 || head.header("content-length") != std::to_string(s.small.size())) {
        failures.push_back("pipelined HEAD: " + head.status_line);
      }
      if (index.status != 200 || index.body != "<p>index</p>") {
        failures.push_back("pipelined GET /dir/: " + index.status_line);
      }
      ++rounds;
    }
  } catch (const std::exception& e) {
    failures.push_back(e.what());
  }
  return failures;
}

struct hostile_case {
  std::uint64_t seed;
  // A receive-buffer ring of two small buffers per thread: connections
  // constantly find it empty and receive into buffers of their own, and are
  // closed and reset while those receives wait.
  bool tiny_ring;
};

void PrintTo(const hostile_case& c, std::ostream* os) {
  *os << "seed" << c.seed << (c.tiny_ring ? "_tiny_ring" : "");
}

// The sum of overlap_proactor_spill_receives_total over the server's threads,
// read from its admin listener's /metrics.
std::optional<std::uint64_t> spill_receives(server_process& server) {
  constexpr std::string_view marker = "admin on 127.0.0.1:";
  const std::string text = server.process().stderr_text();
  const auto at = text.find(marker);
  if (at == std::string::npos) return std::nullopt;
  http_client admin(static_cast<std::uint16_t>(std::stoul(text.substr(at + marker.size()))));
  const auto metrics = admin.request(make_request("GET", "/metrics")).body;
  std::optional<std::uint64_t> total;
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("overlap_proactor_spill_receives_total{", 0) != 0) continue;
    total = total.value_or(0) + std::stoull(line.substr(line.rfind(' ') + 1));
  }
  return total;
}

class e2e_hostile_traffic : public ::testing::TestWithParam<hostile_case> {};

TEST_P(e2e_hostile_traffic, leaves_other_clients_and_the_server_unharmed) {
  const site s;
  // Short timeouts so that abandoned half-requests are reaped during the run;
  // the deployment options on, so their paths see the same traffic.
  std::vector<std::string> flags{"--header-timeout",    "1",
                                 "--keepalive-timeout", "2",
                                 "--precompressed",     "--fallback",
                                 "/dir/index.html",     "--cache-control",
                                 "max-age=60",          "--not-found-page",
                                 "/dir/index.html"};
  if (GetParam().tiny_ring) {
    const std::string model = serve_model();
    if (!model.empty() && model != "proactor")
      GTEST_SKIP() << "--model " << model << " has no ring";
    flags.insert(flags.end(),
                 {"--recv-buffers", "2", "--recv-buffer-bytes", "256", "--admin-port", "0"});
  }
  server_process server(s.docroot(), {.extra = flags});

  std::atomic<bool> stop{false};
  std::size_t rounds = 0;
  std::vector<std::string> witness_failures;
  std::thread good([&] { witness_failures = witness(server.port(), s, stop, rounds); });

  hostile_client hostile(server.port(), GetParam().seed);
  const auto give_up = clock_type::now() + traffic_time_cap;
  int done = 0;
  for (; done < operations && clock_type::now() < give_up; ++done) hostile.step();
  hostile.finish();
  stop = true;
  good.join();

  RecordProperty("operations", done);
  RecordProperty("connections", static_cast<int>(hostile.opened()));
  RecordProperty("witness_rounds", static_cast<int>(rounds));
  EXPECT_GT(hostile.opened(), 10u);
  EXPECT_GT(rounds, 0u) << "the well-behaved client completed no round";
  for (const auto& f : witness_failures) ADD_FAILURE() << "well-behaved client: " << f;

  ASSERT_FALSE(server.process().wait(0ms).exited) << server.process().stderr_text();
  // A fresh client is served exactly, and nothing outside the docroot leaks.
  http_client after(server.port());
  const auto big = after.request(make_request("GET", "/big.bin"));
  EXPECT_EQ(big.status, 200);
  EXPECT_TRUE(same_bytes(big.body, s.big));
  const auto escape = after.request(make_request("GET", "/%2e%2e/secret"));
  EXPECT_NE(escape.status, 200);
  EXPECT_EQ(escape.body.find(s.secret), std::string::npos);

  if (GetParam().tiny_ring) {
    const auto spills = spill_receives(server);
    ASSERT_TRUE(spills.has_value()) << "no spill counter in /metrics";
    RecordProperty("spill_receives", static_cast<int>(*spills));
    if (server.process().stderr_text().find("(io_uring)") != std::string::npos) {
      EXPECT_GT(*spills, 0u) << "the ring never ran dry, so this case proved nothing extra";
    }
  }

  ASSERT_TRUE(server.process().signal(SIGTERM));
  const exit_result exit = server.process().wait(exit_timeout);
  EXPECT_TRUE(exit.clean_exit(0)) << exit.describe() << "\nstderr:\n"
                                  << server.process().stderr_text();
}

INSTANTIATE_TEST_SUITE_P(seeds, e2e_hostile_traffic,
                         ::testing::Values(hostile_case{1, false}, hostile_case{2, false},
                                           hostile_case{3, false}, hostile_case{4, true},
                                           hostile_case{5, true}));

}  // namespace
}  // namespace overlap::e2e
