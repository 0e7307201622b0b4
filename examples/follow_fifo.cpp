// Reads lines from a FIFO that another program writes, the way a library
// that does its own I/O lives on a proactor: descriptor_watch says when the
// descriptor is readable, and the program reads it itself, never blocking
// the loop. Both handlers are handler objects (the paper's "callback
// class"): one object receives the readiness and the timer's completions.
//
//   mkfifo /tmp/f && follow_fifo /tmp/f &  printf 'one\ntwo\n' > /tmp/f
//
// Prints "line: …" for each line, "tick: N lines" every second while it
// waits, and "eof: N lines" when the last writer closes; then exits 0.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>

#include "overlap/descriptor_watch.hpp"
#include "overlap/handler.hpp"
#include "overlap/proactor.hpp"
#include "overlap/timer.hpp"

namespace {

using namespace std::chrono_literals;

class follower final : public overlap::readiness_handler, public overlap::timer_handler {
 public:
  follower(overlap::proactor& p, int fd) : proactor_(p), fd_(fd), watch_(p, fd), tick_(p) {}

  void start() {
    watch_.async_wait(overlap::readiness::readable, *this);
    tick_.async_wait(1s, *this);
  }

  int exit_code() const noexcept { return exit_code_; }

  void on_ready(std::error_code ec, unsigned) override {
    if (ec) return finish(ec.message().c_str(), 1);
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n > 0) {
        take(std::string_view(buf, static_cast<std::size_t>(n)));
        continue;
      }
      if (n == 0) return finish("eof", 0);  // every writer has closed
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;  // drained: wait for the next write
      return finish(std::strerror(errno), 1);
    }
    watch_.async_wait(overlap::readiness::readable, *this);
  }

  void on_timer_complete(std::error_code ec) override {
    if (ec) return;  // cancelled by finish()
    std::printf("tick: %zu lines\n", lines_);
    std::fflush(stdout);
    tick_.async_wait(1s, *this);
  }

 private:
  void take(std::string_view data) {
    for (const char c : data) {
      if (c != '\n') {
        partial_.push_back(c);
        continue;
      }
      std::printf("line: %s\n", partial_.c_str());
      partial_.clear();
      ++lines_;
    }
    std::fflush(stdout);
  }

  void finish(const char* why, int code) {
    if (!partial_.empty()) take("\n");  // a last line without its newline
    std::printf("%s: %zu lines\n", why, lines_);
    std::fflush(stdout);
    exit_code_ = code;
    tick_.cancel();
    proactor_.stop();
  }

  overlap::proactor& proactor_;
  int fd_;
  overlap::descriptor_watch watch_;
  overlap::timer tick_;
  std::string partial_;
  std::size_t lines_ = 0;
  int exit_code_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: follow_fifo PATH   (PATH: a FIFO, see mkfifo(1))\n");
    return 2;
  }
  // Non-blocking: opening a FIFO for reading does not wait for a writer, and
  // no read can ever block the loop.
  const int fd = ::open(argv[1], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    std::fprintf(stderr, "follow_fifo: %s: %s\n", argv[1], std::strerror(errno));
    return 1;
  }
  int code = 1;
  try {
    overlap::proactor p;
    follower f(p, fd);
    f.start();
    std::fprintf(stderr, "following %s\n", argv[1]);
    p.run();
    code = f.exit_code();
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "follow_fifo: %s\n", e.what());
  }
  ::close(fd);
  return code;
}
