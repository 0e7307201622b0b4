// Errors reported by overlap's asynchronous operations.
//
// Every completion carries a std::error_code. Conditions specific to the
// Proactor (end of stream, cancellation, deadline) use overlap::errc; anything
// the kernel reports is carried as std::system_category so callers can compare
// against std::errc (e.g. `ec == std::errc::connection_refused`). Raw -errno
// values never reach application code.
#pragma once

#include <system_error>

namespace overlap {

enum class errc {
  eof = 1,            // the peer closed its sending side (a 0-byte stream read)
  operation_aborted,  // the operation was cancelled before it completed
  timed_out,          // the operation's deadline passed before it completed
  not_supported,      // the backend cannot perform this operation
};

const std::error_category& overlap_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), overlap_category()};
}

// Maps a negative kernel result (-errno) to an error_code: ECANCELED becomes
// operation_aborted, ETIME becomes timed_out, everything else is a system error.
std::error_code error_from_result(int negative_errno) noexcept;

}  // namespace overlap

template <>
struct std::is_error_code_enum<overlap::errc> : std::true_type {};
