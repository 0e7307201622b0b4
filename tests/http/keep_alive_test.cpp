// Persistence (RFC 9112 §9.3) and pipelining (§9.3.2).
#include "http_test_support.hpp"

namespace overlap::http::testing {
namespace {

class keep_alive : public ::testing::Test {
 protected:
  temp_docroot root;
  void SetUp() override {
    root.write("a.txt", "AAA");
    root.write("b.txt", "BBBB");
    root.write("c.txt", "CCCCC");
  }
};

TEST_F(keep_alive, http11_stays_open_by_default) {
  harness h(root);
  const auto r = h.one(get("/a.txt"));
  EXPECT_FALSE(r.close_after);
  EXPECT_EQ(r.field("Connection"), std::nullopt);
  EXPECT_FALSE(h.conn().should_close());
}

TEST_F(keep_alive, connection_close_closes_after_response) {
  harness h(root);
  const auto r = h.exchange(get("/a.txt", "Connection: close\r\n") + get("/b.txt"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].field("Connection"), "close");
  EXPECT_TRUE(h.conn().should_close());
}

http_config with_request_limit(std::uint64_t n) {
  http_config c = harness::make_config();
  c.max_requests_per_connection = n;
  return c;
}

// --max-requests-per-connection: the Nth response says close, earlier ones
// (also the shared rendering of a small file's 200) do not.
TEST_F(keep_alive, request_limit_closes_after_the_last_allowed_response) {
  harness h(root, with_request_limit(3));
  for (int i = 0; i < 2; ++i) {
    const auto r = h.one(get("/a.txt"));
    EXPECT_EQ(r.status, 200u);
    EXPECT_FALSE(r.close_after) << i;
    EXPECT_EQ(r.field("Connection"), std::nullopt) << i;
    EXPECT_FALSE(h.conn().should_close()) << i;
  }
  const auto last = h.one(get("/b.txt"));
  EXPECT_EQ(last.body, "BBBB");
  EXPECT_TRUE(last.close_after);
  EXPECT_EQ(last.field("Connection"), "close");
  EXPECT_TRUE(h.conn().should_close());
}

TEST_F(keep_alive, request_limit_leaves_later_pipelined_requests_unanswered) {
  harness h(root, with_request_limit(2));
  const auto r = h.exchange(get("/a.txt") + get("/b.txt") + get("/c.txt") + get("/a.txt"));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].body, "AAA");
  EXPECT_FALSE(r[0].close_after);
  EXPECT_EQ(r[1].body, "BBBB");
  EXPECT_EQ(r[1].field("Connection"), "close");
  EXPECT_TRUE(h.conn().should_close());
}

// A request that waits for its file to load is counted once, not again when
// it is answered.
TEST_F(keep_alive, request_limit_counts_a_request_waiting_for_a_load_once) {
  harness h(root, with_request_limit(2));
  h.site().cache().defer_misses(true);
  const auto first = h.exchange_loading(get("/a.txt"));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_FALSE(first[0].close_after);
  const auto second = h.exchange_loading(get("/b.txt"));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].body, "BBBB");
  EXPECT_TRUE(second[0].close_after);
}

TEST_F(keep_alive, no_request_limit_by_default) {
  harness h(root);
  for (int i = 0; i < 100; ++i) ASSERT_FALSE(h.one(get("/a.txt")).close_after) << i;
}

TEST_F(keep_alive, http10_closes_by_default) {
  harness h(root);
  const auto r = h.one("GET /a.txt HTTP/1.0\r\n\r\n");  // HTTP/1.0 may omit Host
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.field("Connection"), "close");
  EXPECT_TRUE(h.conn().should_close());
}

TEST_F(keep_alive, http10_keep_alive_stays_open_and_says_so) {
  harness h(root);
  const auto r = h.exchange(
      "GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b.txt HTTP/1.0\r\n\r\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].field("Connection"), "keep-alive");
  EXPECT_EQ(r[1].field("Connection"), "close");
}

TEST_F(keep_alive, http10_with_transfer_encoding_closes) {
  // RFC 9112 §6.1: HTTP/1.0 + Transfer-Encoding means faulty framing.
  harness h(root);
  const auto r = h.exchange(
      "GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: "
      "chunked\r\n\r\n0\r\n\r\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].close_after);
}

TEST_F(keep_alive, three_pipelined_requests_give_three_ordered_responses) {
  harness h(root);
  const std::string in = get("/a.txt") + get("/b.txt") + get("/c.txt");
  EXPECT_EQ(h.conn().feed(std::span<const char>(in)), in.size());
  ASSERT_EQ(h.conn().pending(), 3u);
  std::vector<wire_response> r;
  h.drain(r);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].body, "AAA");
  EXPECT_EQ(r[1].body, "BBBB");
  EXPECT_EQ(r[2].body, "CCCCC");
}

TEST_F(keep_alive, requests_split_byte_by_byte_parse_identically) {
  harness h(root);
  const std::string in =
      get("/a.txt", "If-None-Match: \"x\"\r\nRange: bytes=0-1\r\n") + get("/b.txt") + get("/c.txt");
  std::vector<wire_response> r;
  for (char c : in) {
    EXPECT_EQ(h.conn().feed(std::span<const char>(&c, 1)), 1u);
    h.drain(r);
  }
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].status, 206u);
  EXPECT_EQ(r[0].body, "AA");
  EXPECT_EQ(r[1].body, "BBBB");
  EXPECT_EQ(r[2].body, "CCCCC");
}

