// HTTP-date (RFC 9110 §5.6.7): formatting, parsing of all three accepted
// formats, and the per-thread clock that caches the current `Date` value.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace overlap::http {

// An IMF-fixdate is always exactly this long: "Sun, 06 Nov 1994 08:49:37 GMT".
inline constexpr std::size_t imf_fixdate_bytes = 29;

using imf_fixdate = std::array<char, imf_fixdate_bytes>;

// Formats `seconds` since the Unix epoch (UTC) as an IMF-fixdate.
imf_fixdate format_http_date(std::int64_t seconds) noexcept;

// Parses IMF-fixdate, obsolete RFC 850 and asctime() dates; returns seconds
// since the epoch, or nullopt when `text` is none of them. `now_seconds`
// resolves RFC 850's two-digit year (RFC 9110 §5.6.7: a year more than 50
// years in the future is taken as the most recent past year with those digits).
std::optional<std::int64_t> parse_http_date(std::string_view text,
                                            std::int64_t now_seconds) noexcept;

// The time seen by one thread's HTTP connections and the rendered `Date`
// value. The owner calls update() (e.g. once per event-loop iteration); the
// string is re-rendered only when the second changes. No global state: tests
// drive time by calling update() with any time point. Not thread-safe: one
// per thread/shard.
class http_date_clock {
 public:
  using time_point = std::chrono::system_clock::time_point;

  explicit http_date_clock(time_point now = std::chrono::system_clock::now()) noexcept;

  void update(time_point now) noexcept;
  time_point now() const noexcept { return now_; }
  std::int64_t now_seconds() const noexcept { return seconds_; }
  // Valid until the next update().
  std::string_view date_value() const noexcept { return {text_.data(), text_.size()}; }

 private:
  time_point now_;
  std::int64_t seconds_ = 0;
  imf_fixdate text_{};
};

}  // namespace overlap::http
