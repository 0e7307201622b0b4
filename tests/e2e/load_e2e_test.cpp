// Many connections at once: idle ones do not starve new ones, and clients that
// reset mid-download do not disturb the others or the server.
#include <atomic>
#include <thread>

#include "e2e/server_process.hpp"

namespace overlap::e2e {
namespace {

constexpr int idle_connections = 2000;

TEST(e2e_load, new_request_is_answered_while_2000_connections_sit_idle) {
#if defined(__SANITIZE_THREAD__)
  // A thread per connection accepts in order and starts a thread for each;
  // under ThreadSanitizer 2,000 thread starts can keep the fresh connection
  // in the accept queue past the client's receive bound.
  if (serve_model() == "threads") {
    GTEST_SKIP() << "2,000 thread starts under TSan; the Debug and ASan runs cover this model";
  }
#endif
  // Room for our 2,000 sockets and, inherited by the server, for its own.
  const rlim_t limit = raise_fd_limit(idle_connections * 2 + 512);
  if (limit < static_cast<rlim_t>(idle_connections + 256)) {
    GTEST_SKIP() << "RLIMIT_NOFILE cannot be raised enough (soft limit " << limit << ")";
  }
  temp_dir docroot;
  const std::string content = random_bytes(1024, 51);
  write_file(docroot / "file.bin", content);
  // Long timeouts: the idle connections must still be open when we ask. An
  // explicit connection limit: the default one may be lowered to what the
  // descriptor limit leaves after the open-file caches' reserve.
  server_process server(docroot.path(),
                        {.extra = {"--header-timeout", "60", "--keepalive-timeout", "60",
                                   "--max-connections", std::to_string(idle_connections + 100)}});

  std::vector<socket_fd> idle;
  idle.reserve(idle_connections);
  for (int i = 0; i < idle_connections; ++i) {
    auto [s, ec] = try_connect(server.port());
    ASSERT_FALSE(ec) << "connection " << i << ": " << ec.message();
    // Half send nothing, half send the start of a request head.
    if (i % 2 == 1) {
      ASSERT_TRUE(send_all(s.get(), "GET /file.bin HTTP/1.1\r\nHost: loc"));
    }
    idle.push_back(std::move(s));
  }

  http_client fresh(server.port());
  const auto r = fresh.request(make_request("GET", "/file.bin"));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(same_bytes(r.body, content));

  // A sample of the idle connections is still served once it completes its request.
  for (int i : {1, 999, 1999}) {
    http_client late(std::move(idle[static_cast<std::size_t>(i)]));
    ASSERT_TRUE(late.send("alhost\r\n\r\n"));
    const auto lr = late.read_response();
    EXPECT_EQ(lr.status, 200) << "idle connection " << i;
    EXPECT_TRUE(same_bytes(lr.body, content)) << "idle connection " << i;
  }
}

TEST(e2e_load, clients_resetting_mid_download_do_not_disturb_full_downloads) {
  constexpr int resetting_clients = 50;
  constexpr int full_clients = 5;
  temp_dir docroot;
  const std::string content = random_bytes(16u << 20, 52);
  write_file(docroot / "big.bin", content);
  server_process server(docroot.path());

  std::vector<std::string> full_failures(full_clients);
  std::vector<std::thread> downloaders;
  for (int i = 0; i < full_clients; ++i) {
    downloaders.emplace_back([&, i] {
      try {
        http_client client(server.port());
        const auto r = client.request(make_request("GET", "/big.bin"));
        if (r.status != 200) {
          full_failures[static_cast<std::size_t>(i)] = "status " + std::to_string(r.status);
        } else if (auto same = same_bytes(r.body, content); !same) {
          full_failures[static_cast<std::size_t>(i)] = same.message();
        }
      } catch (const std::exception& e) {
        full_failures[static_cast<std::size_t>(i)] = e.what();
      }
    });
  }

  std::atomic<int> resets_sent{0};
  std::string reset_failure;
  std::thread resetter([&] {
    try {
      for (int i = 0; i < resetting_clients; ++i) {
        http_client client(server.port());
        if (!client.send(make_request("GET", "/big.bin"))) throw std::runtime_error("send failed");
        // Read a little of the response, then abort the connection.
        const std::size_t want = 1024 + static_cast<std::size_t>(i) * 4096;
        while (client.buffer().size() < want) {
          if (client.read_some(want - client.buffer().size()) <= 0) {
            throw std::runtime_error("response ended after " +
                                     std::to_string(client.buffer().size()) + " bytes");
          }
        }
        reset_connection(client.socket());
        resets_sent.fetch_add(1);
      }
    } catch (const std::exception& e) {
      reset_failure = e.what();
    }
  });

  resetter.join();
  for (auto& t : downloaders) t.join();
  EXPECT_EQ(reset_failure, "");
  EXPECT_EQ(resets_sent.load(), resetting_clients);
  for (int i = 0; i < full_clients; ++i) {
    EXPECT_EQ(full_failures[static_cast<std::size_t>(i)], "") << "full download " << i;
  }

  // Still up, and still serving.
  EXPECT_FALSE(server.process().wait(0ms).exited) << server.process().stderr_text();
  http_client after(server.port());
  const auto r = after.request(make_request("GET", "/big.bin"));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(same_bytes(r.body, content));
}

}  // namespace
}  // namespace overlap::e2e
