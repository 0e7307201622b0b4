// End-to-end harness: a temporary docroot, the real `overlap serve` binary in
// a child process, and a small blocking HTTP client over loopback sockets.
// Every wait is bounded (SO_RCVTIMEO, poll timeouts, polling loops), so a
// misbehaving server fails a test instead of hanging it.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace overlap::e2e {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

#ifndef OVERLAP_BINARY
#error "OVERLAP_BINARY must name the overlap executable"
#endif
inline constexpr const char* overlap_binary = OVERLAP_BINARY;

// Bounds on every wait; outcomes are asserted, never durations.
inline constexpr auto startup_timeout = 10s;
inline constexpr auto exit_timeout = 15s;
inline constexpr auto receive_timeout = 5s;

// Polls `done` until it returns true or `limit` elapses.
inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit,
                       std::chrono::milliseconds step = 20ms) {
  const auto end = clock_type::now() + limit;
  for (;;) {
    if (done()) return true;
    if (clock_type::now() >= end) return false;
    std::this_thread::sleep_for(step);
  }
}

// ---------------------------------------------------------------- files

// A directory under $TMPDIR (or /tmp) removed with its contents on destruction.
class temp_dir {
 public:
  temp_dir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/overlap-e2e-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::system_error(errno, std::system_category(), "mkdtemp");
    }
    path_ = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    // Restore permissions a test may have removed so removal cannot fail.
    for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_symlink()) {
        std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::add, ec);
      }
    }
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& path, std::string_view content) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Deterministic pseudo-random bytes (a fixed seed keeps failures reproducible).
inline std::string random_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::string out(n, '\0');
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const std::uint64_t v = gen();
    std::memcpy(out.data() + i, &v, 8);
  }
  for (std::uint64_t v = gen(); i < n; ++i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out;
}

// FNV-1a 64: a short fingerprint for messages about large bodies.
inline std::uint64_t fnv1a64(std::string_view bytes) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// Full byte-for-byte comparison that reports sizes and the first difference
// instead of dumping megabytes.
inline ::testing::AssertionResult same_bytes(std::string_view got, std::string_view want) {
  if (got == want) return ::testing::AssertionSuccess();
  const auto mismatch = std::mismatch(got.begin(), got.end(), want.begin(), want.end());
  const auto at = static_cast<std::size_t>(mismatch.first - got.begin());
  std::ostringstream msg;
  msg << "bodies differ: got " << got.size() << " bytes (fnv1a64 " << std::hex << fnv1a64(got)
      << "), want " << std::dec << want.size() << " bytes (fnv1a64 " << std::hex << fnv1a64(want)
      << std::dec << "), first difference at offset " << at;
  return ::testing::AssertionFailure() << msg.str();
}

// Raises this process's RLIMIT_NOFILE soft limit (children inherit it).
// Returns the soft limit now in force.
inline rlim_t raise_fd_limit(rlim_t wanted) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (rl.rlim_cur < wanted) {
    rl.rlim_cur = std::min(wanted, rl.rlim_max);
    (void)::setrlimit(RLIMIT_NOFILE, &rl);
    (void)::getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur;
}

// ---------------------------------------------------------------- process

struct exit_result {
  bool exited = false;  // false: still running when the wait gave up
  int status = -1;      // raw waitpid status
  bool clean_exit(int code = 0) const {
    return exited && WIFEXITED(status) && WEXITSTATUS(status) == code;
  }
  std::string describe() const {
    if (!exited) return "did not exit";
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    return "raw status " + std::to_string(status);
  }
};

// Waits for `pid` for at most `limit`.
inline exit_result wait_for_exit(pid_t pid, std::chrono::milliseconds limit) {
  exit_result r;
  wait_until(
      [&] {
        int status = 0;
        const pid_t got = ::waitpid(pid, &status, WNOHANG);
        if (got == pid) {
          r.exited = true;
          r.status = status;
          return true;
        }
        return got < 0 && errno != EINTR;  // not our child any more: give up
      },
      limit, 10ms);
  return r;
}

