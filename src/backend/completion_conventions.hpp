// Conventions shared by the backends (io_uring and the epoll emulation).
#pragma once

#include <time.h>

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>

#include "overlap/detail/io_state.hpp"
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

// The result for an operation that cannot start: its stream is gone (the
// reason stashed at preparation, if any) or closing. 0 if it can start.
inline int refused_start(const io_op& op) noexcept {
  if (op.kind != op_kind::timer && op.sock == nullptr) {
    return op.stashed_res != 0 ? op.stashed_res : -EBADF;
  }
  return op.sock != nullptr && op.sock->closing ? -EBADF : 0;
}

// Absolute expiries (io_op::ts) on CLOCK_MONOTONIC, in nanoseconds.
inline std::int64_t monotonic_ns() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}
inline std::int64_t expiry_ns(const io_op& op) noexcept {
  return static_cast<std::int64_t>(op.ts.tv_sec) * 1'000'000'000 + op.ts.tv_nsec;
}
inline void set_expiry(io_op& op, std::int64_t at_ns) noexcept {
  op.ts.tv_sec = at_ns / 1'000'000'000;
  op.ts.tv_nsec = at_ns % 1'000'000'000;
}
// Sets op.ts to its deadline (op_options::timeout from now).
inline void arm_expiry(io_op& op) noexcept {
  set_expiry(op, monotonic_ns() + op.options.timeout.count());
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
