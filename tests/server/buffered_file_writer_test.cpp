// buffered_file_writer: what reaches the file when the writer is destroyed
// with a write in flight (a forced stop destroys the shards, and with them
// the access log, before the proactor).
#include "buffered_file_writer.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  std::uint32_t x = 2463534242u;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>('a' + x % 26);
  }
  return s;
}

int bytes_queued(int fd) {
  int n = 0;
  return ::ioctl(fd, FIONREAD, &n) == 0 ? n : -1;
}

// The epoll backend writes files from a pool thread with a blocking write():
// on a FIFO nobody reads, that write copies what fits and then waits inside
// the kernel, still reading from the writer's buffer.
TEST(buffered_file_writer, a_write_in_flight_when_the_writer_goes_sends_only_the_writers_bytes) {
  char dir_template[] = "/tmp/overlap-bfw-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::filesystem::path dir(dir_template);
  const std::string fifo = (dir / "log").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);

  // Below glibc's mmap threshold, so a freed buffer stays mapped and is
  // handed out again: without the fix the pool thread then copies other data.
  const std::string data = pattern(100 * 1024);
  std::string received;
  {
    overlap::proactor_options options;
    options.backend = "epoll";
    overlap::proactor p(options);
    auto writer =
        std::make_unique<overlap::server::buffered_file_writer>(p, fifo, "test log", 1, 1 << 20);
    writer->buffer() = data;
    writer->flush();
    // Wait until the pipe is full: the pool thread is blocked mid-write.
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    int queued = 0;
    while ((queued = bytes_queued(reader)) < 65536 && std::chrono::steady_clock::now() < give_up) {
      ::usleep(1000);
    }
    ASSERT_GE(queued, 65536) << "the write did not fill the pipe";
    writer.reset();
    // Allocations the size of the freed buffer, written over, as the rest of
    // a process would go on doing.
    std::vector<std::string> others;
    for (int i = 0; i < 8; ++i) others.emplace_back(data.size() + 1, 'X');

    // Drain the FIFO: the pool thread's write goes on to the end.
    char buf[65536];
    for (auto end = std::chrono::steady_clock::now() + 10s;
         received.size() < data.size() && std::chrono::steady_clock::now() < end;) {
      pollfd pfd{reader, POLLIN, 0};
      if (::poll(&pfd, 1, 100) <= 0) continue;
      const ssize_t n = ::read(reader, buf, sizeof buf);
      if (n <= 0) break;
      received.append(buf, static_cast<std::size_t>(n));
    }
  }  // the proactor joins its pool threads
  ::close(reader);
  std::filesystem::remove_all(dir);
  ASSERT_EQ(received.size(), data.size());
  EXPECT_TRUE(received == data) << "the FIFO received bytes the writer never wrote";
}

}  // namespace
