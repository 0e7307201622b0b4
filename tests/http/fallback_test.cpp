// --fallback: a request for a file that does not exist gets the fallback
// file with 200 (single-page applications route in the browser); what
// exists, and other errors, are untouched.
#include "http_test_support.hpp"

namespace overlap::http::testing {
namespace {

const std::string app = "<div id=app></div>";

http_config fallback_config(std::string fallback = "/index.html") {
  http_config c = harness::make_config();
  c.site.fallback = std::move(fallback);
  return c;
}

class fallback : public ::testing::Test {
 protected:
  temp_docroot root;
  void SetUp() override {
    root.write("index.html", app);
    root.write("style.css", "a{}");
    root.write("locked/.keep", "");
    root.mkdir("assets");
  }
};

TEST_F(fallback, a_missing_file_gets_the_fallback_with_200) {
  harness h(root, fallback_config());
  for (const char* target : {"/users/42", "/missing.js", "/style.css/", "/assets/app.js"}) {
    const auto r = h.one(get(target));
    EXPECT_EQ(r.status, 200u) << target;
    EXPECT_EQ(r.body, app) << target;
    EXPECT_EQ(r.field("Content-Type"), "text/html; charset=utf-8") << target;
    EXPECT_TRUE(r.field("ETag").has_value()) << target;
  }
  const auto head = h.one("HEAD /users/42 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(head.status, 200u);
  EXPECT_TRUE(head.body.empty());
}

TEST_F(fallback, what_exists_and_other_errors_are_untouched) {
  harness h(root, fallback_config());
  EXPECT_EQ(h.one(get("/style.css")).body, "a{}");
  EXPECT_EQ(h.one(get("/assets")).status, 301u);   // a directory: redirect as ever
  EXPECT_EQ(h.one(get("/assets/")).status, 403u);  // no index, no autoindex
  EXPECT_EQ(h.one(get("/.env")).status, 404u);     // refused by policy, not missing
  EXPECT_EQ(h.one(get("/%zz")).status, 400u);
}

TEST_F(fallback, conditionals_apply_to_the_fallback_file) {
  harness h(root, fallback_config());
  const auto etag = h.one(get("/index.html")).field("ETag");
  ASSERT_TRUE(etag.has_value());
  const auto r = h.one(get("/users/42", "If-None-Match: " + *etag + "\r\n"));
  EXPECT_EQ(r.status, 304u);
}

TEST_F(fallback, a_missing_fallback_file_leaves_404) {
  harness h(root, fallback_config("/app.html"));
  EXPECT_EQ(h.one(get("/users/42")).status, 404u);
  EXPECT_EQ(h.one(get("/app.html")).status, 404u);
  root.write("app.html", app);  // once it exists it is used
  EXPECT_EQ(h.one(get("/users/42")).body, app);
}

TEST_F(fallback, a_directory_at_the_fallback_path_is_not_used) {
  harness h(root, fallback_config("/assets"));
  EXPECT_EQ(h.one(get("/users/42")).status, 404u);
}

TEST_F(fallback, off_by_default) {
  harness h(root);
  EXPECT_EQ(h.one(get("/users/42")).status, 404u);
}

TEST_F(fallback, the_fallbacks_precompressed_twin_is_used) {
  root.write("index.html.gz", "pretend-gzip");
  http_config c = fallback_config();
  c.site.precompressed = true;
  harness h(root, c);
  const auto r = h.one(get("/users/42", "Accept-Encoding: gzip\r\n"));
  EXPECT_EQ(r.body, "pretend-gzip");
  EXPECT_EQ(r.field("Content-Encoding"), "gzip");
}

TEST_F(fallback, deferred_loads_end_in_the_fallback) {
  harness h(root, fallback_config());
  h.site().cache().defer_misses(true);
  const auto out = h.exchange_loading(get("/users/42") + get("/users/43"));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].body, app);
  EXPECT_EQ(out[1].body, app);
}

// With twins on and a client that accepts them, the missing path, the
// fallback and its (missing) twin are three loads; each outcome must stick,
// or the request would go round them for ever.
TEST_F(fallback, deferred_loads_converge_when_the_fallback_has_no_twin) {
  http_config c = fallback_config();
  c.site.precompressed = true;
  harness h(root, c);
  h.site().cache().defer_misses(true);
  const auto out = h.exchange_loading(get("/users/42", "Accept-Encoding: gzip, br\r\n") +
                                      get("/users/43", "Accept-Encoding: gzip\r\n"));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].body, app);
  EXPECT_EQ(out[1].body, app);
  EXPECT_EQ(out[1].field("Content-Encoding"), std::nullopt);
}

TEST_F(fallback, a_file_written_after_its_404_is_served_once_the_absence_is_stale) {
  harness h(root, fallback_config());
  EXPECT_EQ(h.one(get("/late.txt")).body, app);
  root.write("late.txt", "late");
  h.advance(std::chrono::milliseconds(1100));  // past the revalidation interval
  EXPECT_EQ(h.one(get("/late.txt")).body, "late");
}

}  // namespace
}  // namespace overlap::http::testing
