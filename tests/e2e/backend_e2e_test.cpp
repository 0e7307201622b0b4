// `overlap serve` on either backend: where io_uring is blocked (a seccomp
// filter, as in a container) it starts on epoll, says so, and serves;
// --backend chooses one explicitly, and naming io_uring where it is blocked
// is a clear start-up error.
#include <unistd.h>

#include "server_process.hpp"

namespace overlap::e2e {
namespace {

std::vector<std::string> without_io_uring() {
  return {WITHOUT_IO_URING_BINARY};
}

TEST(e2e_backend, serve_falls_back_to_epoll_where_io_uring_is_blocked) {
  temp_dir docroot;
  const std::string content = random_bytes(300'000, 71);  // sent with sendfile
  write_file(docroot / "file.bin", content);
  server_process server(docroot.path(),
                        {.launcher = without_io_uring(), .threads = 1, .extra = {}});
  EXPECT_TRUE(server.process().wait_for_stderr("io_uring is not available", receive_timeout))
      << server.process().stderr_text();
  EXPECT_NE(server.process().stderr_text().find("thread (epoll)"), std::string::npos)
      << server.process().stderr_text();
  http_client client(server.port());
  const auto r = client.request(make_request("GET", "/file.bin"));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body == content) << "body of " << r.body.size() << " bytes differs";
  ASSERT_TRUE(server.process().signal(SIGTERM));
  const exit_result e = server.process().wait(exit_timeout);
  EXPECT_TRUE(e.clean_exit()) << e.describe() << "\n" << server.process().stderr_text();
}

TEST(e2e_backend, serve_backend_epoll_is_chosen_without_a_fallback_notice) {
  temp_dir docroot;
  write_file(docroot / "a.txt", "epoll\n");
  server_process server(docroot.path(), {.threads = 1, .extra = {"--backend", "epoll"}});
  http_client client(server.port());
  EXPECT_EQ(client.request(make_request("GET", "/a.txt")).body, "epoll\n");
  const std::string err = server.process().stderr_text();
  EXPECT_NE(err.find("thread (epoll)"), std::string::npos) << err;
  EXPECT_EQ(err.find("not available"), std::string::npos) << err;
}

TEST(e2e_backend, naming_a_blocked_io_uring_fails_with_the_reason) {
  temp_dir docroot;
  child_process child({WITHOUT_IO_URING_BINARY, overlap_binary, "serve", docroot.path().string(),
                       "--port", "0", "--threads", "1", "--backend", "io_uring"});
  const exit_result e = child.wait(exit_timeout);
  child.wait_for_stderr_close(exit_timeout);
  EXPECT_TRUE(e.exited && !e.clean_exit()) << e.describe();
  EXPECT_NE(child.stderr_text().find("io_uring is disabled"), std::string::npos)
      << child.stderr_text();
}

TEST(e2e_backend, bad_backend_name_is_rejected) {
  const command_result r = run_overlap({"serve", "--backend", "kqueue"});
  EXPECT_TRUE(r.exit.exited && !r.exit.clean_exit()) << r.exit.describe();
  EXPECT_NE(r.stderr_text.find("--backend"), std::string::npos) << r.stderr_text;
}

}  // namespace
}  // namespace overlap::e2e
