// Test helpers: connected loopback socket pairs, blocking peers and fd
// accounting. Everything binds 127.0.0.1 (or ::1) on port 0.
#pragma once

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "blocking_io.hpp"
#include "overlap/endpoint.hpp"
#include "overlap/proactor.hpp"
#include "overlap/tcp_stream.hpp"

namespace overlap_test {

// The suite runs once per backend (OVERLAP_BACKEND); counters such as
// busy_polls and enobufs exist only where io_uring does the work.
inline bool uses_io_uring(const overlap::proactor& p) {
  return std::strcmp(p.backend_name(), "io_uring") == 0;
}

// An owned raw descriptor (for blocking peers that are not overlap objects).
class unique_fd {
 public:
  unique_fd() = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~unique_fd() { reset(); }
  int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset() noexcept {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }

 private:
  int fd_ = -1;
};

inline void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    throw std::system_error(errno, std::system_category(), "fcntl(O_NONBLOCK)");
  }
}

inline overlap::endpoint loopback(int family, std::uint16_t port = 0) {
  return *overlap::endpoint::parse(family == AF_INET6 ? "::1" : "127.0.0.1", port);
}

// Whether ::1 can be bound on this machine (IPv6 may be disabled).
inline bool ipv6_loopback_available() {
  unique_fd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return false;
  const overlap::endpoint ep = loopback(AF_INET6);
  return ::bind(fd.get(), ep.data(), ep.size()) == 0;
}

// A connected TCP pair made with blocking system calls, so tests need not run
// the proactor to set up: {client, server}, both blocking.
inline std::pair<unique_fd, unique_fd> raw_pair(int family = AF_INET) {
  unique_fd listener(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (listener.get() < 0) throw std::system_error(errno, std::system_category(), "socket");
  const overlap::endpoint ep = loopback(family);
  if (::bind(listener.get(), ep.data(), ep.size()) != 0 || ::listen(listener.get(), 1) != 0) {
    throw std::system_error(errno, std::system_category(), "bind/listen");
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&ss), &len);
  unique_fd client(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (::connect(client.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    throw std::system_error(errno, std::system_category(), "connect");
  }
  unique_fd server(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (server.get() < 0) throw std::system_error(errno, std::system_category(), "accept4");
  const int one = 1;
  ::setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  ::setsockopt(server.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return {std::move(client), std::move(server)};
}

// A blocking client socket connected to ep.
inline unique_fd blocking_connect(const overlap::endpoint& ep) {
  unique_fd fd(::socket(ep.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (::connect(fd.get(), ep.data(), ep.size()) != 0) {
    throw std::system_error(errno, std::system_category(), "connect");
  }
  return fd;
}

// One end as an overlap stream on p, the other a blocking raw descriptor.
struct stream_and_peer {
  overlap::tcp_stream stream;
  unique_fd peer;
};
inline stream_and_peer stream_with_peer(overlap::proactor& p, int family = AF_INET) {
  auto [a, b] = raw_pair(family);
  set_nonblocking(a.get());
  return {overlap::tcp_stream(p, a.release()), std::move(b)};
}

// Both ends as overlap streams on p.
struct stream_pair {
  overlap::tcp_stream client;
  overlap::tcp_stream server;
};
inline stream_pair connected_pair(overlap::proactor& p, int family = AF_INET) {
  auto [a, b] = raw_pair(family);
  set_nonblocking(a.get());
  set_nonblocking(b.get());
  return {overlap::tcp_stream(p, a.release()), overlap::tcp_stream(p, b.release())};
}

inline void write_all_blocking(int fd, const void* data, std::size_t len) {
  const char* p = static_cast<const char*>(data);
  while (len > 0) {
    const ssize_t n = ::send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::system_error(errno, std::system_category(), "send");
    p += n;
    len -= static_cast<std::size_t>(n);
  }
}
inline void write_all_blocking(int fd, const std::string& s) {
  write_all_blocking(fd, s.data(), s.size());
}

// Reads until end of stream; returns everything read.
inline std::string read_to_eof_blocking(int fd) {
  std::string out;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

// Deterministic, non-repeating-looking test data (so misordered or duplicated
// bytes are caught, unlike a constant fill).
inline std::string pattern(std::size_t len, std::uint32_t seed = 1) {
  std::string s(len, '\0');
  std::uint32_t x = seed * 2654435761u + 12345u;
  for (std::size_t i = 0; i < len; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s[i] = static_cast<char>(x & 0xff);
  }
  return s;
}

// Number of open descriptors of this process (to prove nothing leaks).
inline int open_fd_count() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    ::closedir(d);
  }
  return n - 1;  // the directory stream's own descriptor
}

// A port on loopback with nothing listening: a socket bound to it and kept
// open without listen(), so connecting gets a RST and no one else can take it.
struct refused_port {
  unique_fd holder;
  std::uint16_t port = 0;
};
inline refused_port closed_port(int family = AF_INET) {
  refused_port r{unique_fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)), 0};
  const overlap::endpoint ep = loopback(family);
  if (::bind(r.holder.get(), ep.data(), ep.size()) != 0) {
    throw std::system_error(errno, std::system_category(), "bind");
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  ::getsockname(r.holder.get(), reinterpret_cast<sockaddr*>(&ss), &len);
  r.port = overlap::endpoint(reinterpret_cast<sockaddr*>(&ss), len).port();
  return r;
}

}  // namespace overlap_test