// A child process with stdout to a file (or /dev/null) and stderr captured by
// a reader thread. The destructor stops it: SIGTERM, a bounded wait, SIGKILL.
class child_process {
 public:
  explicit child_process(std::vector<std::string> argv, std::string stdout_path = "/dev/null") {
    int err_pipe[2];
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
      throw std::system_error(errno, std::system_category(), "pipe2");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);

    // The child starts with default dispositions and nothing blocked, whatever
    // this test process did with its own signals.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (const int s : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&defaults, s);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, args[0], &actions, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(err_pipe[1]);
    if (rc != 0) {
      ::close(err_pipe[0]);
      throw std::system_error(rc, std::system_category(), "posix_spawn " + argv[0]);
    }
    reader_ = std::thread([this, fd = err_pipe[0]] { read_stderr(fd); });
  }

  ~child_process() {
    if (!reaped_) {
      if (::kill(pid_, SIGTERM) == 0) {
        if (!wait(exit_timeout).exited) {
          ::kill(pid_, SIGKILL);
          (void)wait(exit_timeout);
        }
      }
    }
    if (!reaped_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (reader_.joinable()) reader_.join();  // the pipe closes when the child is gone
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const noexcept { return pid_; }

  bool signal(int signo) const { return !reaped_ && ::kill(pid_, signo) == 0; }

  // Waits at most `limit` for the child to exit; reaps it if it did.
  exit_result wait(std::chrono::milliseconds limit) {
    if (reaped_) return last_;
    last_ = wait_for_exit(pid_, limit);
    reaped_ = last_.exited;
    return last_;
  }

  // Everything the child wrote to stderr so far.
  std::string stderr_text() const {
    std::lock_guard lock(mutex_);
    return stderr_;
  }

  // Waits at most `limit` for stderr to contain `needle`, or for stderr to
  // close. Returns whether it appeared.
  bool wait_for_stderr(std::string_view needle, std::chrono::milliseconds limit) const {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, limit,
                 [&] { return stderr_.find(needle) != std::string::npos || stderr_closed_; });
    return stderr_.find(needle) != std::string::npos;
  }

  // Waits at most `limit` for stderr to close (the child exited).
  bool wait_for_stderr_close(std::chrono::milliseconds limit) const {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, limit, [&] { return stderr_closed_; });
  }

 private:
  void read_stderr(int fd) {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      std::lock_guard lock(mutex_);
      if (n <= 0) {
        stderr_closed_ = true;
        cv_.notify_all();
        break;
      }
      stderr_.append(buf, static_cast<std::size_t>(n));
      cv_.notify_all();
    }
    ::close(fd);
  }

  pid_t pid_ = -1;
  bool reaped_ = false;
  exit_result last_{};
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  std::string stderr_;
  bool stderr_closed_ = false;
  std::thread reader_;
};

// Runs `overlap ARGS...` to completion (bounded) and returns its exit and stderr.
struct command_result {
  exit_result exit;
  std::string stderr_text;
};
inline command_result run_overlap(std::vector<std::string> args) {
  args.insert(args.begin(), overlap_binary);
  child_process child(std::move(args));
  command_result r;
  r.exit = child.wait(exit_timeout);
  child.wait_for_stderr_close(exit_timeout);
  r.stderr_text = child.stderr_text();
  return r;
}

// Every argument list must make `overlap` exit non-zero with a message on stderr.
inline void expect_rejected(const std::vector<std::vector<std::string>>& cases) {
  for (const auto& args : cases) {
    const auto r = run_overlap(args);
    std::string line;
    for (const auto& a : args) line += a + " ";
    EXPECT_TRUE(r.exit.exited && !r.exit.clean_exit(0)) << line << ": " << r.exit.describe();
    EXPECT_FALSE(r.stderr_text.empty()) << line;
  }
}

