// Mapping paths to files, directories, indexes and errors.
#include "http_test_support.hpp"

#include <sys/stat.h>

namespace overlap::http::testing {
namespace {

class static_files : public ::testing::Test {
 protected:
  temp_docroot root;
  void SetUp() override {
    root.write("hello.txt", "hello world");
    root.write("docs/index.html", "<p>docs</p>");
    root.write("plain/a.txt", "a");
    root.write("plain/b & <c>.txt", "b");
    root.write("plain/.hidden", "h");
    root.mkdir("plain/sub");
    root.write(".env", "SECRET=1");
  }
  static http_config with(void (*edit)(http_config&)) {
    auto c = harness::make_config();
    edit(c);
    return c;
  }
};

TEST_F(static_files, file_is_200_with_representation_fields) {
  harness h(root);
  const auto r = h.one(get("/hello.txt"));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "hello world");
  EXPECT_EQ(r.field("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r.field("Content-Length"), "11");
  EXPECT_EQ(r.field("Accept-Ranges"), "bytes");
  EXPECT_TRUE(r.field("ETag").has_value());
  EXPECT_TRUE(r.field("Last-Modified").has_value());
  EXPECT_EQ(r.field("Date"), std::string(h.clock().date_value()));
  EXPECT_TRUE(r.head.starts_with("HTTP/1.1 200 OK\r\n"));
}

TEST_F(static_files, query_is_ignored_for_lookup) {
  harness h(root);
  EXPECT_EQ(h.one(get("/hello.txt?v=3")).body, "hello world");
}

TEST_F(static_files, missing_file_is_404) {
  harness h(root);
  const auto r = h.one(get("/nope.txt"));
  EXPECT_EQ(r.status, 404u);
  EXPECT_FALSE(r.close_after);
  EXPECT_EQ(r.field("Content-Type"), "text/html; charset=utf-8");
}

TEST_F(static_files, file_with_trailing_slash_is_404) {
  harness h(root);
  EXPECT_EQ(h.one(get("/hello.txt/")).status, 404u);
}

TEST_F(static_files, directory_without_slash_is_301_keeping_query) {
  harness h(root);
  const auto r = h.one(get("/docs?lang=en"));
  EXPECT_EQ(r.status, 301u);
  EXPECT_EQ(r.field("Location"), "/docs/?lang=en");
}

TEST_F(static_files, redirect_location_is_percent_encoded) {
  root.mkdir("a dir");
  harness h(root);
  EXPECT_EQ(h.one(get("/a%20dir")).field("Location"), "/a%20dir/");
}

TEST_F(static_files, directory_serves_index_file) {
  harness h(root);
  const auto r = h.one(get("/docs/"));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "<p>docs</p>");
  EXPECT_EQ(r.field("Content-Type"), "text/html; charset=utf-8");
}

TEST_F(static_files, index_names_are_tried_in_order) {
  root.write("multi/index.htm", "second");
  harness h(root, with([](http_config& c) { c.site.index_names = {"index.html", "index.htm"}; }));
  EXPECT_EQ(h.one(get("/multi/")).body, "second");
}

TEST_F(static_files, directory_without_index_is_403) {
  harness h(root);
  EXPECT_EQ(h.one(get("/plain/")).status, 403u);
}

TEST_F(static_files, autoindex_lists_escaped_names_without_dotfiles) {
  harness h(root, with([](http_config& c) { c.site.autoindex = true; }));
  const auto r = h.one(get("/plain/"));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.field("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(r.body.find(">a.txt<"), std::string::npos);
  EXPECT_NE(r.body.find("b &amp; &lt;c&gt;.txt"), std::string::npos);
  EXPECT_NE(r.body.find("href=\"./b%20&amp;%20%3Cc%3E.txt\""), std::string::npos);
  EXPECT_NE(r.body.find(">sub/<"), std::string::npos);
  EXPECT_EQ(r.body.find(".hidden"), std::string::npos);
  EXPECT_EQ(r.body.find("<c>"), std::string::npos);
}

TEST_F(static_files, autoindex_lists_at_most_its_limit_and_says_so) {
  for (int i = 0; i < 30; ++i) root.write("many/f" + std::to_string(100 + i), "x");
  harness h(root, with([](http_config& c) {
              c.site.autoindex = true;
              c.site.autoindex_max_entries = 12;
            }));
  const auto r = h.one(get("/many/"));
  EXPECT_EQ(r.status, 200u);
  std::size_t listed = 0;
  for (auto at = r.body.find("<li><a href=\"./f"); at != std::string::npos;
       at = r.body.find("<li><a href=\"./f", at + 1)) {
    ++listed;
  }
  EXPECT_EQ(listed, 12u);
  EXPECT_NE(r.body.find("Only the first 12 entries"), std::string::npos);
  // Within the limit the page is complete and says nothing.
  EXPECT_EQ(h.one(get("/plain/")).body.find("Only the first"), std::string::npos);
}

TEST_F(static_files, dotfile_is_404) {
  harness h(root);
  EXPECT_EQ(h.one(get("/.env")).status, 404u);
  EXPECT_EQ(h.one(get("/plain/.hidden")).status, 404u);
}

TEST_F(static_files, dotfile_is_served_when_allowed) {
  harness h(root, with([](http_config& c) { c.site.serve_dotfiles = true; }));
  EXPECT_EQ(h.one(get("/.env")).body, "SECRET=1");
}

TEST_F(static_files, fifo_is_403) {
  ASSERT_EQ(::mkfifo((root.path() / "pipe").c_str(), 0644), 0);
  harness h(root);
  EXPECT_EQ(h.one(get("/pipe")).status, 403u);
}

TEST_F(static_files, unreadable_file_is_403) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores file permissions";
  root.write("locked.txt", "x");
  ::chmod((root.path() / "locked.txt").c_str(), 0);
  harness h(root);
  EXPECT_EQ(h.one(get("/locked.txt")).status, 403u);
}

TEST_F(static_files, large_file_is_sent_as_file_range) {
  const std::string big(default_small_file_bytes + 1, 'x');
  root.write("big.bin", big);
  harness h(root);
  const std::string in = get("/big.bin");
  h.conn().feed(std::span<const char>(in));
  ASSERT_EQ(h.conn().pending(), 1u);
  const auto& p = h.conn().pending_plan(0);
  EXPECT_EQ(p.body, body_kind::file);
  EXPECT_EQ(p.file.offset, 0u);
  EXPECT_EQ(p.file.length, big.size());
}

TEST_F(static_files, small_file_is_sent_from_memory) {
  harness h(root);
  const std::string in = get("/hello.txt");
  h.conn().feed(std::span<const char>(in));
  ASSERT_EQ(h.conn().pending(), 1u);
  EXPECT_EQ(h.conn().pending_plan(0).body, body_kind::memory);
}

TEST_F(static_files, empty_file_is_200_with_zero_length) {
  root.write("empty.txt", "");
  harness h(root);
  const auto r = h.one(get("/empty.txt"));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.field("Content-Length"), "0");
  EXPECT_TRUE(r.body.empty());
}

TEST_F(static_files, content_type_comes_from_extension) {
  root.write("app.js", "1");
  root.write("pic.PNG", "1");
  root.write("blob.unknownext", "1");
  harness h(root);
  EXPECT_EQ(h.one(get("/app.js")).field("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(h.one(get("/pic.PNG")).field("Content-Type"), "image/png");
  EXPECT_EQ(h.one(get("/blob.unknownext")).field("Content-Type"), "application/octet-stream");
}

}  // namespace
}  // namespace overlap::http::testing
