// Conditional requests: RFC 9110 §13.
#include "http_test_support.hpp"

#include <overlap/http/conditional.hpp>
#include <overlap/http/http_date.hpp>

namespace overlap::http::testing {
namespace {

constexpr std::int64_t file_mtime = 1'600'000'000;  // Sun, 13 Sep 2020 12:26:40 GMT

std::string date(std::int64_t s) {
  const auto d = format_http_date(s);
  return std::string(d.data(), d.size());
}

class conditional : public ::testing::Test {
 protected:
  temp_docroot root;
  std::string etag;
  void SetUp() override {
    root.write("f.txt", "0123456789");
    root.set_mtime("f.txt", file_mtime);
    harness h(root);
    etag = *h.one(get("/f.txt")).field("ETag");
  }
};

TEST_F(conditional, etag_is_strong_and_quoted) {
  EXPECT_TRUE(etag.starts_with("\""));
  EXPECT_TRUE(etag.ends_with("\""));
}

TEST_F(conditional, last_modified_is_file_mtime) {
  harness h(root);
  EXPECT_EQ(h.one(get("/f.txt")).field("Last-Modified"), date(file_mtime));
}

TEST_F(conditional, if_none_match_same_etag_is_304) {
  harness h(root);
  const auto r = h.one(get("/f.txt", "If-None-Match: " + etag + "\r\n"));
  EXPECT_EQ(r.status, 304u);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.field("ETag"), etag);
  EXPECT_EQ(r.field("Last-Modified"), date(file_mtime));
  EXPECT_TRUE(r.field("Date").has_value());
  EXPECT_EQ(r.field("Content-Length"), std::nullopt);
}

TEST_F(conditional, if_none_match_list_and_weak_tag_match) {
  harness h(root);
  EXPECT_EQ(h.one(get("/f.txt", "If-None-Match: \"a\", W/" + etag + " , \"b\"\r\n")).status, 304u);
}

TEST_F(conditional, if_none_match_repeated_fields_are_combined) {
  harness h(root);
  EXPECT_EQ(h.one(get("/f.txt", "If-None-Match: \"a\"\r\nIf-None-Match: " + etag + "\r\n")).status,
            304u);
}

TEST_F(conditional, if_none_match_star_is_304) {
  harness h(root);
  EXPECT_EQ(h.one(get("/f.txt", "If-None-Match: *\r\n")).status, 304u);
}

TEST_F(conditional, if_none_match_other_etag_is_200) {
  harness h(root);
  EXPECT_EQ(h.one(get("/f.txt", "If-None-Match: \"other\"\r\n")).status, 200u);
}

TEST_F(conditional, head_with_matching_etag_is_304) {
  harness h(root);
  EXPECT_EQ(h.one("HEAD /f.txt HTTP/1.1\r\nHost: a\r\nIf-None-Match: " + etag + "\r\n\r\n").status,
            304u);
}

TEST_F(conditional, if_modified_since_equal_is_304) {
  harness h(root);
  EXPECT_EQ(h.one(get("/f.txt", "If-Modified-Since: " + date(file_mtime) + "\r\n")).status, 304u);
}

TEST_F(conditional, if_modified_since_later_is_304) {
  harness h(root);
  EXPECT_EQ(h.one(get("/f.txt", "If-Modified-Since: " + date(file_mtime + 60) + "\r\n")).status,
            304u);
}

TEST_F(conditional, if_modified_since_earlier_is_200) {
  harness h(root);
  EXPECT_EQ(h.one(get("/f.txt", "If-Modified-Since: " + date(file_mtime - 1) + "\r\n")).status,
            200u);
}

TEST_F(conditional, if_modified_since_in_rfc850_and_asctime_formats) {
  harness h(root);
  EXPECT_EQ(h.one(get("/f.txt", "If-Modified-Since: Sunday, 13-Sep-20 12:26:40 GMT\r\n")).status,
            304u);
  EXPECT_EQ(h.one(get("/f.txt", "If-Modified-Since: Sun Sep 13 12:26:40 2020\r\n")).status, 304u);
  EXPECT_EQ(h.one(get("/f.txt", "If-Modified-Since: Sun Sep 13 12:26:39 2020\r\n")).status, 200u);
}

TEST_F(conditional, unparsable_if_modified_since_is_ignored) {
  harness h(root);
  EXPECT_EQ(h.one(get("/f.txt", "If-Modified-Since: yesterday\r\n")).status, 200u);
}

TEST_F(conditional, if_none_match_takes_precedence_over_if_modified_since) {
  harness h(root);
  // §13.2.2: INM present (and not matching) → IMS is not evaluated.
  EXPECT_EQ(h.one(get("/f.txt", "If-None-Match: \"other\"\r\nIf-Modified-Since: " +
                                    date(file_mtime) + "\r\n"))
                .status,
            200u);
  EXPECT_EQ(h.one(get("/f.txt", "If-None-Match: " + etag +
                                    "\r\nIf-Modified-Since: " + date(file_mtime - 99) + "\r\n"))
                .status,
            304u);
}

TEST_F(conditional, not_modified_beats_range) {
  harness h(root);
  EXPECT_EQ(h.one(get("/f.txt", "If-None-Match: " + etag + "\r\nRange: bytes=0-1\r\n")).status,
            304u);
}

TEST_F(conditional, if_range_with_matching_etag_gives_206) {
  harness h(root);
  const auto r = h.one(get("/f.txt", "Range: bytes=2-4\r\nIf-Range: " + etag + "\r\n"));
  EXPECT_EQ(r.status, 206u);
  EXPECT_EQ(r.body, "234");
}

TEST_F(conditional, if_range_with_other_etag_gives_200) {
  harness h(root);
  const auto r = h.one(get("/f.txt", "Range: bytes=2-4\r\nIf-Range: \"stale\"\r\n"));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "0123456789");
}

