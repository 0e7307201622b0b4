#include "listeners.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <system_error>
#include <utility>

#include "overlap/tcp_acceptor.hpp"

namespace overlap::server {
namespace {

// SO_REUSEPORT lets every socket of the same user that also sets it bind the
// same port, so a second server started there by mistake would quietly take
// a share of the connections instead of failing. Before a shard group binds,
// a probe without SO_REUSEPORT (SO_REUSEADDR only, as the listeners) binds
// the address: anything already listening there makes that fail with
// EADDRINUSE, as it would for a single listener. It never listens, so it
// leaves nothing behind when closed.
void check_port_free(const endpoint& ep) {
  const int fd = ::socket(ep.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::system_error(errno, std::system_category(), "socket");
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (ep.family() == AF_INET6) {
    const int v6only = acceptor_options{}.v6_only ? 1 : 0;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
  }
  const int rc = ::bind(fd, ep.data(), ep.size());
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw std::system_error(err, std::system_category(), "bind " + ep.to_string());
}

// Clears the way for a Unix-domain listener at `ep`'s path (see
// open_listeners): throws std::system_error when the path is taken.
void clear_stale_socket(const endpoint& ep) {
  const std::string path = ep.local_path();
  struct stat st {};
  if (path.empty() || ::lstat(path.c_str(), &st) != 0) return;  // abstract, or nothing there
  if (!S_ISSOCK(st.st_mode)) {
    throw std::system_error(EEXIST, std::system_category(),
                            "bind " + ep.to_string() + ": the path exists and is not a socket");
  }
  const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0) throw std::system_error(errno, std::system_category(), "socket");
  const int rc = ::connect(probe, ep.data(), ep.size());
  const int err = errno;
  ::close(probe);
  if (rc == 0 || err != ECONNREFUSED) {
    throw std::system_error(rc == 0 ? EADDRINUSE : err, std::system_category(),
                            "bind " + ep.to_string());
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    throw std::system_error(errno, std::system_category(), "remove stale " + ep.to_string());
  }
}

// Gives the shards after the first a dup() of its socket: they share its
// accept queue. Closes them all and throws on failure.
void share_first_listener(listener_set& set, unsigned count) {
  for (unsigned i = 1; i < count; ++i) {
    const int fd = ::fcntl(set.fds[0], F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
      const int err = errno;
      for (const int f : set.fds) ::close(f);
      throw std::system_error(err, std::system_category(), "dup listener");
    }
    set.fds.push_back(fd);
  }
}

listener_set open_local_listeners(const endpoint& ep, unsigned count) {
  clear_stale_socket(ep);
  listener_set set;
  set.fds.push_back(tcp_acceptor::open_listener(ep, {}));
  set.bound = ep;
  if (!ep.local_path().empty()) set.file = socket_file(ep.local_path());
  share_first_listener(set, count);
  return set;
}

// A whole decimal number, or -1.
long parse_count(const char* text) {
  if (text == nullptr || *text == '\0') return -1;
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text, &end, 10);
  return errno != 0 || *end != '\0' || v < 0 ? -1 : v;
}

}  // namespace

socket_file::socket_file(std::string path) : path_(std::move(path)) {
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0) {
    device_ = st.st_dev;
    inode_ = st.st_ino;
  } else {
    path_.clear();
  }
}

socket_file::socket_file(socket_file&& o) noexcept
    : path_(std::move(o.path_)), device_(o.device_), inode_(o.inode_) {
  o.path_.clear();
}

socket_file& socket_file::operator=(socket_file&& o) noexcept {
  if (this != &o) {
    remove();
    path_ = std::move(o.path_);
    device_ = o.device_;
    inode_ = o.inode_;
    o.path_.clear();
  }
  return *this;
}

void socket_file::remove() noexcept {
  if (path_.empty()) return;
  struct stat st {};
  // Only our own socket: a server started since may have taken the name.
  if (::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == device_ &&
      st.st_ino == inode_) {
    ::unlink(path_.c_str());
  }
  path_.clear();
}

std::optional<listener_set> inherited_listeners(unsigned count) {
  const long pid = parse_count(std::getenv("LISTEN_PID"));
  const long passed = parse_count(std::getenv("LISTEN_FDS"));
  if (pid != static_cast<long>(::getpid())) return std::nullopt;  // for another process
  // Not for the processes this one may start.
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  if (passed == 0) return std::nullopt;
  if (passed != 1) {
    throw std::system_error(EINVAL, std::system_category(),
                            "LISTEN_FDS=" + std::to_string(passed) +
                                ": overlap serve takes one listening socket from systemd");
  }
  constexpr int first_passed_fd = 3;  // SD_LISTEN_FDS_START
  int type = 0, listening = 0;
  socklen_t len = sizeof(type);
  const bool stream =
      ::getsockopt(first_passed_fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
  len = sizeof(listening);
  if (!stream || ::getsockopt(first_passed_fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 ||
      listening == 0) {
    throw std::system_error(EINVAL, std::system_category(),
                            "descriptor 3 from systemd is not a listening stream socket");
  }
  const int flags = ::fcntl(first_passed_fd, F_GETFL);
  if (flags < 0 || ::fcntl(first_passed_fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
      ::fcntl(first_passed_fd, F_SETFD, FD_CLOEXEC) != 0) {
    throw std::system_error(errno, std::system_category(), "descriptor 3 from systemd");
  }
  listener_set set;
  set.fds.push_back(first_passed_fd);
  sockaddr_storage ss{};
  socklen_t ss_len = sizeof(ss);
  ::getsockname(first_passed_fd, reinterpret_cast<sockaddr*>(&ss), &ss_len);
  set.bound = endpoint(reinterpret_cast<const sockaddr*>(&ss), ss_len);
  if (!set.bound.is_local()) {
    // As on our own listeners (open_listeners): accepted sockets inherit it,
    // and a head sent before a file body must not wait for an ACK (Nagle).
    const int one = 1;
    ::setsockopt(first_passed_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  share_first_listener(set, count);  // (its file, if any, is systemd's to remove)
  return set;
}

listener_set open_listeners(const endpoint& ep, unsigned count, int defer_accept_seconds) {
  if (ep.is_local()) return open_local_listeners(ep, count);
  listener_set set;
  acceptor_options o;
  o.reuse_port = count > 1;
  o.no_delay = true;  // inherited by accepted sockets: no setsockopt per connection
  o.defer_accept_seconds = defer_accept_seconds;
  if (o.reuse_port && ep.port() != 0) check_port_free(ep);
  try {
    set.fds.push_back(tcp_acceptor::open_listener(ep, o));
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    ::getsockname(set.fds[0], reinterpret_cast<sockaddr*>(&ss), &len);
    set.bound = endpoint(reinterpret_cast<const sockaddr*>(&ss), len);
    // The other shards bind the port the first one got (port 0 resolved).
    for (unsigned i = 1; i < count; ++i)
      set.fds.push_back(tcp_acceptor::open_listener(set.bound, o));
  } catch (...) {
    for (int fd : set.fds) ::close(fd);
    throw;
  }
  return set;
}

}  // namespace overlap::server