// The --model every server_process is started with, or "" for the default:
// CTest runs the suite once more per comparison model (tests/e2e/CMakeLists.txt).
inline std::string serve_model() {
  const char* model = std::getenv("OVERLAP_SERVE_MODEL");
  return model == nullptr ? std::string() : std::string(model);
}

struct server_options {
  // Words run before the binary, which they must exec, e.g. {"/usr/bin/prlimit",
  // "--nofile=64:64", "--"} (first, so designated initialisers may omit it).
  std::vector<std::string> launcher = {};
  std::string access_log = "off";  // FILE, "-" or "off"
  unsigned threads = 2;
  std::vector<std::string> extra;  // further flags, e.g. {"--autoindex"}
};

// `overlap serve DIR --port 0 --threads N --access-log LOG EXTRA...`, started
// and waited for until it reports the port it bound.
class server_process {
 public:
  explicit server_process(const std::filesystem::path& docroot, server_options options = {})
      : child_(make_argv(docroot, options)) {
    constexpr std::string_view marker = "listening on 127.0.0.1:";
    if (!child_.wait_for_stderr(marker, startup_timeout)) {
      throw std::runtime_error("overlap serve did not report its port; stderr:\n" +
                               child_.stderr_text());
    }
    const std::string text = child_.stderr_text();
    const auto at = text.find(marker) + marker.size();
    port_ = static_cast<std::uint16_t>(std::stoul(text.substr(at)));
    if (port_ == 0) throw std::runtime_error("overlap serve reported port 0");
  }

  std::uint16_t port() const noexcept { return port_; }
  child_process& process() noexcept { return child_; }
  pid_t pid() const noexcept { return child_.pid(); }

 private:
  static std::vector<std::string> make_argv(const std::filesystem::path& docroot,
                                            const server_options& o) {
    std::vector<std::string> argv = o.launcher;
    const std::vector<std::string> command{overlap_binary,
                                           "serve",
                                           docroot.string(),
                                           "--port",
                                           "0",
                                           "--threads",
                                           std::to_string(o.threads),
                                           "--access-log",
                                           o.access_log};
    argv.insert(argv.end(), command.begin(), command.end());
    if (const std::string model = serve_model(); !model.empty()) {
      argv.insert(argv.end(), {"--model", model});
    }
    argv.insert(argv.end(), o.extra.begin(), o.extra.end());
    return argv;
  }

  child_process child_;
  std::uint16_t port_ = 0;
};

// ---------------------------------------------------------------- sockets

