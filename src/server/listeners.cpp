#include "listeners.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

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

}  // namespace

listener_set open_listeners(const endpoint& ep, unsigned count, int defer_accept_seconds) {
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
