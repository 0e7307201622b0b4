// HTTP-date per RFC 9110 §5.6.7. Day names and month names are
// case-sensitive there, so they are compared exactly.
#include <overlap/http/http_date.hpp>

#include "text.hpp"

#include <array>
#include <chrono>

namespace overlap::http {
namespace {

using namespace std::chrono;

constexpr std::array<std::string_view, 7> short_days{"Sun", "Mon", "Tue", "Wed",
                                                     "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> long_days{"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                    "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void put2(char* out, unsigned v) noexcept {
  out[0] = static_cast<char>('0' + v / 10 % 10);
  out[1] = static_cast<char>('0' + v % 10);
}

// Reads exactly `n` digits at `pos`.
bool digits(std::string_view s, std::size_t pos, std::size_t n, int& value) noexcept {
  if (pos + n > s.size()) {
    return false;
  }
  value = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[pos + i]);
    if (!text::is_digit(c)) {
      return false;
    }
    value = value * 10 + (c - '0');
  }
  return true;
}

int month_index(std::string_view s) noexcept {
  for (std::size_t i = 0; i < months.size(); ++i) {
    if (months[i] == s) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

bool is_day_name(std::string_view s, const std::array<std::string_view, 7>& names) noexcept {
  for (auto n : names) {
    if (n == s) {
      return true;
    }
  }
  return false;
}

// "HH:MM:SS" at pos. RFC 9110 allows second 60 (leap second).
bool time_of_day(std::string_view s, std::size_t pos, int& h, int& m, int& sec) noexcept {
  return digits(s, pos, 2, h) && pos + 2 < s.size() && s[pos + 2] == ':' &&
         digits(s, pos + 3, 2, m) && pos + 5 < s.size() && s[pos + 5] == ':' &&
         digits(s, pos + 6, 2, sec) && h < 24 && m < 60 && sec <= 60;
}

std::optional<std::int64_t> to_seconds(int year, int month0, int day, int h, int m,
                                       int s) noexcept {
  const year_month_day ymd{std::chrono::year{year},
                           std::chrono::month{static_cast<unsigned>(month0 + 1)},
                           std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) {
    return std::nullopt;
  }
  const auto days_since_epoch = sys_days{ymd}.time_since_epoch().count();
  return static_cast<std::int64_t>(days_since_epoch) * 86400 + std::int64_t{h} * 3600 +
         std::int64_t{m} * 60 + s;
}

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<std::int64_t> parse_imf_fixdate(std::string_view s) noexcept {
  int day = 0, year = 0, h = 0, m = 0, sec = 0;
  if (s.size() != imf_fixdate_bytes || !is_day_name(s.substr(0, 3), short_days) ||
      s.substr(3, 2) != ", " || !digits(s, 5, 2, day) || s[7] != ' ' || s[11] != ' ' ||
      !digits(s, 12, 4, year) || s[16] != ' ' || !time_of_day(s, 17, h, m, sec) ||
      s.substr(25) != " GMT") {
    return std::nullopt;
  }
  const int mon = month_index(s.substr(8, 3));
  if (mon < 0) {
    return std::nullopt;
  }
  return to_seconds(year, mon, day, h, m, sec);
}

// RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
std::optional<std::int64_t> parse_rfc850(std::string_view s, std::int64_t now_seconds) noexcept {
  const auto comma = s.find(", ");
  if (comma == std::string_view::npos || !is_day_name(s.substr(0, comma), long_days)) {
    return std::nullopt;
  }
  s.remove_prefix(comma + 2);
  int day = 0, yy = 0, h = 0, m = 0, sec = 0;
  if (s.size() != 22 || !digits(s, 0, 2, day) || s[2] != '-' || s[6] != '-' ||
      !digits(s, 7, 2, yy) || s[9] != ' ' || !time_of_day(s, 10, h, m, sec) ||
      s.substr(18) != " GMT") {
    return std::nullopt;
  }
  const int mon = month_index(s.substr(3, 3));
  if (mon < 0) {
    return std::nullopt;
  }
  // RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is
  // the most recent past year with the same last two digits.
  const int this_year =
      static_cast<int>(year_month_day{floor<days>(sys_seconds{seconds{now_seconds}})}.year());
  int year = this_year / 100 * 100 + yy;
  if (year > this_year + 50) {
    year -= 100;
  }
  return to_seconds(year, mon, day, h, m, sec);
}

// asctime(): "Sun Nov  6 08:49:37 1994"
std::optional<std::int64_t> parse_asctime(std::string_view s) noexcept {
  int day = 0, year = 0, h = 0, m = 0, sec = 0;
  if (s.size() != 24 || !is_day_name(s.substr(0, 3), short_days) || s[3] != ' ' || s[7] != ' ' ||
      s[10] != ' ' || !time_of_day(s, 11, h, m, sec) || s[19] != ' ' || !digits(s, 20, 4, year)) {
    return std::nullopt;
  }
  const int mon = month_index(s.substr(4, 3));
  if (mon < 0) {
    return std::nullopt;
  }
  // day = 2DIGIT / ( SP DIGIT )
  if (s[8] == ' ') {
    if (!digits(s, 9, 1, day)) {
      return std::nullopt;
    }
  } else if (!digits(s, 8, 2, day)) {
    return std::nullopt;
  }
  return to_seconds(year, mon, day, h, m, sec);
}

}  // namespace

imf_fixdate format_http_date(std::int64_t seconds_since_epoch) noexcept {
  const sys_seconds t{seconds{seconds_since_epoch}};
  const auto day_point = floor<days>(t);
  const year_month_day ymd{day_point};
  const hh_mm_ss hms{t - day_point};
  const weekday wd{day_point};

  imf_fixdate out{};
  char* p = out.data();
  const auto day_name = short_days[wd.c_encoding()];
  const auto month_name = months[static_cast<unsigned>(ymd.month()) - 1];
  const int year = static_cast<int>(ymd.year());
  const unsigned y = year < 0 ? 0u : static_cast<unsigned>(year) % 10000;
  p[0] = day_name[0], p[1] = day_name[1], p[2] = day_name[2], p[3] = ',', p[4] = ' ';
  put2(p + 5, static_cast<unsigned>(ymd.day()));
  p[7] = ' ', p[8] = month_name[0], p[9] = month_name[1], p[10] = month_name[2], p[11] = ' ';
  put2(p + 12, y / 100);
  put2(p + 14, y % 100);
  p[16] = ' ';
  put2(p + 17, static_cast<unsigned>(hms.hours().count()));
  p[19] = ':';
  put2(p + 20, static_cast<unsigned>(hms.minutes().count()));
  p[22] = ':';
  put2(p + 23, static_cast<unsigned>(hms.seconds().count()));
  p[25] = ' ', p[26] = 'G', p[27] = 'M', p[28] = 'T';
  return out;
}

std::optional<std::int64_t> parse_http_date(std::string_view text,
                                            std::int64_t now_seconds) noexcept {
  if (text.size() == imf_fixdate_bytes) {
    return parse_imf_fixdate(text);
  }
  if (text.size() == 24) {
    return parse_asctime(text);
  }
  return parse_rfc850(text, now_seconds);
}

http_date_clock::http_date_clock(time_point now) noexcept {
  now_ = now;
  seconds_ = floor<seconds>(now.time_since_epoch()).count();
  text_ = format_http_date(seconds_);
}

void http_date_clock::update(time_point now) noexcept {
  now_ = now;
  const auto s = floor<seconds>(now.time_since_epoch()).count();
  if (s != seconds_) {
    seconds_ = s;
    text_ = format_http_date(s);
  }
}

}  // namespace overlap::http
