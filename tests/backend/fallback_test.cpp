// Backend choice: with io_uring blocked the way container seccomp profiles
// block it, a proactor for which no backend was named falls back to the epoll
// emulation and says why; one that names io_uring fails with a clear error.
// Each case runs in a forked child, since a seccomp filter cannot be removed.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <functional>
#include <string>
#include <system_error>

#include "block_io_uring.hpp"
#include "overlap/proactor.hpp"
#include "overlap/timer.hpp"

namespace {

// Runs body in a child with io_uring blocked; returns the child's exit
// status (body's return value), 100 if the filter could not be installed.
int with_io_uring_blocked(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::unsetenv("OVERLAP_BACKEND");
    if (!overlap_test::block_io_uring()) ::_exit(100);
    int rc = 99;
    try {
      rc = body();
    } catch (...) {
      rc = 98;
    }
    ::_exit(rc);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

TEST(backend_choice, blocked_io_uring_falls_back_to_epoll_and_says_why) {
  const int rc = with_io_uring_blocked([] {
    overlap::proactor p;
    if (std::string(p.backend_name()) != "epoll") return 1;
    if (p.backend_fallback_reason().find("io_uring") == std::string::npos) return 2;
    // And the fallback does the work: a timer completes through it.
    overlap::timer t(p);
    bool fired = false;
    t.async_wait(std::chrono::milliseconds(1), [&](std::error_code ec) { fired = !ec; });
    p.run();
    return fired ? 0 : 3;
  });
  if (rc == 100) GTEST_SKIP() << "cannot install a seccomp filter here";
  EXPECT_EQ(rc, 0) << "1: not epoll, 2: no reason given, 3: timer did not fire, 98/99: threw";
}

TEST(backend_choice, naming_a_blocked_io_uring_is_a_clear_error) {
  const int rc = with_io_uring_blocked([] {
    overlap::proactor_options o;
    o.backend = "io_uring";
    try {
      overlap::proactor p(o);
    } catch (const std::system_error& e) {
      return std::string(e.what()).find("io_uring is disabled") != std::string::npos ? 0 : 2;
    }
    return 1;
  });
  if (rc == 100) GTEST_SKIP() << "cannot install a seccomp filter here";
  EXPECT_EQ(rc, 0) << "1: no error, 2: error without the reason";
}

TEST(backend_choice, epoll_can_be_named) {
  overlap::proactor_options o;
  o.backend = "epoll";
  overlap::proactor p(o);
  EXPECT_STREQ(p.backend_name(), "epoll");
  EXPECT_TRUE(p.backend_fallback_reason().empty());
}

}  // namespace
