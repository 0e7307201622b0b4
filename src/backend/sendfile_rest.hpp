// sendfile(2) of the rest of an operation's file range, shared by the
// backends: both call it on the non-blocking socket and wait for writability
// (POLLOUT through the ring, or epoll) when it reports -EAGAIN.
#pragma once

#include <sys/sendfile.h>
#include <sys/types.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "backend/completion_conventions.hpp"
#include "overlap/operation.hpp"

namespace overlap::detail {

// Sends from op.done on, adding to op.done. Returns 0 once the range is sent,
// -EAGAIN when the socket buffer is full, posted_eof when the file is shorter
// than promised, or -errno.
inline int sendfile_rest(io_op& op) noexcept {
  while (op.done < op.len) {
    off_t offset = static_cast<off_t>(op.file_offset + static_cast<std::int64_t>(op.done));
    const std::size_t chunk = std::min<std::size_t>(op.len - op.done, std::size_t{1} << 30);
    const ssize_t n = ::sendfile(op.fd, op.file_fd, &offset, chunk);
    if (n > 0) {
      op.done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n == 0 ? posted_eof : -errno;
  }
  return 0;
}

}  // namespace overlap::detail
