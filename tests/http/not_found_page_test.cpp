// --not-found-page: every 404 carries the content of a file of the site
// (its Content-Type, no validators, no ranges, no conditionals); while the
// file is missing, the built-in page.
#include "http_test_support.hpp"

namespace overlap::http::testing {
namespace {

const std::string page = "<h1>Nothing here</h1>";

http_config page_config(std::string path = "/404.html") {
  http_config c = harness::make_config();
  c.site.not_found_page = std::move(path);
  return c;
}

class not_found_page : public ::testing::Test {
 protected:
  temp_docroot root;
  void SetUp() override {
    root.write("404.html", page);
    root.write("index.html", "home");
    root.write("a.txt", "a");
    root.write(".secret", "key");
    root.mkdir("empty");
  }
};

TEST_F(not_found_page, a_missing_file_gets_the_page_with_404) {
  harness h(root, page_config());
  for (const char* target : {"/missing.html", "/deep/missing", "/a.txt/", "/.secret"}) {
    const auto r = h.one(get(target));
    EXPECT_EQ(r.status, 404u) << target;
    EXPECT_EQ(r.body, page) << target;
    EXPECT_EQ(r.field("Content-Type"), "text/html; charset=utf-8") << target;
    EXPECT_EQ(r.field("Content-Length"), std::to_string(page.size())) << target;
    EXPECT_EQ(r.field("ETag"), std::nullopt) << target;
    EXPECT_EQ(r.field("Last-Modified"), std::nullopt) << target;
    EXPECT_EQ(r.field("Accept-Ranges"), std::nullopt) << target;
  }
}

TEST_F(not_found_page, head_gets_the_fields_without_the_content) {
  harness h(root, page_config());
  const auto r = h.one("HEAD /missing HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.field("Content-Length"), std::to_string(page.size()));
  EXPECT_TRUE(r.body.empty());
}

// RFC 9110 §13.2.1 and §14.2: preconditions and ranges are for 2xx
// responses; a 404 ignores them.
TEST_F(not_found_page, conditionals_and_ranges_do_not_apply) {
  harness h(root, page_config());
  const auto etag = h.one(get("/404.html")).field("ETag");
  ASSERT_TRUE(etag.has_value());
  for (const std::string& fields :
       {"If-None-Match: " + *etag + "\r\n", std::string("If-None-Match: *\r\n"),
        std::string("If-Match: \"nope\"\r\n"), std::string("Range: bytes=0-3\r\n")}) {
    const auto r = h.one(get("/missing", fields));
    EXPECT_EQ(r.status, 404u) << fields;
    EXPECT_EQ(r.body, page) << fields;
  }
}

TEST_F(not_found_page, the_page_by_its_own_name_is_an_ordinary_200) {
  harness h(root, page_config());
  const auto r = h.one(get("/404.html"));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, page);
  EXPECT_TRUE(r.field("ETag").has_value());
}

TEST_F(not_found_page, other_errors_keep_the_built_in_page) {
  harness h(root, page_config());
  const auto forbidden = h.one(get("/empty/"));
  EXPECT_EQ(forbidden.status, 403u);
  EXPECT_NE(forbidden.body, page);
  const auto method = h.one("DELETE /missing HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(method.status, 405u);
  EXPECT_NE(method.body, page);
  const auto bad = h.one(get("/%zz"));  // last: a 400 closes the connection
  EXPECT_EQ(bad.status, 400u);
  EXPECT_NE(bad.body, page);
}

TEST_F(not_found_page, a_missing_page_leaves_the_built_in_404_until_it_exists) {
  harness h(root, page_config("/errors/404.html"));
  const auto before = h.one(get("/missing"));
  EXPECT_EQ(before.status, 404u);
  EXPECT_NE(before.body, page);
  root.mkdir("errors");
  root.write("errors/404.html", page);
  EXPECT_EQ(h.one(get("/other")).body, page);
}

TEST_F(not_found_page, a_directory_at_the_page_path_is_not_used) {
  harness h(root, page_config("/empty"));
  const auto r = h.one(get("/missing"));
  EXPECT_EQ(r.status, 404u);
  EXPECT_NE(r.body, "");
  EXPECT_EQ(r.field("Content-Type"), h.one(get("/other")).field("Content-Type"));
}

TEST_F(not_found_page, a_page_larger_than_the_memory_limit_is_sent_from_the_file) {
  const std::string big(default_small_file_bytes + 4096, 'p');
  root.write("big404.html", big);
  harness h(root, page_config("/big404.html"));
  const auto r = h.one(get("/missing"));
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.body.size(), big.size());
  EXPECT_EQ(r.body, big);
}

TEST_F(not_found_page, the_connection_stays_open_and_pipelined_responses_keep_their_order) {
  harness h(root, page_config());
  const auto out = h.exchange(get("/a.txt") + get("/missing") + get("/a.txt"));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].body, "a");
  EXPECT_EQ(out[1].status, 404u);
  EXPECT_EQ(out[1].body, page);
  EXPECT_EQ(out[2].body, "a");
}

TEST_F(not_found_page, with_a_fallback_only_refused_names_get_the_page) {
  http_config c = page_config();
  c.site.fallback = "/index.html";
  harness h(root, c);
  EXPECT_EQ(h.one(get("/users/42")).body, "home");
  const auto refused = h.one(get("/.secret"));
  EXPECT_EQ(refused.status, 404u);
  EXPECT_EQ(refused.body, page);
}

TEST_F(not_found_page, deferred_loads_end_in_the_page) {
  harness h(root, page_config());
  h.site().cache().defer_misses(true);
  const auto out = h.exchange_loading(get("/missing") + get("/.secret") + get("/missing"));
  ASSERT_EQ(out.size(), 3u);
  for (const auto& r : out) {
    EXPECT_EQ(r.status, 404u);
    EXPECT_EQ(r.body, page);
  }
}

}  // namespace
}  // namespace overlap::http::testing
