// async_openat2, async_statx and async_read_at: opening, describing and
// reading files as operations on the proactor (IORING_OP_OPENAT2, _STATX,
// _READ), with the callable and the coroutine forms.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <thread>

#include "backend/loopback.hpp"
#include "overlap/file.hpp"
#include "overlap/proactor.hpp"
#include "overlap/task.hpp"

namespace {

using overlap_test::unique_fd;

class temp_tree {
 public:
  temp_tree() {
    char tmpl[] = "/tmp/overlap-file-ops-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::system_error(errno, std::system_category());
    root_ = tmpl;
    std::filesystem::create_directory(root_ / "docs");
    dir_ = unique_fd(::open((root_ / "docs").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  }
  ~temp_tree() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  void write(const std::string& rel, const std::string& bytes) const {
    std::ofstream(root_ / rel, std::ios::binary) << bytes;
  }
  const std::filesystem::path& root() const { return root_; }
  int dir() const { return dir_.get(); }

 private:
  std::filesystem::path root_;
  unique_fd dir_;
};

open_how read_only_beneath() {
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return how;
}

// Runs one openat2 with a callable and returns (ec, fd).
std::pair<std::error_code, int> open_once(overlap::proactor& p, int dir, const char* path) {
  const open_how how = read_only_beneath();
  std::error_code result;
  int fd = -1;
  int calls = 0;
  overlap::async_openat2(p, dir, path, how, [&](std::error_code ec, std::size_t n) {
    ++calls;
    result = ec;
    if (!ec) fd = static_cast<int>(n);
  });
  EXPECT_EQ(calls, 0) << "the handler ran inside the initiating call";
  p.run();
  EXPECT_EQ(calls, 1);
  return {result, fd};
}

TEST(file_ops, callable_form_opens_describes_and_reads_a_file) {
  temp_tree t;
  const std::string content = overlap_test::pattern(10000, 3);
  t.write("docs/a.bin", content);
  overlap::proactor p;

  auto [ec, fd] = open_once(p, t.dir(), "a.bin");
  ASSERT_FALSE(ec) << ec.message();
  unique_fd file(fd);

  struct statx sx {};
  std::error_code stat_ec = std::make_error_code(std::errc::io_error);
  overlap::async_statx(p, file.get(), sx, [&](std::error_code e, std::size_t) { stat_ec = e; });
  p.restart();
  p.run();
  ASSERT_FALSE(stat_ec) << stat_ec.message();
  EXPECT_TRUE(S_ISREG(sx.stx_mode));
  EXPECT_EQ(sx.stx_size, content.size());
  struct stat st {};
  ASSERT_EQ(::fstat(file.get(), &st), 0);
  EXPECT_EQ(sx.stx_ino, st.st_ino);

  std::string got(content.size(), '\0');
  std::size_t read = 0;
  std::error_code read_ec = std::make_error_code(std::errc::io_error);
  overlap::async_read_at(p, file.get(), got, 0, [&](std::error_code e, std::size_t n) {
    read_ec = e;
    read = n;
  });
  p.restart();
  p.run();
  ASSERT_FALSE(read_ec) << read_ec.message();
  EXPECT_EQ(read, content.size());
  EXPECT_TRUE(got == content);
}

overlap::task<void> read_tail(overlap::proactor& p, int dir, std::string& out,
                              std::error_code& result) {
  const open_how how = read_only_beneath();
  auto [ec, fd] = co_await overlap::async_openat2(p, dir, "b.txt", how, overlap::use_awaitable);
  if (ec) {
    result = ec;
    co_return;
  }
  unique_fd file(static_cast<int>(fd));
  // Ask for more than is left after offset 4: a short read at end of file.
  std::string buf(64, '\0');
  auto [rec, n] = co_await overlap::async_read_at(p, file.get(), buf, 4, overlap::use_awaitable);
  result = rec;
  out = buf.substr(0, n);
}

TEST(file_ops, coroutine_form_reads_from_an_offset_and_stops_at_end_of_file) {
  temp_tree t;
  t.write("docs/b.txt", "0123456789");
  overlap::proactor p;
  std::string out;
  std::error_code ec = std::make_error_code(std::errc::io_error);
  overlap::spawn(p, read_tail(p, t.dir(), out, ec));
  p.run();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(out, "456789");
}

TEST(file_ops, missing_file_reports_no_such_file_or_directory) {
  temp_tree t;
  overlap::proactor p;
  auto [ec, fd] = open_once(p, t.dir(), "missing.txt");
  EXPECT_EQ(ec, std::errc::no_such_file_or_directory) << ec.message();
  EXPECT_EQ(fd, -1);
}

TEST(file_ops, resolve_beneath_refuses_dot_dot_and_symlink_escapes) {
  temp_tree t;
  t.write("secret.txt", "outside the directory");
  std::filesystem::create_symlink(t.root() / "secret.txt", t.root() / "docs" / "link.txt");
  overlap::proactor p;
  for (const char* path : {"../secret.txt", "link.txt"}) {
    auto [ec, fd] = open_once(p, t.dir(), path);
    if (fd >= 0) ::close(fd);
    EXPECT_EQ(ec.value(), EXDEV) << path << ": " << ec.message();
    p.restart();
  }
}

TEST(file_ops, statx_at_describes_a_path_and_follows_symlinks_unless_told_not_to) {
  temp_tree t;
  t.write("docs/c.txt", "12345");
  std::filesystem::create_symlink("c.txt", t.root() / "docs" / "to-c");
  overlap::proactor p;
  struct statx file {
  }, via_link{}, link_itself{}, missing{};
  std::error_code e1, e2, e3, e4;
  overlap::async_statx_at(p, t.dir(), "c.txt", 0, file,
                          [&](std::error_code e, std::size_t) { e1 = e; });
  overlap::async_statx_at(p, t.dir(), "to-c", 0, via_link,
                          [&](std::error_code e, std::size_t) { e2 = e; });
  overlap::async_statx_at(p, t.dir(), "to-c", AT_SYMLINK_NOFOLLOW, link_itself,
                          [&](std::error_code e, std::size_t) { e3 = e; });
  overlap::async_statx_at(p, t.dir(), "nope", 0, missing,
                          [&](std::error_code e, std::size_t) { e4 = e; });
  p.run();
  ASSERT_FALSE(e1) << e1.message();
  ASSERT_FALSE(e2) << e2.message();
  ASSERT_FALSE(e3) << e3.message();
  EXPECT_TRUE(S_ISREG(file.stx_mode));
  EXPECT_EQ(file.stx_size, 5u);
  EXPECT_EQ(via_link.stx_ino, file.stx_ino);
  EXPECT_TRUE(S_ISLNK(link_itself.stx_mode));
  EXPECT_EQ(e4, std::errc::no_such_file_or_directory) << e4.message();
}

TEST(file_ops, read_of_a_large_file_is_complete) {
  temp_tree t;
  const std::string content = overlap_test::pattern(3u << 20, 9);
  t.write("docs/big.bin", content);
  overlap::proactor p;
  auto [ec, fd] = open_once(p, t.dir(), "big.bin");
  ASSERT_FALSE(ec) << ec.message();
  unique_fd file(fd);
  std::string got(content.size(), '\0');
  std::size_t read = 0;
  overlap::async_read_at(p, file.get(), got, 0, [&](std::error_code e, std::size_t n) {
    EXPECT_FALSE(e) << e.message();
    read = n;
  });
  p.restart();
  p.run();
  EXPECT_EQ(read, content.size());
  EXPECT_TRUE(got == content) << "bytes differ";
}

// The epoll backend writes files on its thread pool. A file closed while such
// a write still runs keeps its descriptor until the write returns, so the
// number cannot be reused under the worker; the write then completes with
// its own result, all of it delivered.
TEST(file_ops, closing_during_a_pool_write_defers_the_close_until_it_returns) {
  overlap::proactor p;
  if (overlap_test::uses_io_uring(p)) {
    GTEST_SKIP() << "io_uring writes files in the kernel and cancels them on close";
  }
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  unique_fd read_end(fds[0]);
  const std::string data = overlap_test::pattern(1u << 20, 3);  // far more than a pipe holds
  overlap::file f(p);
  f.adopt(fds[1]);
  int calls = 0;
  std::error_code result;
  std::size_t written = 0;
  f.async_write(data, [&](std::error_code ec, std::size_t n) {
    ++calls;
    result = ec;
    written = n;
  });
  f.close();
  EXPECT_NE(::fcntl(fds[1], F_GETFD), -1) << "closed while the write was running";
  std::string got;
  std::thread reader([&] {
    char buf[65536];
    for (;;) {
      const ssize_t n = ::read(read_end.get(), buf, sizeof(buf));
      if (n <= 0) break;  // end of file: the deferred close happened
      got.append(buf, static_cast<std::size_t>(n));
    }
  });
  p.run();
  reader.join();
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(result) << result.message();
  EXPECT_EQ(written, data.size());
  EXPECT_TRUE(got == data) << "the reader got " << got.size() << " bytes";
  EXPECT_EQ(::fcntl(fds[1], F_GETFD), -1) << "the write end was never closed";
}

}  // namespace
