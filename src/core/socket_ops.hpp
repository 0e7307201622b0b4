// Synchronous socket set-up shared by streams and acceptors (not I/O: only
// creating, naming and configuring descriptors).
#pragma once

#include <sys/socket.h>

#include <system_error>

#include "overlap/endpoint.hpp"

namespace overlap::detail {

// A non-blocking, close-on-exec stream socket of `family` (TCP for IPv4 and
// IPv6, or Unix-domain); throws std::system_error.
int open_stream_socket(int family);
endpoint socket_name(int fd, bool peer);
std::system_error last_error(const char* what);

}  // namespace overlap::detail
