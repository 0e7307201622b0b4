// Conventions shared by the io_uring backend's translation units.
#pragma once

#include <climits>
#include <cstdint>

#include "overlap/operation.hpp"

namespace overlap::detail {

// A posted completion that reports end of stream rather than a byte count.
inline constexpr int posted_eof = INT_MIN;

// user_data tag: the standalone deadline timer of an io_op (operations are
// 8-aligned, so the low bit is free).
inline constexpr std::uint64_t deadline_tag = 1;

// Operations that take op_options::timeout (a timer is its own deadline; a
// multishot accept has no end to bound).
inline bool has_deadline(const io_op& op) noexcept {
  return op.options.timeout.count() > 0 && op.kind != op_kind::timer &&
         op.kind != op_kind::accept_multishot;
}

}  // namespace overlap::detail
