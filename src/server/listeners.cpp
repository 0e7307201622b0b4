#include "listeners.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
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

listener_set open_local_listeners(const endpoint& ep, unsigned count) {
  clear_stale_socket(ep);
  listener_set set;
  set.fds.push_back(tcp_acceptor::open_listener(ep, {}));
  set.bound = ep;
  if (!ep.local_path().empty()) set.file = socket_file(ep.local_path());
  for (unsigned i = 1; i < count; ++i) {
    const int fd = ::fcntl(set.fds[0], F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
      const int err = errno;
      for (const int f : set.fds) ::close(f);
      throw std::system_error(err, std::system_category(), "dup listener");
    }
    set.fds.push_back(fd);
  }
  return set;
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
