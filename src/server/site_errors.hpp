// 500s from the static site are logged to stderr (nginx's static module does
// the same); 403 and 404 are not. Shared by every concurrency model.
//
// A cause that fails every request (no descriptor left, a disk gone) would
// otherwise write a line per request, from the event loop, as fast as clients
// can ask: at most `lines_per_second` lines are written, and the number left
// out is reported with the next line that is.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <utility>

#include "overlap/http/static_site.hpp"

namespace overlap::server {

class log_rate_limit {
 public:
  using clock = std::chrono::steady_clock;
  explicit log_rate_limit(unsigned per_second) noexcept : per_second_(per_second) {}

  // True if a line may be written now; otherwise it is counted as left out.
  bool admit(clock::time_point now) noexcept {
    if (now - window_start_ >= std::chrono::seconds(1)) {
      window_start_ = now;
      in_window_ = 0;
    }
    if (in_window_ < per_second_) {
      ++in_window_;
      return true;
    }
    ++suppressed_;
    return false;
  }
  // Lines left out since the last call.
  std::uint64_t take_suppressed() noexcept { return std::exchange(suppressed_, 0); }

 private:
  unsigned per_second_;
  unsigned in_window_ = 0;
  std::uint64_t suppressed_ = 0;
  clock::time_point window_start_{};
};

inline void report_site_errors(http::static_site& site, unsigned lines_per_second = 10) {
  site.set_error_reporter(
      [limit = log_rate_limit(lines_per_second)](std::string_view path, int error_number) mutable {
        if (!limit.admit(log_rate_limit::clock::now())) return;
        if (const std::uint64_t left_out = limit.take_suppressed(); left_out > 0) {
          std::fprintf(stderr, "overlap serve: %llu more such errors not logged\n",
                       static_cast<unsigned long long>(left_out));
        }
        std::fprintf(stderr, "overlap serve: cannot serve %.*s: %s\n",
                     static_cast<int>(path.size()), path.data(), std::strerror(error_number));
      });
}

}  // namespace overlap::server
