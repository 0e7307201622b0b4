// A cached small file's 200 response is rendered once per second and shared:
// head and body in one buffer, the same bytes a per-request rendering gives.
#include "http_test_support.hpp"

#include <array>
#include <vector>

namespace overlap::http::testing {
namespace {

using namespace std::chrono_literals;

class rendered : public ::testing::Test {
 protected:
  temp_docroot root;
  void SetUp() override { root.write("a.txt", "alpha-body"); }
};

TEST_F(rendered, small_file_response_is_one_buffer_with_head_and_body) {
  harness h(root);
  const std::string in = get("/a.txt");
  h.conn().feed(std::span<const char>(in));
  ASSERT_EQ(h.conn().pending(), 1u);
  EXPECT_NE(h.conn().pending_plan(0).rendered, nullptr);
  std::array<iovec, max_gather_iovecs> iov{};
  ASSERT_EQ(h.conn().gather(iov), 1u);
  const std::string wire = concat(std::span(iov.data(), 1));
  EXPECT_TRUE(wire.starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_TRUE(wire.ends_with("\r\n\r\nalpha-body"));
  EXPECT_NE(wire.find("\r\nContent-Length: 10\r\n"), std::string::npos);
  EXPECT_NE(wire.find("\r\nDate: " + std::string(h.clock().date_value()) + "\r\n"),
            std::string::npos);
}

TEST_F(rendered, responses_in_one_second_share_one_rendering) {
  harness h(root);
  const std::string in = get("/a.txt") + get("/a.txt");
  h.conn().feed(std::span<const char>(in));
  ASSERT_EQ(h.conn().pending(), 2u);
  EXPECT_EQ(h.conn().pending_plan(0).rendered, h.conn().pending_plan(1).rendered);
  const auto r = h.exchange("");  // drains both
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].head, r[1].head);
  EXPECT_EQ(r[1].body, "alpha-body");
}

TEST_F(rendered, a_new_second_gets_a_new_date_and_queued_responses_keep_theirs) {
  harness h(root);
  const std::string first_date(h.clock().date_value());
  const std::string in = get("/a.txt");
  h.conn().feed(std::span<const char>(in));  // queued, not sent yet
  h.advance(1000ms);
  const std::string second_date(h.clock().date_value());
  ASSERT_NE(first_date, second_date);
  const auto r = h.exchange(in);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].field("Date"), first_date);
  EXPECT_EQ(r[1].field("Date"), second_date);
  EXPECT_EQ(r[0].body, "alpha-body");
  EXPECT_EQ(r[1].body, "alpha-body");
}

TEST_F(rendered, a_rendering_still_being_sent_is_not_rewritten_two_seconds_later) {
  harness h(root);
  const std::string in = get("/a.txt");
  std::vector<std::string> dates;
  for (int i = 0; i < 3; ++i) {  // three seconds, none of the responses sent yet
    dates.emplace_back(h.clock().date_value());
    h.conn().feed(std::span<const char>(in));
    h.advance(1000ms);
  }
  const auto r = h.exchange("");
  ASSERT_EQ(r.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(r[i].field("Date"), dates[i]) << i;
    EXPECT_EQ(r[i].body, "alpha-body") << i;
  }
}

TEST_F(rendered, head_request_gets_the_get_head_without_body) {
  harness h(root);
  const auto r = h.exchange(get("/a.txt") + "HEAD /a.txt HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].head, r[0].head);
  EXPECT_EQ(r[1].body, "");
}

TEST_F(rendered, closing_and_http10_keep_alive_responses_say_so) {
  harness h(root);
  auto r = h.exchange(get("/a.txt") + "GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].field("Connection"), std::nullopt);
  EXPECT_EQ(r[1].field("Connection"), "keep-alive");
  EXPECT_EQ(r[1].body, "alpha-body");
  r = h.exchange(get("/a.txt", "Connection: close\r\n"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].field("Connection"), "close");
  EXPECT_EQ(r[0].body, "alpha-body");
}

TEST_F(rendered, a_changed_file_is_rendered_with_its_new_bytes) {
  http_config c = harness::make_config();
  c.site.revalidate_interval_ms = 0ms;  // check the disk on every request
  harness h(root, c);
  EXPECT_EQ(h.one(get("/a.txt")).body, "alpha-body");
  root.write("a.txt", "beta-body, longer");
  root.set_mtime("a.txt", 1'600'000'000);
  const auto r = h.one(get("/a.txt"));
  EXPECT_EQ(r.body, "beta-body, longer");
  EXPECT_EQ(r.field("Content-Length"), "17");
}

}  // namespace
}  // namespace overlap::http::testing
