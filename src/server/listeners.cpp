#include "listeners.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include "overlap/tcp_acceptor.hpp"

namespace overlap::server {

listener_set open_listeners(const endpoint& ep, unsigned count, int defer_accept_seconds) {
  listener_set set;
  acceptor_options o;
  o.reuse_port = count > 1;
  o.no_delay = true;  // inherited by accepted sockets: no setsockopt per connection
  o.defer_accept_seconds = defer_accept_seconds;
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
