// --cache-control: one configured Cache-Control value on every response that
// carries a file (200, 206, and the 304 that stands for a 200, RFC 9110
// §15.4.5), and on nothing else.
#include "http_test_support.hpp"

#include <overlap/http/field_value.hpp>

namespace overlap::http::testing {
namespace {

constexpr const char* policy = "public, max-age=3600";

http_config with_cache_control(std::string value) {
  http_config c = harness::make_config();
  c.site.cache_control = std::move(value);
  return c;
}

class cache_control : public ::testing::Test {
 protected:
  temp_docroot root;
  void SetUp() override {
    root.write("small.txt", "0123456789");
    root.write("large.bin",
               std::string(64 * 1024, 'x'));  // beyond small_file_bytes: no copy in memory
    root.mkdir("dir");
  }
};

TEST_F(cache_control, absent_unless_configured) {
  harness h(root);
  EXPECT_EQ(h.one(get("/small.txt")).field("Cache-Control"), std::nullopt);
  EXPECT_EQ(h.one(get("/large.bin")).field("Cache-Control"), std::nullopt);
}

TEST_F(cache_control, on_200_from_memory_and_from_the_file) {
  harness h(root, with_cache_control(policy));
  for (const char* target : {"/small.txt", "/large.bin"}) {
    const auto r = h.one(get(target));
    EXPECT_EQ(r.status, 200u) << target;
    EXPECT_EQ(r.field("Cache-Control"), policy) << target;
  }
  // The shared rendering of a small file's 200 (one per second) has it too,
  // on a second request served from it.
  const auto again = h.one(get("/small.txt"));
  EXPECT_EQ(again.field("Cache-Control"), policy);
  EXPECT_EQ(again.body, "0123456789");
}

TEST_F(cache_control, on_head_and_on_206) {
  harness h(root, with_cache_control(policy));
  const auto head = h.one("HEAD /small.txt HTTP/1.1\r\nHost: example.test\r\n\r\n");
  EXPECT_EQ(head.status, 200u);
  EXPECT_EQ(head.field("Cache-Control"), policy);
  const auto part = h.one(get("/large.bin", "Range: bytes=0-9\r\n"));
  EXPECT_EQ(part.status, 206u);
  EXPECT_EQ(part.field("Cache-Control"), policy);
  EXPECT_EQ(part.field("Content-Length"), "10");
}

TEST_F(cache_control, on_304_with_the_validators) {
  harness h(root, with_cache_control(policy));
  const auto first = h.one(get("/small.txt"));
  const auto etag = first.field("ETag");
  ASSERT_TRUE(etag.has_value());
  const auto r = h.one(get("/small.txt", "If-None-Match: " + *etag + "\r\n"));
  EXPECT_EQ(r.status, 304u);
  EXPECT_EQ(r.field("Cache-Control"), policy);
  EXPECT_EQ(r.field("ETag"), etag);
  EXPECT_TRUE(r.field("Last-Modified").has_value());
  EXPECT_EQ(r.field("Content-Type"), std::nullopt);
  EXPECT_EQ(r.field("Content-Length"), std::nullopt);
}

TEST_F(cache_control, not_on_errors_or_redirects) {
  harness h(root, with_cache_control(policy));
  const auto missing = h.one(get("/missing.txt"));
  EXPECT_EQ(missing.status, 404u);
  EXPECT_EQ(missing.field("Cache-Control"), std::nullopt);
  const auto redirect = h.one(get("/dir"));
  EXPECT_EQ(redirect.status, 301u);
  EXPECT_EQ(redirect.field("Cache-Control"), std::nullopt);
  const auto unsatisfiable = h.one(get("/small.txt", "Range: bytes=100-\r\n"));
  EXPECT_EQ(unsatisfiable.status, 416u);
  EXPECT_EQ(unsatisfiable.field("Cache-Control"), std::nullopt);
}

TEST(is_field_value, accepts_visible_text_with_inner_spaces) {
  EXPECT_TRUE(is_field_value("no-store"));
  EXPECT_TRUE(is_field_value(policy));
  EXPECT_TRUE(is_field_value("private,\tmax-age=0"));
  EXPECT_TRUE(is_field_value("x=\"quoted \xc3\xa9\""));  // obs-text is allowed
}

TEST(is_field_value, refuses_empty_edges_and_control_characters) {
  using namespace std::string_view_literals;
  EXPECT_FALSE(is_field_value(""));
  EXPECT_FALSE(is_field_value(" max-age=60"));
  EXPECT_FALSE(is_field_value("max-age=60 "));
  EXPECT_FALSE(is_field_value("\tmax-age=60"));
  EXPECT_FALSE(is_field_value("max-age=60\r\nSet-Cookie: a=b"));  // would add a field
  EXPECT_FALSE(is_field_value("max-age=60\n"));
  EXPECT_FALSE(is_field_value("max-age=60\r"));
  EXPECT_FALSE(is_field_value("max\0age"sv));
  EXPECT_FALSE(
      is_field_value("max\x7f"
                     "age"));
  EXPECT_FALSE(
      is_field_value("max\x01"
                     "age"));
}

}  // namespace
}  // namespace overlap::http::testing
