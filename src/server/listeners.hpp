// Opens the listening sockets of a sharded server before its threads start,
// so a bad address or a port in use is reported once, clearly, up front.
#pragma once

#include <vector>

#include "overlap/endpoint.hpp"

namespace overlap::server {

struct listener_set {
  std::vector<int> fds;  // one per shard (SO_REUSEPORT when more than one)
  endpoint bound;        // the address actually bound (port 0 resolved)
};

// Throws std::system_error (with the address in the message) on failure,
// including when anything already listens on the address: a group of
// SO_REUSEPORT listeners is only opened on a port no other socket holds.
// defer_accept_seconds > 0 sets TCP_DEFER_ACCEPT (see acceptor_options).
listener_set open_listeners(const endpoint& ep, unsigned count, int defer_accept_seconds);

}  // namespace overlap::server
