// The sender-facing side: gather(), next_file_body(), bytes_sent(), logging.
#include "http_test_support.hpp"

#include <array>

namespace overlap::http::testing {
namespace {

class output : public ::testing::Test {
 protected:
  temp_docroot root;
  const std::string big = std::string(default_small_file_bytes + 10, 'L');
  void SetUp() override {
    root.write("s1.txt", "small-one");
    root.write("s2.txt", "small-two");
    root.write("big.bin", big);
  }
};

TEST_F(output, gather_joins_consecutive_memory_responses) {
  harness h(root);
  const std::string in = get("/s1.txt") + get("/s2.txt");
  h.conn().feed(std::span<const char>(in));
  std::array<iovec, max_gather_iovecs> iov{};
  const std::size_t n = h.conn().gather(iov);
  EXPECT_EQ(n, 2u);  // each small file's head and body are one rendered buffer
  const std::string wire = concat(std::span(iov.data(), n));
  EXPECT_NE(wire.find("small-one"), std::string::npos);
  EXPECT_NE(wire.find("small-two"), std::string::npos);
  h.conn().bytes_sent(wire.size());
  EXPECT_FALSE(h.conn().has_output());
}

TEST_F(output, gather_stops_before_file_body) {
  harness h(root);
  const std::string in = get("/s1.txt") + get("/big.bin") + get("/s2.txt");
  h.conn().feed(std::span<const char>(in));
  ASSERT_EQ(h.conn().pending(), 3u);
  std::array<iovec, max_gather_iovecs> iov{};
  std::size_t n = h.conn().gather(iov);
  ASSERT_EQ(n, 2u);                                     // s1 head+body, big head
  EXPECT_FALSE(h.conn().next_file_body().has_value());  // big's head not sent yet
  h.conn().bytes_sent(concat(std::span(iov.data(), n)).size());
  EXPECT_EQ(h.conn().gather(iov), 0u);
  auto f = h.conn().next_file_body();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->offset, 0u);
  EXPECT_EQ(f->length, big.size());
  h.conn().bytes_sent(100);  // partial splice
  f = h.conn().next_file_body();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->offset, 100u);
  EXPECT_EQ(f->length, big.size() - 100);
  h.conn().bytes_sent(f->length);
  n = h.conn().gather(iov);
  EXPECT_EQ(n, 1u);
  EXPECT_NE(concat(std::span(iov.data(), n)).find("small-two"), std::string::npos);
}

// gather()'s more_follows: whether the sender may hold a partial segment.
TEST_F(output, more_follows_is_false_at_the_end_of_a_keep_alive_burst) {
  harness h(root);
  const std::string in = get("/s1.txt") + get("/s2.txt");
  h.conn().feed(std::span<const char>(in));
  std::array<iovec, max_gather_iovecs> iov{};
  bool more = true;  // the opposite of what is expected: gather() must set it
  const std::size_t n = h.conn().gather(iov, &more);
  EXPECT_EQ(n, 2u);
  EXPECT_FALSE(more);  // the connection stays open: push now
}

TEST_F(output, more_follows_is_true_when_a_file_body_follows_the_head) {
  harness h(root);
  const std::string in = get("/big.bin");
  h.conn().feed(std::span<const char>(in));
  std::array<iovec, max_gather_iovecs> iov{};
  bool more = false;  // the opposite of what is expected: gather() must set it
  const std::size_t n = h.conn().gather(iov, &more);
  ASSERT_EQ(n, 1u);
  EXPECT_TRUE(more);
}

TEST_F(output, more_follows_is_true_when_the_iovecs_ran_out) {
  harness h(root);
  const std::string in = get("/s1.txt") + get("/s2.txt");
  h.conn().feed(std::span<const char>(in));
  std::array<iovec, 1> iov{};  // room for s1's response, not s2's
  bool more = false;           // the opposite of what is expected: gather() must set it
  const std::size_t n = h.conn().gather(iov, &more);
  ASSERT_EQ(n, 1u);
  EXPECT_TRUE(more);
}

TEST_F(output, more_follows_is_true_when_the_connection_closes_after_it) {
  harness h(root);
  const std::string in = get("/s1.txt", "Connection: close\r\n");
  h.conn().feed(std::span<const char>(in));
  std::array<iovec, max_gather_iovecs> iov{};
  bool more = false;  // the opposite of what is expected: gather() must set it
  const std::size_t n = h.conn().gather(iov, &more);
  ASSERT_EQ(n, 2u);
  EXPECT_TRUE(more);  // the FIN follows
}

TEST_F(output, partial_send_resumes_mid_head) {
  harness h(root);
  const std::string in = get("/s1.txt");
  h.conn().feed(std::span<const char>(in));
  std::array<iovec, 8> iov{};
  const std::string whole = concat(std::span(iov.data(), h.conn().gather(iov)));
  std::string sent;
  while (h.conn().has_output()) {
    const std::size_t n = h.conn().gather(iov);
    const std::string chunk = concat(std::span(iov.data(), n)).substr(0, 7);  // short writes
    sent += chunk;
    h.conn().bytes_sent(chunk.size());
  }
  EXPECT_EQ(sent, whole);
}

