// The programs in examples/ do what their comments say: the coroutine echo
// server echoes and stops on SIGTERM with status 0; follow_fifo prints the
// lines a writer puts into a FIFO and exits 0 when the writer closes. (Run
// once per backend, like the rest of this suite.)
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "blocking_io.hpp"
#include "e2e/server_process.hpp"

namespace overlap::e2e {
namespace {

TEST(e2e_examples, echo_server_echoes_and_stops_on_sigterm) {
  child_process server({EXAMPLE_ECHO_SERVER, "0"});
  constexpr std::string_view marker = "listening on 127.0.0.1:";
  ASSERT_TRUE(server.wait_for_stderr(marker, startup_timeout)) << server.stderr_text();
  const std::string text = server.stderr_text();
  const auto port =
      static_cast<std::uint16_t>(std::stoul(text.substr(text.find(marker) + marker.size())));
  std::vector<socket_fd> conns;
  for (int i = 0; i < 3; ++i) conns.push_back(connect_to(port));
  std::uint64_t seed = 7;
  for (const std::size_t size : {1u, 4096u, 100'000u}) {
    for (auto& c : conns) {
      const std::string msg = random_bytes(size, seed++);
      ASSERT_TRUE(send_all(c.get(), msg));
      EXPECT_TRUE(same_bytes(overlap_test::read_exact_blocking(c.get(), msg.size()), msg))
          << size << " bytes";
    }
  }
  ASSERT_TRUE(server.signal(SIGTERM));  // with the connections still open
  const exit_result exit = server.wait(exit_timeout);
  EXPECT_TRUE(exit.clean_exit(0)) << exit.describe() << "\n" << server.stderr_text();
  server.wait_for_stderr_close(exit_timeout);  // its last line may still be in the pipe
  EXPECT_NE(server.stderr_text().find("stopped"), std::string::npos) << server.stderr_text();
}

TEST(e2e_examples, echo_server_refuses_a_bad_port) {
  for (const char* port : {"70000", "-1", "80x", ""}) {
    child_process bad({EXAMPLE_ECHO_SERVER, port});
    const exit_result exit = bad.wait(exit_timeout);
    EXPECT_TRUE(exit.exited && !exit.clean_exit(0)) << port << ": " << exit.describe();
    bad.wait_for_stderr_close(exit_timeout);
    EXPECT_NE(bad.stderr_text().find("usage"), std::string::npos) << bad.stderr_text();
  }
}

TEST(e2e_examples, follow_fifo_prints_each_line_until_the_writer_closes) {
  temp_dir dir;
  const auto fifo = dir / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  child_process follower({EXAMPLE_FOLLOW_FIFO, fifo.string()}, (dir / "stdout").string());
  ASSERT_TRUE(follower.wait_for_stderr("following", startup_timeout)) << follower.stderr_text();
  // The reader has the FIFO open: this open does not wait.
  const int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(w, 0) << std::strerror(errno);
  for (const char* part : {"one\ntw", "o\n", "three"}) {  // lines split across writes
    ASSERT_EQ(::write(w, part, std::strlen(part)), static_cast<ssize_t>(std::strlen(part)));
  }
  ::close(w);
  const exit_result exit = follower.wait(exit_timeout);
  EXPECT_TRUE(exit.clean_exit(0)) << exit.describe() << "\n" << follower.stderr_text();
  const std::string out = read_file(dir / "stdout");
  EXPECT_NE(out.find("line: one\nline: two\nline: three\neof: 3 lines\n"), std::string::npos)
      << out;
}

}  // namespace
}  // namespace overlap::e2e
