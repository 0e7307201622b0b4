// How many connections the descriptor limit (RLIMIT_NOFILE) leaves room for.
// A connection is one descriptor, but the server also keeps files open (each
// thread's open-file cache) and a few of its own (ring, eventfd, listener,
// signalfd, log). Accepting until the process runs out would leave a cache
// miss nothing to open its file with, and every such request would fail, so
// `overlap serve` plans the split before it starts: it raises the soft limit
// as far as the hard limit allows, and when that is still short it serves
// fewer connections by default, or warns when --max-connections was given.
#pragma once

#include <sys/resource.h>

#include <cstddef>
#include <cstdint>

namespace overlap::server {

// Descriptors kept for each thread besides its open-file cache, and for the
// process as a whole (standard streams, listeners' set-up, the access log).
inline constexpr std::uint64_t fds_per_thread = 16;
inline constexpr std::uint64_t fds_per_process = 32;

struct fd_budget {
  std::uint64_t soft_limit = 0;  // the soft limit to set (>= the current one)
  std::uint64_t reserve = 0;     // descriptors kept for files and the server itself
  unsigned max_connections = 0;  // connections to allow across all threads
  bool limited = false;          // short of `wanted`: lowered, or (explicit) will not fit
};

// Plans for `wanted` connections over `threads` threads whose open-file caches
// hold up to `cache_entries` files each, under the current limits `now`.
// With `explicit_max` (the user chose the number) max_connections stays
// `wanted` even when limited; otherwise it is what fits, at least half the
// soft limit (the reserve assumes every cache full, which is rarely so).
fd_budget plan_fd_budget(rlimit now, unsigned wanted, unsigned threads, std::size_t cache_entries,
                         bool explicit_max) noexcept;

}  // namespace overlap::server
