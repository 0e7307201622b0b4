// Sending a connection's queued output with plain socket calls, shared by the
// two comparison models (reactor, thread per connection): one sendmsg(2) of
// the gathered head and memory bytes, or one sendfile(2) of a file range.
#pragma once

#include <sys/types.h>

#include "overlap/http/connection.hpp"

namespace overlap::server {

// One send of what `c` has queued, reported to `c` (bytes_sent). Returns the
// bytes sent (> 0), 0 when nothing is ready to send, or -errno: -EAGAIN when
// the socket buffer is full (a non-blocking socket) or SO_SNDTIMEO expired
// (a blocking one), -EIO when a file is shorter than its cached size.
ssize_t send_queued(int fd, http::connection& c) noexcept;

}  // namespace overlap::server