TEST_F(conditional, if_range_with_weak_etag_gives_200) {
  harness h(root);
  EXPECT_EQ(h.one(get("/f.txt", "Range: bytes=2-4\r\nIf-Range: W/" + etag + "\r\n")).status, 200u);
}

TEST_F(conditional, if_range_with_exact_date_gives_206) {
  harness h(root);
  EXPECT_EQ(
      h.one(get("/f.txt", "Range: bytes=2-4\r\nIf-Range: " + date(file_mtime) + "\r\n")).status,
      206u);
}

TEST_F(conditional, if_range_with_other_date_gives_200) {
  harness h(root);
  EXPECT_EQ(
      h.one(get("/f.txt", "Range: bytes=2-4\r\nIf-Range: " + date(file_mtime + 1) + "\r\n")).status,
      200u);
}

// --- If-Match and If-Unmodified-Since (§13.1.1, §13.1.4): 412 --------------

TEST_F(conditional, if_match_same_etag_is_200) {
  harness h(root);
  const auto r = h.one(get("/f.txt", "If-Match: " + etag + "\r\n"));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "0123456789");
}

TEST_F(conditional, if_match_other_etag_is_412_without_the_body) {
  harness h(root);
  const auto r = h.one(get("/f.txt", "If-Match: \"other\"\r\n"));
  EXPECT_EQ(r.status, 412u);
  EXPECT_EQ(r.body.find("0123456789"), std::string::npos);
}

TEST_F(conditional, if_match_star_list_and_repeated_fields) {
  harness h(root);
  EXPECT_EQ(h.one(get("/f.txt", "If-Match: *\r\n")).status, 200u);
  EXPECT_EQ(h.one(get("/f.txt", "If-Match: \"a\", " + etag + "\r\n")).status, 200u);
  EXPECT_EQ(h.one(get("/f.txt", "If-Match: \"a\"\r\nIf-Match: " + etag + "\r\n")).status, 200u);
}

