#include "http_test_support.hpp"

namespace overlap::http::testing {
namespace {

class methods : public ::testing::Test {
 protected:
  temp_docroot root;
  void SetUp() override { root.write("a.txt", "hello"); }
};

TEST_F(methods, get_is_200_with_body) {
  harness h(root);
  const auto r = h.one(get("/a.txt"));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.field("Content-Length"), "5");
}

TEST_F(methods, head_has_get_headers_and_no_body) {
  harness h(root);
  const auto g = h.one(get("/a.txt"));
  const auto r = h.one("HEAD /a.txt HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(r.status, 200u);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.head, g.head);
}

TEST_F(methods, head_of_missing_file_is_404_without_body) {
  harness h(root);
  const auto r = h.one("HEAD /missing HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(r.status, 404u);
  EXPECT_TRUE(r.body.empty());
  EXPECT_NE(r.field("Content-Length"), "0");
}

TEST_F(methods, post_is_405_with_allow) {
  harness h(root);
  const auto r = h.one("POST /a.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(r.field("Allow"), "GET, HEAD");
  EXPECT_FALSE(r.close_after);  // well-formed: the connection stays usable
}

TEST_F(methods, known_methods_other_than_get_head_are_405) {
  for (const char* m : {"PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"}) {
    harness h(root);
    const auto r = h.one(std::string(m) + " /a.txt HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_EQ(r.status, 405u) << m;
    EXPECT_EQ(r.field("Allow"), "GET, HEAD") << m;
  }
}

TEST_F(methods, options_asterisk_is_405) {
  harness h(root);
  EXPECT_EQ(h.one("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").status, 405u);
}

TEST_F(methods, connect_is_405_and_closes) {
  harness h(root);
  const auto r = h.one("CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n");
  EXPECT_EQ(r.status, 405u);
  EXPECT_TRUE(r.close_after);
}

TEST_F(methods, unknown_method_is_501) {
  harness h(root);
  const auto r = h.one("BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(r.status, 501u);
  EXPECT_EQ(r.field("Connection"), "close");
}

TEST_F(methods, unknown_method_extending_a_known_one_is_501) {
  harness h(root);
  EXPECT_EQ(h.one("GETX / HTTP/1.1\r\nHost: a\r\n\r\n").status, 501u);
}

TEST_F(methods, lowercase_method_is_501) {
  // Methods are case-sensitive tokens (RFC 9110 §9.1): "get" is a different,
  // unknown method.
  harness h(root);
  EXPECT_EQ(h.one("get / HTTP/1.1\r\nHost: a\r\n\r\n").status, 501u);
}

TEST_F(methods, unknown_method_split_byte_by_byte_is_501) {
  harness h(root);
  const std::string req = "BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n";
  std::vector<wire_response> out;
  for (char c : req) {
    h.conn().feed(std::span<const char>(&c, 1));
    h.drain(out);
  }
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].status, 501u);
}

TEST_F(methods, method_with_invalid_character_is_400) {
  harness h(root);
  EXPECT_EQ(h.one("G(T / HTTP/1.1\r\nHost: a\r\n\r\n").status, 400u);
}

TEST_F(methods, upgrade_request_is_served_then_closed) {
  harness h(root);
  const auto r =
      h.exchange(get("/a.txt", "Connection: Upgrade\r\nUpgrade: websocket\r\n") + get("/a.txt"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 200u);
  EXPECT_TRUE(r[0].close_after);
}

}  // namespace
}  // namespace overlap::http::testing
