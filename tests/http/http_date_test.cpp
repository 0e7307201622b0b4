#include <overlap/http/http_date.hpp>

#include <gtest/gtest.h>

#include <string>

namespace overlap::http {
namespace {

constexpr std::int64_t rfc_example = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
constexpr std::int64_t now_2024 = 1'710'000'000;

TEST(http_date, formats_imf_fixdate) {
  const auto d = format_http_date(rfc_example);
  EXPECT_EQ(std::string(d.data(), d.size()), "Sun, 06 Nov 1994 08:49:37 GMT");
  const auto epoch = format_http_date(0);
  EXPECT_EQ(std::string(epoch.data(), epoch.size()), "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST(http_date, parses_imf_fixdate) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", now_2024), rfc_example);
}

TEST(http_date, parses_rfc850) {
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", now_2024), rfc_example);
}

TEST(http_date, rfc850_two_digit_year_is_not_more_than_50_years_ahead) {
  // In 2024, "30" is 2030 (6 years ahead) but "94" is 1994, not 2094.
  const auto y2030 = parse_http_date("Tuesday, 01-Jan-30 00:00:00 GMT", now_2024);
  ASSERT_TRUE(y2030.has_value());
  EXPECT_EQ(*y2030, 1893456000);
}

TEST(http_date, parses_asctime) {
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994", now_2024), rfc_example);
  EXPECT_EQ(parse_http_date("Sun Nov 16 08:49:37 1994", now_2024), rfc_example + 10 * 86400);
}

TEST(http_date, rejects_malformed_dates) {
  for (const char* s : {"", "yesterday", "Sun, 06 Nov 1994 08:49:37 UTC",
                        "sun, 06 Nov 1994 08:49:37 GMT", "Sun, 06 nov 1994 08:49:37 GMT",
                        "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
                        "Sun, 6 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-1994 08:49:37 GMT",
                        "Sun Nov 6 08:49:37 1994", "Sun, 06 Nov 1994 08:49:37 GMT "})
    EXPECT_FALSE(parse_http_date(s, now_2024).has_value()) << s;
}

TEST(http_date, round_trips) {
  for (std::int64_t t : {0LL, 951782400LL, 1'700'000'000LL, 4'102'444'800LL}) {
    const auto d = format_http_date(t);
    EXPECT_EQ(parse_http_date(std::string_view(d.data(), d.size()), now_2024), t);
  }
}

TEST(http_date_clock, rerenders_only_when_second_changes) {
  using namespace std::chrono;
  http_date_clock clock(system_clock::time_point{seconds{rfc_example}});
  const char* before = clock.date_value().data();
  clock.update(system_clock::time_point{seconds{rfc_example} + milliseconds{999}});
  EXPECT_EQ(clock.date_value(), "Sun, 06 Nov 1994 08:49:37 GMT");
  clock.update(system_clock::time_point{seconds{rfc_example + 1}});
  EXPECT_EQ(clock.date_value(), "Sun, 06 Nov 1994 08:49:38 GMT");
  EXPECT_EQ(clock.date_value().data(), before);  // same storage, no allocation
}

}  // namespace
}  // namespace overlap::http
