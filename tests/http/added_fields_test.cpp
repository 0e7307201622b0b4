// --header: operator-added fields on every response the HTTP core writes,
// whatever its status or body, and the checks that keep them from splitting
// or contradicting a response.
#include "http_test_support.hpp"

#include <overlap/http/added_fields.hpp>

namespace overlap::http::testing {
namespace {

constexpr const char* nosniff = "nosniff";
constexpr const char* hsts = "max-age=31536000; includeSubDomains";

http_config with_added_fields() {
  http_config c = harness::make_config();
  EXPECT_EQ(add_response_field(c.added_fields, "X-Content-Type-Options: nosniff"), "");
  EXPECT_EQ(add_response_field(c.added_fields, "Strict-Transport-Security: " + std::string(hsts)),
            "");
  c.site.autoindex = true;
  return c;
}

// How many times a field name starts a line of the head.
std::size_t occurrences(const wire_response& r, std::string_view name) {
  std::size_t n = 0;
  const std::string needle = "\r\n" + std::string(name) + ":";
  for (auto pos = r.head.find(needle); pos != std::string::npos; pos = r.head.find(needle, pos + 1))
    ++n;
  return n;
}

void expect_added(const wire_response& r, unsigned status, const char* what) {
  EXPECT_EQ(r.status, status) << what;
  EXPECT_EQ(r.field("X-Content-Type-Options"), nosniff) << what << "\n" << r.head;
  EXPECT_EQ(r.field("Strict-Transport-Security"), hsts) << what;
  EXPECT_EQ(occurrences(r, "X-Content-Type-Options"), 1u) << what;
  // The head still ends where it should: the fields did not eat the blank line.
  EXPECT_EQ(r.head.substr(r.head.size() - 4), "\r\n\r\n") << what;
}

class added_fields : public ::testing::Test {
 protected:
  temp_docroot root;
  void SetUp() override {
    root.write("small.txt", "0123456789");
    root.write("large.bin", std::string(64 * 1024, 'x'));  // sent from the file
    root.mkdir("dir");
    root.mkdir("listed");
    root.write("listed/a.txt", "a");
  }
};

TEST_F(added_fields, none_unless_configured) {
  harness h(root);
  const auto r = h.one(get("/small.txt"));
  EXPECT_EQ(r.field("X-Content-Type-Options"), std::nullopt);
  EXPECT_EQ(r.field("Strict-Transport-Security"), std::nullopt);
}

TEST_F(added_fields, on_every_file_response) {
  harness h(root, with_added_fields());
  // The first 200 of a small file is rendered for it; the second comes from
  // the shared rendering kept for the second.
  expect_added(h.one(get("/small.txt")), 200, "first 200 from memory");
  const auto again = h.one(get("/small.txt"));
  expect_added(again, 200, "shared 200 rendering");
  EXPECT_EQ(again.body, "0123456789");
  expect_added(h.one(get("/large.bin")), 200, "200 from the file");
  expect_added(h.one("HEAD /small.txt HTTP/1.1\r\nHost: example.test\r\n\r\n"), 200, "HEAD");
  const auto part = h.one(get("/large.bin", "Range: bytes=0-9\r\n"));
  expect_added(part, 206, "206");
  EXPECT_EQ(part.body, std::string(10, 'x'));
  const auto etag = again.field("ETag");
  ASSERT_TRUE(etag.has_value());
  expect_added(h.one(get("/small.txt", "If-None-Match: " + *etag + "\r\n")), 304, "304");
  expect_added(h.one(get("/listed/")), 200, "directory listing");
}

TEST_F(added_fields, on_redirects_and_errors) {
  harness h(root, with_added_fields());
  expect_added(h.one(get("/dir")), 301, "301");
  expect_added(h.one(get("/missing.txt")), 404, "404");
  expect_added(h.one(get("/small.txt", "Range: bytes=100-\r\n")), 416, "416");
  expect_added(h.one("DELETE /small.txt HTTP/1.1\r\nHost: example.test\r\n\r\n"), 405, "405");
  harness bad(root, with_added_fields());
  const auto r = bad.one("GET /small.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
  expect_added(r, 400, "400");
  EXPECT_TRUE(r.close_after);
}

TEST_F(added_fields, before_the_connection_field_of_a_closing_response) {
  harness h(root, with_added_fields());
  const auto r = h.one(get("/small.txt", "Connection: close\r\n"));
  expect_added(r, 200, "closing 200");
  EXPECT_EQ(r.field("Connection"), "close");
  EXPECT_LT(r.head.find("Strict-Transport-Security:"), r.head.find("Connection: close"));
}

TEST(add_response_field, renders_name_and_trimmed_value) {
  std::string rendered;
  EXPECT_EQ(add_response_field(rendered, "X-Frame-Options:DENY"), "");
  EXPECT_EQ(add_response_field(rendered, "Content-Security-Policy: \t default-src 'self' \t"), "");
  EXPECT_EQ(rendered,
            "X-Frame-Options: DENY\r\n"
            "Content-Security-Policy: default-src 'self'\r\n");
}

TEST(add_response_field, refuses_what_could_split_a_response) {
  std::string rendered = "X-Kept: 1\r\n";
  const std::string before = rendered;
  EXPECT_NE(add_response_field(rendered, "X-A: b\r\nSet-Cookie: s=1"), "");
  EXPECT_NE(add_response_field(rendered, "X-A: b\n"), "");
  EXPECT_NE(add_response_field(rendered, std::string_view("X-A: b\0c", 8)), "");
  EXPECT_NE(add_response_field(rendered, "X-A:"), "");     // empty value
  EXPECT_NE(add_response_field(rendered, "X-A:   "), "");  // only spaces
  EXPECT_NE(add_response_field(rendered, "X-A"), "");      // no colon
  EXPECT_NE(add_response_field(rendered, ": value"), "");  // no name
  EXPECT_NE(add_response_field(rendered, "X-A : b"), "");  // space before the colon
  EXPECT_NE(add_response_field(rendered, "X A: b"), "");   // not a token
  EXPECT_NE(add_response_field(rendered, "X\r\nA: b"), "");
  EXPECT_EQ(rendered, before);
}

TEST(add_response_field, refuses_fields_the_server_sets_in_any_case) {
  std::string rendered;
  for (const char* line :
       {"Content-Length: 5", "content-length: 5", "TRANSFER-ENCODING: chunked", "Connection: close",
        "Date: today", "Server: other", "Content-Type: text/plain", "ETag: \"x\"",
        "Last-Modified: never", "Content-Range: bytes 0-1/2", "Location: /", "Vary: Origin",
        "Keep-Alive: timeout=5", "Upgrade: h2c"}) {
    EXPECT_NE(add_response_field(rendered, line), "") << line;
  }
  EXPECT_EQ(add_response_field(rendered, "Cache-Control: no-store"),
            "Cache-Control is set with --cache-control");
  EXPECT_EQ(rendered, "");
}

TEST(add_response_field, bounds_the_total_size) {
  std::string rendered;
  const std::string value(1000, 'v');
  std::size_t added = 0;
  while (add_response_field(rendered, "X-Big-" + std::to_string(added) + ": " + value).empty()) {
    ++added;
    ASSERT_LT(added, 100u);
  }
  EXPECT_EQ(added, 4u);  // each line is a little over 1,000 bytes
  EXPECT_LE(rendered.size(), max_added_fields_bytes);
  EXPECT_EQ(add_response_field(rendered, "X-Small: 1"), "");  // a short one still fits
}

}  // namespace
}  // namespace overlap::http::testing
