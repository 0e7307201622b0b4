// "Expect: 100-continue" (RFC 9110 §10.1.1): a client may hold its request
// content back until the server answers, so a request whose head carries the
// expectation is answered at once, without waiting for the content.
#include "http_test_support.hpp"

namespace overlap::http::testing {
namespace {

class expect_continue : public ::testing::Test {
 protected:
  temp_docroot root;
  void SetUp() override { root.write("a.txt", "AAA"); }
};

// The head alone, as a client waiting for 100 (Continue) sends it.
std::string head_expecting(std::string_view method, std::string_view more = "") {
  std::string s(method);
  s += " /a.txt HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n";
  s += more;
  s += "\r\n";
  return s;
}

TEST_F(expect_continue, a_get_with_content_length_is_answered_before_its_content) {
  harness h(root);
  const auto r = h.exchange(head_expecting("GET", "Content-Length: 5\r\n"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 200u);
  EXPECT_EQ(r[0].body, "AAA");
  // The content is never read, so nothing after it can be framed: close,
  // and drain what the client still sends first.
  EXPECT_EQ(r[0].field("Connection"), "close");
  EXPECT_TRUE(h.conn().should_close());
  EXPECT_TRUE(h.conn().input_may_follow());
}

TEST_F(expect_continue, a_post_gets_its_405_before_its_content) {
  harness h(root);
  const auto r = h.exchange(head_expecting("POST", "Content-Length: 1000000\r\n"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 405u);
  EXPECT_EQ(r[0].field("Connection"), "close");
  EXPECT_TRUE(h.conn().input_may_follow());
}

TEST_F(expect_continue, chunked_content_counts_as_content) {
  harness h(root);
  const auto r = h.exchange(head_expecting("GET", "Transfer-Encoding: chunked\r\n"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 200u);
  EXPECT_TRUE(h.conn().should_close());
}

TEST_F(expect_continue, content_already_sent_with_the_head_is_left_unread) {
  // The client did not wait: its content is in the same bytes. It is not
  // parsed as a request, and the connection still closes.
  harness h(root);
  const std::string in = head_expecting("GET", "Content-Length: 5\r\n") + "GET /";
  const std::size_t used = h.conn().feed(std::span<const char>(in));
  EXPECT_EQ(used, in.size() - 5);
  std::vector<wire_response> out;
  h.drain(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].status, 200u);
  EXPECT_TRUE(h.conn().should_close());
}

TEST_F(expect_continue, without_content_the_expectation_changes_nothing) {
  harness h(root);
  const auto r = h.exchange(head_expecting("GET") + get("/a.txt"));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].field("Connection"), std::nullopt);
  EXPECT_FALSE(h.conn().should_close());
  EXPECT_FALSE(h.conn().input_may_follow());
}

TEST_F(expect_continue, http10_ignores_the_expectation) {
  // §10.1.1: a server MUST ignore a 100-continue expectation in HTTP/1.0.
  harness h(root);
  const auto r = h.exchange(
      "GET /a.txt HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n"
      "Connection: keep-alive\r\n\r\nhello" +
      std::string("GET /a.txt HTTP/1.0\r\n\r\n"));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].body, "AAA");
}

TEST_F(expect_continue, other_expectations_are_not_100_continue) {
  harness h(root);
  const auto r = h.exchange(
      "GET /a.txt HTTP/1.1\r\nHost: a\r\nExpect: 100-continue-please\r\nContent-Length: 5\r\n\r\n"
      "hello" +
      get("/a.txt"));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_FALSE(h.conn().input_may_follow());
}

}  // namespace
}  // namespace overlap::http::testing