TEST_F(conditional, if_match_uses_strong_comparison) {
  harness h(root);
  EXPECT_EQ(h.one(get("/f.txt", "If-Match: W/" + etag + "\r\n")).status, 412u);
}

TEST_F(conditional, if_unmodified_since_at_or_after_last_modified_is_200) {
  harness h(root);
  EXPECT_EQ(h.one(get("/f.txt", "If-Unmodified-Since: " + date(file_mtime) + "\r\n")).status, 200u);
  EXPECT_EQ(h.one(get("/f.txt", "If-Unmodified-Since: " + date(file_mtime + 5) + "\r\n")).status,
            200u);
}

TEST_F(conditional, if_unmodified_since_before_last_modified_is_412) {
  harness h(root);
  EXPECT_EQ(h.one(get("/f.txt", "If-Unmodified-Since: " + date(file_mtime - 1) + "\r\n")).status,
            412u);
}

TEST_F(conditional, unparsable_or_repeated_if_unmodified_since_is_ignored) {
  harness h(root);
  EXPECT_EQ(h.one(get("/f.txt", "If-Unmodified-Since: soon\r\n")).status, 200u);
  EXPECT_EQ(h.one(get("/f.txt", "If-Unmodified-Since: " + date(file_mtime - 1) +
                                    "\r\nIf-Unmodified-Since: " + date(file_mtime - 1) + "\r\n"))
                .status,
            200u);
}

TEST_F(conditional, if_match_takes_precedence_over_if_unmodified_since) {
  harness h(root);
  // §13.2.2 step 2 applies only without If-Match.
  EXPECT_EQ(h.one(get("/f.txt", "If-Match: " + etag +
                                    "\r\nIf-Unmodified-Since: " + date(file_mtime - 1) + "\r\n"))
                .status,
            200u);
}

TEST_F(conditional, precondition_failed_beats_not_modified_and_range) {
  harness h(root);
  // Steps 1-2 come before 3-5: a failed If-Match wins over a matching
  // If-None-Match and over a Range.
  EXPECT_EQ(h.one(get("/f.txt", "If-Match: \"other\"\r\nIf-None-Match: " + etag + "\r\n")).status,
            412u);
  EXPECT_EQ(h.one(get("/f.txt",
                      "If-Unmodified-Since: " + date(file_mtime - 1) + "\r\nRange: bytes=0-1\r\n"))
                .status,
            412u);
  // A passing If-Match lets If-None-Match decide.
  EXPECT_EQ(
      h.one(get("/f.txt", "If-Match: " + etag + "\r\nIf-None-Match: " + etag + "\r\n")).status,
      304u);
}

TEST_F(conditional, connection_stays_usable_after_412) {
  harness h(root);
  EXPECT_EQ(h.one(get("/f.txt", "If-Match: \"other\"\r\n")).status, 412u);
  EXPECT_EQ(h.one(get("/f.txt")).status, 200u);
}

TEST(if_match_matches, malformed_list_and_weak_validator_match_nothing) {
  EXPECT_FALSE(if_match_matches("\"abc", "\"abc\""));
  EXPECT_FALSE(if_match_matches("abc", "\"abc\""));
  EXPECT_TRUE(if_match_matches(",, \"abc\"", "\"abc\""));
  EXPECT_FALSE(if_match_matches("\"abc\"", "W/\"abc\""));
  EXPECT_TRUE(if_match_matches("*", "W/\"abc\""));
}

TEST(if_none_match_matches, malformed_list_matches_nothing) {
  EXPECT_FALSE(if_none_match_matches("\"abc", "\"abc\""));
  EXPECT_FALSE(if_none_match_matches("abc", "\"abc\""));
  EXPECT_TRUE(if_none_match_matches(",, \"abc\"", "\"abc\""));
}

}  // namespace
}  // namespace overlap::http::testing
