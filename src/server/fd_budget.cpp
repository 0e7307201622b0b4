#include "fd_budget.hpp"

#include <algorithm>

namespace overlap::server {

fd_budget plan_fd_budget(rlimit now, unsigned wanted, unsigned threads, std::size_t cache_entries,
                         bool explicit_max) noexcept {
  fd_budget b;
  b.reserve = std::uint64_t{threads} * (cache_entries + fds_per_thread) + fds_per_process;
  const std::uint64_t needed = std::uint64_t{wanted} + b.reserve;
  // RLIM_INFINITY is the largest rlim_t, so min() handles it as "no limit".
  const std::uint64_t soft = now.rlim_cur;
  const std::uint64_t hard = now.rlim_max;
  b.soft_limit = std::max(soft, std::min(needed, hard));
  const std::uint64_t room = b.soft_limit > b.reserve ? b.soft_limit - b.reserve : 0;
  b.limited = room < wanted;
  if (!b.limited || explicit_max) {
    b.max_connections = wanted;
  } else {
    const std::uint64_t fits = std::max(room, b.soft_limit / 2);
    b.max_connections = static_cast<unsigned>(std::clamp<std::uint64_t>(fits, 1, wanted));
    b.limited = b.max_connections < wanted;  // half the limit may cover it all
  }
  return b;
}

}  // namespace overlap::server
