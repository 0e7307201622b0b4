// The access log's two line formats: exact lines for ordinary requests, and
// hostile request text that must neither forge a field or a line nor make a
// JSON line invalid.
#include "access_log_format.hpp"

#include <gtest/gtest.h>

#include <string>

namespace overlap::server {
namespace {

using namespace std::string_view_literals;

http::access_log_record typical() {
  http::access_log_record r;
  r.method = "GET";
  r.target = "/docs/index.html?lang=en";
  r.protocol = "HTTP/1.1";
  r.status = 200;
  r.body_bytes = 2326;
  r.referer = "http://example.test/";
  r.user_agent = "curl/7.88.1";
  r.duration = std::chrono::microseconds(181);
  return r;
}

std::string combined(const http::access_log_record& r) {
  std::string out;
  append_combined_line(out, "192.0.2.7", r, "[10/Oct/2000:13:55:36 +0000]");
  return out;
}

std::string json(const http::access_log_record& r) {
  std::string out;
  append_json_line(out, "2001:db8::1", r, "2000-10-10T13:55:36Z");
  return out;
}

TEST(access_log_format, combined_line_of_a_typical_request) {
  EXPECT_EQ(combined(typical()),
            "192.0.2.7 - - [10/Oct/2000:13:55:36 +0000] \"GET /docs/index.html?lang=en "
            "HTTP/1.1\" 200 2326 \"http://example.test/\" \"curl/7.88.1\"\n");
}

TEST(access_log_format, combined_line_uses_dashes_for_absent_fields_and_no_body) {
  auto r = typical();
  r.status = 304;
  r.body_bytes = 0;
  r.referer = {};
  r.user_agent = {};
  EXPECT_EQ(combined(r),
            "192.0.2.7 - - [10/Oct/2000:13:55:36 +0000] \"GET /docs/index.html?lang=en "
            "HTTP/1.1\" 304 - \"-\" \"-\"\n");
}

TEST(access_log_format, combined_fields_cannot_break_out_of_their_quotes_or_line) {
  auto r = typical();
  r.target = "/a\"b\\c";
  r.user_agent = "x\" 500 0 \"forged\nline\x7f";
  const std::string line = combined(r);
  EXPECT_NE(line.find("\"GET /a\\\"b\\\\c HTTP/1.1\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"x\\\" 500 0 \\\"forged\\x0aline\\x7f\"\n"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line
}

TEST(access_log_format, json_line_of_a_typical_request) {
  EXPECT_EQ(json(typical()),
            "{\"time\":\"2000-10-10T13:55:36Z\",\"client\":\"2001:db8::1\",\"method\":\"GET\","
            "\"target\":\"/docs/index.html?lang=en\",\"protocol\":\"HTTP/1.1\",\"status\":200,"
            "\"bytes\":2326,\"referer\":\"http://example.test/\",\"user_agent\":\"curl/7.88.1\","
            "\"duration_us\":181}\n");
}

TEST(access_log_format, json_line_has_empty_strings_for_absent_fields) {
  auto r = typical();
  r.body_bytes = 0;
  r.referer = {};
  r.user_agent = {};
  const std::string line = json(r);
  EXPECT_NE(line.find("\"bytes\":0,\"referer\":\"\",\"user_agent\":\"\","), std::string::npos)
      << line;
}

TEST(access_log_format, json_escapes_quotes_backslashes_and_control_bytes) {
  auto r = typical();
  r.user_agent = "a\"b\\c\nd\te\x01\x7f"sv;
  const std::string line = json(r);
  EXPECT_NE(line.find("\"user_agent\":\"a\\\"b\\\\c\\u000ad\\u0009e\\u0001\\u007f\""),
            std::string::npos)
      << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(access_log_format, json_keeps_utf8_and_escapes_bytes_that_are_not) {
  auto r = typical();
  // é (2 bytes), € (3), 😀 (4) pass as they are.
  r.user_agent = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"sv;
  EXPECT_NE(json(r).find("\"user_agent\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""),
            std::string::npos);
  struct bad_case {
    std::string_view in, out;
  };
  for (const bad_case& c : {
           bad_case{"\xff"sv, "\\u00ff"sv},                                   // never in UTF-8
           bad_case{"\xc0\xaf"sv, "\\u00c0\\u00af"sv},                        // overlong '/'
           bad_case{"\xed\xa0\x80"sv, "\\u00ed\\u00a0\\u0080"sv},             // a surrogate
           bad_case{"\xf4\x90\x80\x80"sv, "\\u00f4\\u0090\\u0080\\u0080"sv},  // past U+10FFFF
           bad_case{"\xe2\x82"sv, "\\u00e2\\u0082"sv},                        // cut short
           bad_case{"\xe2\x82x"sv, "\\u00e2\\u0082x"sv},                      // interrupted
       }) {
    r.target = c.in;
    const std::string line = json(r);
    EXPECT_NE(line.find("\"target\":\"" + std::string(c.out) + "\""), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace overlap::server
