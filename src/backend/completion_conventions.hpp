// Conventions shared by the backends (io_uring and the epoll emulation).
#pragma once

#include <climits>
#include <cstddef>
#include <cstdint>

#include "overlap/operation.hpp"

namespace overlap::detail {

// A posted completion that reports end of stream rather than a byte count.
inline constexpr int posted_eof = INT_MIN;

// io_uring user_data tag: the standalone deadline timer of an io_op
// (operations are 8-aligned, so the low bit is free).
inline constexpr std::uint64_t deadline_tag = 1;

// Operations that take op_options::timeout (a timer is its own deadline; a
// multishot accept has no end to bound).
inline bool has_deadline(const io_op& op) noexcept {
  return op.options.timeout.count() > 0 && op.kind != op_kind::timer &&
         op.kind != op_kind::accept_multishot;
}

// writev_all progress: n more bytes of the caller's iovec array were sent.
// The array itself is never modified; iov_index and iov_offset say where the
// rest starts.
inline void advance_writev(io_op& op, std::size_t n) noexcept {
  op.done += n;
  while (n > 0 && op.iov_index < op.iovcnt) {
    const std::size_t left = op.iov[op.iov_index].iov_len - op.iov_offset;
    if (n < left) {
      op.iov_offset += n;
      return;
    }
    n -= left;
    op.iov_offset = 0;
    ++op.iov_index;
  }
  // Skip empty iovecs so the next submission starts on data.
  while (op.iov_index < op.iovcnt && op.iov[op.iov_index].iov_len == 0) ++op.iov_index;
}

}  // namespace overlap::detail