// An owned socket fd.
class socket_fd {
 public:
  socket_fd() = default;
  explicit socket_fd(int fd) noexcept : fd_(fd) {}
  socket_fd(socket_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  socket_fd& operator=(socket_fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~socket_fd() { reset(); }
  void reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

inline void set_timeout(int fd, int option, std::chrono::milliseconds t) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(t.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof(tv));
}

// Connects to 127.0.0.1:port. `receive_buffer` > 0 shrinks SO_RCVBUF before
// connecting (so the server's sends block early). Returns an error code on failure.
inline std::pair<socket_fd, std::error_code> try_connect(std::uint16_t port,
                                                         int receive_buffer = 0) {
  socket_fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) return {socket_fd{}, std::error_code(errno, std::system_category())};
  set_timeout(s.get(), SO_RCVTIMEO, receive_timeout);
  set_timeout(s.get(), SO_SNDTIMEO, receive_timeout);
  if (receive_buffer > 0) {
    ::setsockopt(s.get(), SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(s.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return {socket_fd{}, std::error_code(errno, std::system_category())};
  }
  return {std::move(s), std::error_code{}};
}

inline socket_fd connect_to(std::uint16_t port, int receive_buffer = 0) {
  auto [s, ec] = try_connect(port, receive_buffer);
  if (ec) throw std::system_error(ec, "connect to 127.0.0.1:" + std::to_string(port));
  return std::move(s);
}

// A listening TCP socket on 127.0.0.1, inheritable (no close-on-exec), as a
// systemd socket unit holds it.
struct passed_socket {
  socket_fd fd;
  std::uint16_t port = 0;
};
inline passed_socket listening_socket() {
  passed_socket s{socket_fd(::socket(AF_INET, SOCK_STREAM, 0)), 0};
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(s.fd.get(), reinterpret_cast<sockaddr*>(&a), len) != 0 ||
      ::listen(s.fd.get(), 64) != 0 ||
      ::getsockname(s.fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    throw std::system_error(errno, std::system_category(), "listening socket");
  }
  s.port = ntohs(a.sin_port);
  return s;
}

// Words that start the server the way systemd does: `fd` as descriptor 3,
// LISTEN_FDS=`count` and LISTEN_PID=`pid` ("$$": the server's own, since
// the shell execs it).
inline std::vector<std::string> as_systemd(int fd, const std::string& count = "1",
                                           const std::string& pid = "$$") {
  return {"/bin/sh", "-c",
          "LISTEN_PID=" + pid + " LISTEN_FDS=" + count + " exec \"$@\" 3<&" + std::to_string(fd),
          "sh"};
}

// Sends all of `bytes`; false if the connection failed.
inline bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Closes with an RST instead of a FIN (SO_LINGER {1, 0}).
inline void reset_connection(socket_fd& s) {
  const linger l{1, 0};
  ::setsockopt(s.get(), SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  s.reset();
}

enum class read_end { closed, reset, timed_out, error };

inline const char* to_string(read_end e) {
  switch (e) {
    case read_end::closed:
      return "closed (EOF)";
    case read_end::reset:
      return "reset";
    case read_end::timed_out:
      return "timed out (still open)";
    case read_end::error:
      return "error";
  }
  return "?";
}

// ---------------------------------------------------------------- HTTP client

struct http_response {
  std::string status_line;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string head;  // raw bytes up to and including the blank line
  std::string body;

  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return std::nullopt;
  }
  std::size_t header_count(std::string_view name) const {
    return static_cast<std::size_t>(std::count_if(headers.begin(), headers.end(),
                                                  [&](const auto& h) { return h.first == name; }));
  }
};

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A blocking HTTP/1.1 client on one connection; reads are bounded by SO_RCVTIMEO.
class http_client {
 public:
  explicit http_client(std::uint16_t port, int receive_buffer = 0)
      : socket_(connect_to(port, receive_buffer)) {}
  explicit http_client(socket_fd s) : socket_(std::move(s)) {}

  int fd() const noexcept { return socket_.get(); }
  socket_fd& socket() noexcept { return socket_; }

  bool send(std::string_view bytes) { return send_all(socket_.get(), bytes); }

  // Reads one response; `head_only` for a response to HEAD (no body follows).
  // Throws std::runtime_error when the connection ends or times out first.
  http_response read_response(bool head_only = false) {
    http_response r;
    std::size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) fill_or_throw("response head");
    r.head = buffer_.substr(0, end + 4);
    buffer_.erase(0, end + 4);
    parse_head(r);
    if (head_only || r.status == 304 || r.status == 204 || (r.status >= 100 && r.status < 200)) {
      return r;
    }
    if (const auto te = r.header("transfer-encoding");
        te && lower(*te).find("chunked") != std::string::npos) {
      read_chunked(r.body);
    } else if (const auto cl = r.header("content-length")) {
      const std::size_t n = std::stoull(*cl);
      while (buffer_.size() < n) fill_or_throw("response body");
      r.body = buffer_.substr(0, n);
      buffer_.erase(0, n);
    } else {
      // Delimited by close.
      while (fill() > 0) {
      }
      r.body = std::move(buffer_);
      buffer_.clear();
    }
    return r;
  }

  http_response request(std::string_view bytes, bool head_only = false) {
    if (!send(bytes)) throw std::runtime_error("send failed: " + std::string(std::strerror(errno)));
    return read_response(head_only);
  }

  // Reads (and keeps in the buffer) until the peer closes, resets, or the
  // receive timeout passes. Returns how it ended.
  read_end read_until_end() {
    for (;;) {
      const ssize_t n = fill();
      if (n > 0) continue;
      if (n == 0) return read_end::closed;
      if (last_errno_ == ECONNRESET) return read_end::reset;
      if (last_errno_ == EAGAIN || last_errno_ == EWOULDBLOCK) return read_end::timed_out;
      return read_end::error;
    }
  }

  // Reads at most `n` more bytes into the buffer; returns what recv returned.
  ssize_t read_some(std::size_t n) { return fill(n); }

  std::string& buffer() noexcept { return buffer_; }

 private:
  ssize_t fill(std::size_t max = 256 * 1024) {
    char chunk[64 * 1024];
    for (;;) {
      const ssize_t n = ::recv(socket_.get(), chunk, std::min(max, sizeof(chunk)), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) last_errno_ = errno;
      if (n > 0) buffer_.append(chunk, static_cast<std::size_t>(n));
      return n;
    }
  }

  void fill_or_throw(const char* what) {
    const ssize_t n = fill();
    if (n > 0) return;
    std::string why = n == 0 ? "connection closed" : std::strerror(last_errno_);
    throw std::runtime_error(std::string("while reading ") + what + ": " + why +
                             " (received so far: " + std::to_string(buffer_.size()) +
                             " bytes: " + buffer_.substr(0, 200) + ")");
  }

  void parse_head(http_response& r) {
    const std::string& h = r.head;
    std::size_t eol = h.find("\r\n");
    r.status_line = h.substr(0, eol);
    if (r.status_line.rfind("HTTP/1.", 0) != 0 || r.status_line.size() < 12) {
      throw std::runtime_error("bad status line: " + r.status_line);
    }
    r.status = std::stoi(r.status_line.substr(9, 3));
    std::size_t pos = eol + 2;
    while (pos < h.size()) {
      const std::size_t next = h.find("\r\n", pos);
      if (next == pos) break;
      const std::string line = h.substr(pos, next - pos);
      const std::size_t colon = line.find(':');
      if (colon == std::string::npos) throw std::runtime_error("bad header line: " + line);
      std::string value = line.substr(colon + 1);
      const auto first = value.find_first_not_of(" \t");
      const auto last = value.find_last_not_of(" \t");
      value = first == std::string::npos ? "" : value.substr(first, last - first + 1);
      r.headers.emplace_back(lower(line.substr(0, colon)), std::move(value));
      pos = next + 2;
    }
  }

  void read_chunked(std::string& body) {
    for (;;) {
      std::size_t eol;
      while ((eol = buffer_.find("\r\n")) == std::string::npos) fill_or_throw("chunk size");
      const std::size_t size = std::stoull(buffer_.substr(0, eol), nullptr, 16);
      buffer_.erase(0, eol + 2);
      if (size == 0) {
        // Trailer section ends with an empty line.
        while ((eol = buffer_.find("\r\n")) == std::string::npos) fill_or_throw("trailer");
        while (eol != 0) {
          buffer_.erase(0, eol + 2);
          while ((eol = buffer_.find("\r\n")) == std::string::npos) fill_or_throw("trailer");
        }
        buffer_.erase(0, 2);
        return;
      }
      while (buffer_.size() < size + 2) fill_or_throw("chunk");
      body.append(buffer_, 0, size);
      buffer_.erase(0, size + 2);
    }
  }

  socket_fd socket_;
  std::string buffer_;
  int last_errno_ = 0;
};

// "GET /path HTTP/1.1" with Host and any extra header lines ("Name: value\r\n").
inline std::string make_request(std::string_view method, std::string_view target,
                                std::string_view extra_headers = {}) {
  std::string r;
  r.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: localhost\r\n");
  r.append(extra_headers);
  r.append("\r\n");
  return r;
}

}  // namespace overlap::e2e
