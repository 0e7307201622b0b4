// Connection limits of `overlap serve`: past --max-connections, and when the
// process runs out of descriptors (EMFILE), accepting pauses; connections
// already open are served as usual, and clients left in the listen backlog
// are served once room is made.
#include <poll.h>
#include <sys/resource.h>

#include "server_process.hpp"

namespace overlap::e2e {
namespace {

// True if `fd` has something to read (or an end) within `limit`.
bool readable_within(int fd, std::chrono::milliseconds limit) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(limit.count())) == 1;
}

// Sets this process's soft RLIMIT_NOFILE to `soft` while it lives; a child
// started meanwhile keeps that limit.
class fd_limit_override {
 public:
  explicit fd_limit_override(rlim_t soft) {
    ok_ = ::getrlimit(RLIMIT_NOFILE, &saved_) == 0;
    if (!ok_) return;
    rlimit lowered = saved_;
    lowered.rlim_cur = std::min(soft, saved_.rlim_max);
    ok_ = ::setrlimit(RLIMIT_NOFILE, &lowered) == 0;
  }
  ~fd_limit_override() {
    if (ok_) (void)::setrlimit(RLIMIT_NOFILE, &saved_);
  }
  fd_limit_override(const fd_limit_override&) = delete;
  fd_limit_override& operator=(const fd_limit_override&) = delete;
  bool ok() const noexcept { return ok_; }

 private:
  rlimit saved_{};
  bool ok_ = false;
};

TEST(e2e_limits, connection_past_max_connections_waits_until_one_closes) {
  temp_dir docroot;
  const std::string content = random_bytes(512, 61);
  write_file(docroot / "file.bin", content);
  server_process server(docroot.path(), {.threads = 1, .extra = {"--max-connections", "3"}});
  const std::string request = make_request("GET", "/file.bin");

  std::vector<http_client> open;
  open.reserve(3);
  for (int i = 0; i < 3; ++i) {
    open.emplace_back(server.port());
    const auto r = open.back().request(request);
    ASSERT_EQ(r.status, 200) << "connection " << i;
  }
  // A fourth client connects (the kernel's backlog takes it) and sends its
  // request, but the server does not accept it while three are open.
  http_client waiting(server.port());
  ASSERT_TRUE(waiting.send(request));
  EXPECT_FALSE(readable_within(waiting.fd(), 500ms)) << "answered past --max-connections 3";
  // The connections already open are served meanwhile.
  const auto again = open[1].request(request);
  EXPECT_EQ(again.status, 200);
  EXPECT_TRUE(same_bytes(again.body, content));

  // One of them closes: the waiting client is accepted and answered.
  open[0].socket().reset();
  const auto r = waiting.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(same_bytes(r.body, content));
}

TEST(e2e_limits, accepting_pauses_when_descriptors_run_out_and_resumes) {
#if defined(__SANITIZE_ADDRESS__)
  // This preset's server also runs UBSan, whose vptr check probes memory
  // through a pipe(2): with no descriptor left, the probe fails and every
  // check that misses its cache reports an "invalid vptr" that is not there.
  GTEST_SKIP() << "UBSan's vptr check needs a free descriptor; the Debug run covers this";
#endif
  constexpr int clients = 60;
  constexpr rlim_t server_fd_limit = 40;  // well below `clients`
  if (raise_fd_limit(2 * clients + 256) < 2 * clients + 64) {
    GTEST_SKIP() << "RLIMIT_NOFILE cannot be raised enough for the clients";
  }
  temp_dir docroot;
  const std::string content = random_bytes(2048, 62);
  write_file(docroot / "file.bin", content);

  std::optional<server_process> server;
  {
    // The server inherits the low limit; ours is restored at once.
    fd_limit_override low(server_fd_limit);
    ASSERT_TRUE(low.ok()) << "cannot lower RLIMIT_NOFILE: " << std::strerror(errno);
    server.emplace(docroot.path(), server_options{.threads = 1, .extra = {}});
  }
  const std::string request = make_request("GET", "/file.bin");
  // Load the file into the open-file cache first: once the clients hold all
  // the descriptors, opening it would fail (and be answered with a 500).
  {
    http_client warm(server->port());
    ASSERT_EQ(warm.request(request).status, 200);
  }

  std::vector<http_client> pending;
  pending.reserve(clients);
  for (int i = 0; i < clients; ++i) {
    pending.emplace_back(server->port());
    ASSERT_TRUE(pending.back().send(request)) << "client " << i;
  }
  // More clients than the server has descriptors for: it must hit EMFILE,
  // say so, and keep going.
  ASSERT_TRUE(server->process().wait_for_stderr("Too many open files", receive_timeout))
      << "stderr:\n"
      << server->process().stderr_text();

  // Read answers as they come, closing each answered client to make room,
  // until every client has its response (bounded).
  int answered = 0;
  int answered_before_any_close = -1;
  const auto give_up = clock_type::now() + 30s;
  while (!pending.empty() && clock_type::now() < give_up) {
    std::vector<pollfd> fds;
    fds.reserve(pending.size());
    for (auto& c : pending) fds.push_back(pollfd{c.fd(), POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 200) < 0 && errno != EINTR) FAIL() << "poll failed";
    if (answered_before_any_close < 0) {
      // First pass: who was answered with no client closed yet.
      answered_before_any_close = static_cast<int>(
          std::count_if(fds.begin(), fds.end(), [](const pollfd& p) { return p.revents != 0; }));
    }
    for (std::size_t i = fds.size(); i-- > 0;) {
      if (fds[i].revents == 0) continue;
      try {
        const auto r = pending[i].read_response();
        EXPECT_EQ(r.status, 200);
        EXPECT_TRUE(same_bytes(r.body, content));
        ++answered;
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what() << "\nserver stderr:\n" << server->process().stderr_text();
      }
      pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(i));  // closes it
    }
  }
  EXPECT_EQ(answered, clients) << pending.size() << " clients never answered";
  // The connections the server had room for were served while it was out of
  // descriptors, and not all of them could be.
  EXPECT_GT(answered_before_any_close, 0);
  EXPECT_LT(answered_before_any_close, clients);

  // Still healthy afterwards.
  http_client fresh(server->port());
  const auto r = fresh.request(request);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(same_bytes(r.body, content));
}

}  // namespace
}  // namespace overlap::e2e