TEST_F(keep_alive, body_on_get_is_consumed_without_desync) {
  harness h(root);
  // The body spells a request; it must not be parsed as one.
  const std::string smuggled = get("/c.txt");
  const std::string in =
      "GET /a.txt HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(smuggled.size()) +
      "\r\n\r\n" + smuggled + get("/b.txt");
  const auto r = h.exchange(in);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].body, "AAA");
  EXPECT_EQ(r[1].body, "BBBB");
}

TEST_F(keep_alive, chunked_body_on_get_is_consumed_without_desync) {
  harness h(root);
  const auto r = h.exchange(
      "GET /a.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nGET "
      "/\r\n0\r\nTrailer: x\r\n\r\n" +
      get("/b.txt"));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].body, "AAA");
  EXPECT_EQ(r[1].body, "BBBB");
}

TEST_F(keep_alive, chunked_in_any_case_with_empty_list_elements_frames_the_body) {
  // Transfer codings are case-insensitive and empty list elements do not
  // count (RFC 9110 §5.6.1): this is chunked alone, and the next request
  // starts after its last chunk.
  harness h(root);
  const auto r = h.exchange(
      "GET /a.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , "
      "Chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n" +
      get("/b.txt"));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].status, 200u);
  EXPECT_EQ(r[1].body, "BBBB");
}

TEST_F(keep_alive, full_queue_stops_consuming_input) {
  auto config = harness::make_config();
  config.max_pipelined_responses = 2;
  harness h(root, config);
  const std::string in = get("/a.txt") + get("/b.txt") + get("/c.txt");
  const std::size_t used = h.conn().feed(std::span<const char>(in));
  EXPECT_EQ(used, 2 * get("/a.txt").size());
  EXPECT_TRUE(h.conn().queue_full());
  EXPECT_FALSE(h.conn().wants_input());
  std::vector<wire_response> r;
  h.drain(r);
  EXPECT_EQ(h.conn().feed(std::span<const char>(in).subspan(used)), in.size() - used);
  h.drain(r);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[2].body, "CCCCC");
}

// The response queue starts with one slot and grows only when a client
// pipelines. Growing while the ring has wrapped (the front slot not first)
// must keep the queued responses, and the bytes their plans point into, in
// order; an autoindex page is a body held in its slot's own buffer.
TEST_F(keep_alive, response_queue_grows_while_wrapped_without_losing_order) {
  auto config = harness::make_config();
  config.site.autoindex = true;
  root.mkdir("dir");
  root.write("dir/x.txt", "x");
  harness h(root, config);
  std::string in = get("/a.txt") + get("/dir/");
  ASSERT_EQ(h.conn().feed(std::span<const char>(in)), in.size());
  ASSERT_EQ(h.conn().pending(), 2u);
  // Send only the first response: the ring's front moves to its second slot.
  std::vector<wire_response> r;
  const std::size_t first = static_cast<std::size_t>(h.conn().pending_plan(0).total_bytes());
  std::string wire;
  iovec iov[max_gather_iovecs];
  for (std::size_t i = 0, k = h.conn().gather(iov); i < k; ++i)
    wire.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
  h.conn().bytes_sent(first);
  ASSERT_EQ(h.conn().pending(), 1u);
  // Five more: the queue wraps, then grows twice with the listing queued.
  in = get("/b.txt") + get("/c.txt") + get("/a.txt") + get("/dir/") + get("/b.txt");
  ASSERT_EQ(h.conn().feed(std::span<const char>(in)), in.size());
  ASSERT_EQ(h.conn().pending(), 6u);
  h.drain(r);
  ASSERT_EQ(r.size(), 6u);
  EXPECT_NE(r[0].body.find("x.txt"), std::string::npos) << r[0].body;
  EXPECT_EQ(r[1].body, "BBBB");
  EXPECT_EQ(r[2].body, "CCCCC");
  EXPECT_EQ(r[3].body, "AAA");
  EXPECT_EQ(r[4].body, r[0].body);
  EXPECT_EQ(r[5].body, "BBBB");
  EXPECT_EQ(wire.substr(0, 9), "HTTP/1.1 ");
}

TEST_F(keep_alive, eof_between_requests_closes_after_flush) {
  harness h(root);
  const std::string in = get("/a.txt");
  h.conn().feed(std::span<const char>(in));
  h.conn().feed_eof();
  EXPECT_FALSE(h.conn().should_close());  // the response is still queued
  std::vector<wire_response> r;
  h.drain(r);
  EXPECT_TRUE(h.conn().should_close());
}

TEST_F(keep_alive, eof_mid_request_gives_no_response) {
  harness h(root);
  const std::string in = "GET /a.txt HTTP/1.1\r\nHo";
  h.conn().feed(std::span<const char>(in));
  h.conn().feed_eof();
  EXPECT_FALSE(h.conn().has_output());
  EXPECT_TRUE(h.conn().should_close());
}

TEST_F(keep_alive, leading_empty_line_before_request_is_ignored) {
  harness h(root);
  EXPECT_EQ(h.one("\r\n" + get("/a.txt")).status, 200u);
}

}  // namespace
}  // namespace overlap::http::testing