TEST_F(output, gather_respects_iovec_capacity) {
  harness h(root);
  // A 404's head and page are two buffers; s1's response is one.
  const std::string in = get("/s1.txt") + get("/missing") + get("/s2.txt");
  h.conn().feed(std::span<const char>(in));
  std::array<iovec, 2> iov{};
  EXPECT_EQ(h.conn().gather(iov), 2u);
  EXPECT_EQ(concat(std::span(iov.data(), 2)).find("small-two"), std::string::npos);
}

struct recording_log final : access_log_sink {
  std::vector<std::string> lines;
  std::vector<std::chrono::microseconds> durations;
  void on_response(const access_log_record& r) override {
    durations.push_back(r.duration);
    lines.push_back(std::string(r.method) + " " + std::string(r.target) + " " +
                    std::string(r.protocol) + " " + std::to_string(r.status) + " " +
                    std::to_string(r.body_bytes) + " [" + std::string(r.referer) + "] [" +
                    std::string(r.user_agent) + "]");
  }
};

TEST_F(output, access_log_gets_combined_log_fields_when_sent) {
  temp_docroot r2;
  r2.write("s1.txt", "small-one");
  harness h(r2);
  recording_log log;
  h.set_log(&log);
  const std::string in = get("/s1.txt?x", "Referer: http://ref/\r\nUser-Agent: test/1.0\r\n") +
                         get("/missing") + "HEAD /s1.txt HTTP/1.0\r\n\r\n";
  h.conn().feed(std::span<const char>(in));
  EXPECT_TRUE(log.lines.empty());  // logged when sent, not when planned
  std::vector<wire_response> out;
  h.drain(out);
  ASSERT_EQ(log.lines.size(), 3u);
  EXPECT_EQ(log.lines[0], "GET /s1.txt?x HTTP/1.1 200 9 [http://ref/] [test/1.0]");
  EXPECT_EQ(log.lines[1], "GET /missing HTTP/1.1 404 " +
                              std::to_string(error_page(http_status::not_found).size()) + " [] []");
  EXPECT_EQ(log.lines[2], "HEAD /s1.txt HTTP/1.0 200 0 [] []");
}

TEST_F(output, response_counts_are_kept_by_status_class_when_sent) {
  temp_docroot r2;
  r2.write("s1.txt", "small-one");
  harness h(r2);
  response_counts counts;
  h.set_counts(&counts);
  const std::string in = get("/s1.txt") + get("/missing") + get("/s1.txt", "If-None-Match: *\r\n");
  h.conn().feed(std::span<const char>(in));
  EXPECT_EQ(counts.by_class[2] + counts.by_class[3] + counts.by_class[4], 0u)
      << "counted when sent, not when planned";
  std::vector<wire_response> out;
  h.drain(out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(counts.by_class[2], 1u);
  EXPECT_EQ(counts.by_class[3], 1u);  // 304
  EXPECT_EQ(counts.by_class[4], 1u);
  EXPECT_EQ(counts.by_class[5], 0u);
  EXPECT_EQ(counts.body_bytes, 9u + error_page(http_status::not_found).size());
}

// The logged duration runs from the request head's completion (not its first
// byte) to the response's last byte reported sent, per response of a
// pipelined burst.
TEST_F(output, access_log_duration_runs_from_complete_head_to_last_byte) {
  using std::chrono::milliseconds;
  temp_docroot r2;
  r2.write("s1.txt", "small-one");
  harness h(r2);
  recording_log log;
  h.set_log(&log);
  const std::string first = get("/s1.txt");
  // The head arrives in two parts, 5 ms apart: timing starts at the second.
  EXPECT_EQ(h.conn().feed(std::span<const char>(first.data(), first.size() - 2)), first.size() - 2);
  h.advance(milliseconds(5));
  EXPECT_EQ(h.conn().feed(std::span<const char>(first.data() + first.size() - 2, 2)), 2u);
  ASSERT_TRUE(h.conn().has_output());
  h.advance(milliseconds(7));
  // Half the response goes out, then 1 ms later the rest.
  const std::size_t total = h.conn().pending_plan(0).total_bytes();
  h.conn().bytes_sent(total / 2);
  EXPECT_TRUE(log.lines.empty());
  h.advance(milliseconds(1));
  h.conn().bytes_sent(total - total / 2);
  ASSERT_EQ(log.durations.size(), 1u);
  EXPECT_EQ(log.durations[0], std::chrono::microseconds(8000));

  // Two pipelined requests complete together; their responses leave 3 and
  // 5 ms later.
  const std::string burst = get("/s1.txt") + get("/missing");
  EXPECT_EQ(h.conn().feed(std::span<const char>(burst)), burst.size());
  h.advance(milliseconds(3));
  h.conn().bytes_sent(h.conn().pending_plan(0).total_bytes());
  h.advance(milliseconds(2));
  h.conn().bytes_sent(h.conn().pending_plan(0).total_bytes());
  ASSERT_EQ(log.durations.size(), 3u);
  EXPECT_EQ(log.durations[1], std::chrono::microseconds(3000));
  EXPECT_EQ(log.durations[2], std::chrono::microseconds(5000));
}

TEST_F(output, access_log_records_unparsable_request) {
  harness h(root);
  recording_log log;
  h.set_log(&log);
  (void)h.one("BREW /pot HTTP/1.1\r\n\r\n");
  ASSERT_EQ(log.lines.size(), 1u);
  EXPECT_TRUE(log.lines[0].starts_with("- - HTTP/1.1 501 ")) << log.lines[0];
}

}  // namespace
}  // namespace overlap::http::testing
