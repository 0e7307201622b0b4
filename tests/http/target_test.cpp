// Request-target normalisation and traversal attempts.
#include "http_test_support.hpp"

#include <overlap/http/target.hpp>

namespace overlap::http::testing {
namespace {

std::string normalized(std::string_view in, path_outcome expected = path_outcome::ok,
                       bool dotfiles = false) {
  std::string out;
  EXPECT_EQ(normalize_path(in, dotfiles, out), expected) << in;
  return out;
}

TEST(normalize_path, dot_segments_are_removed) {
  EXPECT_EQ(normalized("/a/./b/../c"), "/a/c");
  EXPECT_EQ(normalized("/a/b/.."), "/a/");
  EXPECT_EQ(normalized("/a/."), "/a/");
  EXPECT_EQ(normalized("/"), "/");
}

TEST(normalize_path, empty_segments_collapse) {
  EXPECT_EQ(normalized("//a///b//"), "/a/b/");
}

TEST(normalize_path, percent_encoding_is_decoded_once) {
  EXPECT_EQ(normalized("/a%20b"), "/a b");
  EXPECT_EQ(normalized("/%252e%252e/x"), "/%2e%2e/x");  // never decoded twice
}

TEST(normalize_path, encoded_dot_segments_are_dot_segments) {
  EXPECT_EQ(normalized("/a/%2e%2E/b"), "/b");
  normalized("/%2e%2e/etc/passwd", path_outcome::bad_request);
}

TEST(normalize_path, climbing_above_root_is_bad_request) {
  normalized("/..", path_outcome::bad_request);
  normalized("/a/../../b", path_outcome::bad_request);
  normalized("/a%2f..%2f..%2fetc", path_outcome::bad_request);
}

TEST(normalize_path, nul_and_bad_escapes_are_bad_request) {
  normalized("/a%00b", path_outcome::bad_request);
  normalized("/a%zz", path_outcome::bad_request);
  normalized("/a%4", path_outcome::bad_request);
  normalized("/a%", path_outcome::bad_request);
}

TEST(normalize_path, backslash_is_bad_request) {
  normalized("/a\\..\\b", path_outcome::bad_request);
  normalized("/a%5c..%5cb", path_outcome::bad_request);
}

TEST(normalize_path, overlong_utf8_dot_stays_two_bytes) {
  EXPECT_EQ(normalized("/%c0%ae%c0%ae/x"), "/\xc0\xae\xc0\xae/x");
  EXPECT_EQ(normalized("/a%c0%afb"),
            "/a\xc0\xaf"
            "b");
}

TEST(normalize_path, dotfiles_are_not_found_unless_allowed) {
  normalized("/.git/config", path_outcome::not_found);
  normalized("/a/.env", path_outcome::not_found);
  normalized("/%2egit/config", path_outcome::not_found);
  EXPECT_EQ(normalized("/.well-known/x", path_outcome::ok, true), "/.well-known/x");
  EXPECT_EQ(normalized("/.git/../a"), "/a");  // the final path has no dotfile
}

TEST(split_request_target, query_is_stripped) {
  const auto t = split_request_target("/a/b?x=1&y");
  EXPECT_EQ(t.form, target_form::origin);
  EXPECT_EQ(t.path, "/a/b");
  EXPECT_EQ(t.query, "x=1&y");
}

TEST(split_request_target, absolute_form_uses_its_path) {
  const auto t = split_request_target("http://example.test:8080/a?q");
  EXPECT_EQ(t.form, target_form::absolute);
  EXPECT_EQ(t.path, "/a");
  EXPECT_EQ(split_request_target("HTTP://example.test").path, "/");
  EXPECT_EQ(split_request_target("ftp://example.test/a").form, target_form::invalid);
}

class traversal : public ::testing::Test {
 protected:
  temp_docroot outside;
  temp_docroot root;
  const std::string secret = "TOP-SECRET-OUTSIDE";
  void SetUp() override {
    outside.write("secret.txt", secret);
    root.write("pub/index.html", "public");
    root.symlink((outside.path() / "secret.txt").string(), "pub/escape.txt");
    root.symlink(outside.path().string(), "outdir");
    root.symlink("index.html", "pub/inside-link.html");
  }
  void expect_no_secret(harness& h, const std::string& target, unsigned status) {
    const auto r = h.one(get(target));
    EXPECT_EQ(r.status, status) << target;
    EXPECT_EQ(r.body.find(secret), std::string::npos) << target;
  }
};

TEST_F(traversal, raw_dot_dot_is_rejected) {
  harness h(root);
  expect_no_secret(h, "/../" + outside.path().filename().string() + "/secret.txt", 400);
}

TEST_F(traversal, encoded_dot_dot_is_rejected) {
  harness h(root);
  expect_no_secret(h, "/pub/%2e%2e/%2e%2e/secret.txt", 400);
}

TEST_F(traversal, double_encoded_dot_dot_is_a_literal_name) {
  harness h(root);
  expect_no_secret(h, "/pub/%252e%252e/%252e%252e/secret.txt", 404);
}

TEST_F(traversal, backslash_is_rejected) {
  harness h(root);
  expect_no_secret(h, "/pub\\..\\..\\secret.txt", 400);
}

TEST_F(traversal, overlong_utf8_is_a_literal_name) {
  harness h(root);
  expect_no_secret(h, "/pub/%c0%ae%c0%ae/%c0%ae%c0%ae/secret.txt", 404);
}

TEST_F(traversal, encoded_nul_is_rejected) {
  harness h(root);
  expect_no_secret(h, "/pub/index.html%00.txt", 400);
}

TEST_F(traversal, symlink_to_outside_file_is_404) {
  harness h(root);
  expect_no_secret(h, "/pub/escape.txt", 404);
}

TEST_F(traversal, symlinked_directory_outside_is_404) {
  harness h(root);
  expect_no_secret(h, "/outdir/secret.txt", 404);
}

TEST_F(traversal, symlink_inside_docroot_is_served) {
  harness h(root);
  const auto r = h.one(get("/pub/inside-link.html"));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "public");
}

TEST_F(traversal, absolute_form_target_is_served_from_its_path) {
  harness h(root);
  const auto r = h.one(get("http://other.test/pub/index.html"));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "public");
}

}  // namespace
}  // namespace overlap::http::testing
