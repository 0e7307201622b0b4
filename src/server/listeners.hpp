// Opens the listening sockets of a sharded server before its threads start,
// so a bad address or a port in use is reported once, clearly, up front.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "overlap/endpoint.hpp"

namespace overlap::server {

// The file a Unix-domain listener made: removed when the server is done
// with it, unless another socket has taken its name meanwhile.
class socket_file {
 public:
  socket_file() = default;
  explicit socket_file(std::string path);  // records the file now at `path`
  socket_file(socket_file&& o) noexcept;
  socket_file& operator=(socket_file&& o) noexcept;
  socket_file(const socket_file&) = delete;
  socket_file& operator=(const socket_file&) = delete;
  ~socket_file() { remove(); }
  void remove() noexcept;

 private:
  std::string path_;
  dev_t device_ = 0;
  ino_t inode_ = 0;
};

struct listener_set {
  // One per shard: SO_REUSEPORT sockets when there are several TCP ones; a
  // Unix-domain socket has no such thing, so every shard gets a dup() of
  // the one socket and their accepts share its queue.
  std::vector<int> fds;
  endpoint bound;    // the address actually bound (port 0 resolved)
  socket_file file;  // a Unix-domain socket's path, removed with the set
};

// Throws std::system_error (with the address in the message) on failure,
// including when anything already listens on the address: a group of
// SO_REUSEPORT listeners is only opened on a port no other socket holds.
// defer_accept_seconds > 0 sets TCP_DEFER_ACCEPT (see acceptor_options).
// A Unix-domain path that holds a socket nobody listens on (left by a server
// that did not stop cleanly) is replaced; one that something listens on, or
// that holds anything but a socket, is refused.
listener_set open_listeners(const endpoint& ep, unsigned count, int defer_accept_seconds);

// systemd socket activation (the sd_listen_fds(3) protocol): when
// $LISTEN_PID is this process, the listening socket it passed as
// descriptor 3, shared by `count` shards through dup'd descriptors; nullopt
// when nothing was passed. Unsets $LISTEN_PID, $LISTEN_FDS and
// $LISTEN_FDNAMES. Throws std::system_error when more than one descriptor
// was passed or descriptor 3 is not a listening stream socket.
std::optional<listener_set> inherited_listeners(unsigned count);

}  // namespace overlap::server
