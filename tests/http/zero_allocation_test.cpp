// Serving a cached small file allocates nothing per request after warm-up.
// This binary replaces the global operator new to count allocations
// (tests/counting_new.hpp).
#include "http_test_support.hpp"

#include "counting_new.hpp"

using overlap_test::allocations;
using overlap_test::counting;

namespace overlap::http::testing {
namespace {

// Sends everything queued through the sender-facing API, as a server would.
std::size_t send_all(connection& c) {
  std::array<iovec, max_gather_iovecs> iov{};
  std::size_t bytes = 0;
  while (c.has_output()) {
    const std::size_t n = c.gather(iov);
    std::size_t len = 0;
    for (std::size_t i = 0; i < n; ++i) len += iov[i].iov_len;
    if (n == 0) len = static_cast<std::size_t>(c.next_file_body()->length);
    c.bytes_sent(len);
    bytes += len;
  }
  return bytes;
}

std::size_t serve_pipelined(harness& h, const std::string& input) {
  std::size_t used = 0, responses = 0;
  while (used < input.size() && !h.conn().input_closed()) {
    used += h.conn().feed(std::span<const char>(input).subspan(used));
    responses += h.conn().pending();
    send_all(h.conn());
  }
  return responses;
}

TEST(zero_allocation, pipelined_gets_of_cached_small_file_allocate_nothing) {
  temp_docroot root;
  root.write("index.html", std::string(2000, 'x'));
  harness h(root);
  std::string one = get("/index.html", "User-Agent: bench/1.0\r\nAccept: */*\r\n");
  std::string input;
  for (int i = 0; i < 1000; ++i) input += one;
  // Warm-up with a full pipeline: opens the file and sizes the head buffer of
  // every response slot (each slot reserves its buffer on first use).
  std::string warm;
  for (std::size_t i = 0; i < 2 * overlap::http::default_max_pipelined_responses; ++i) warm += one;

  serve_pipelined(h, warm);
  allocations = 0;
  counting = true;
  const std::size_t responses = serve_pipelined(h, input);
  counting = false;
  EXPECT_EQ(responses, 1000u);
  EXPECT_EQ(allocations.load(), 0u);
}

TEST(zero_allocation, conditional_and_range_requests_allocate_nothing) {
  temp_docroot root;
  root.write("a.css", std::string(500, 'c'));
  harness h(root);
  const std::string etag = *h.one(get("/a.css")).field("ETag");
  const std::string three = get("/a.css", "If-None-Match: " + etag + "\r\n") +
                            get("/a.css", "Range: bytes=10-19\r\n") +
                            "HEAD /a.css HTTP/1.1\r\nHost: a\r\n\r\n";
  std::string input;
  for (int i = 0; i < 100; ++i) input += three;
  std::string warm;  // a full pipeline, so every response slot is sized
  for (std::size_t i = 0; i < overlap::http::default_max_pipelined_responses; ++i) warm += three;
  serve_pipelined(h, warm);
  allocations = 0;
  counting = true;
  const std::size_t responses = serve_pipelined(h, input);
  counting = false;
  EXPECT_EQ(responses, 300u);
  EXPECT_EQ(allocations.load(), 0u);
}

TEST(zero_allocation, a_cached_small_file_allocates_nothing_from_second_to_second) {
  // Its shared 200 rendering is redone each second for the Date, into the
  // buffer of two seconds before once no response holds it.
  temp_docroot root;
  root.write("index.html", std::string(700, 'y'));
  harness h(root);
  std::string pair = get("/index.html") + get("/index.html");
  for (int i = 0; i < 3; ++i) {  // warm: slots sized, both renderings made
    serve_pipelined(h, pair);
    h.advance(std::chrono::milliseconds(1000));
  }
  allocations = 0;
  counting = true;
  std::size_t responses = 0;
  for (int i = 0; i < 10; ++i) {
    responses += serve_pipelined(h, pair);
    h.advance(std::chrono::milliseconds(1000));
  }
  counting = false;
  EXPECT_EQ(responses, 20u);
  EXPECT_EQ(allocations.load(), 0u);
}

TEST(zero_allocation, counter_sees_allocations) {
  // Guards the tests here: the counting operator new is really in use.
  EXPECT_EQ(overlap_test::allocations_counted_for_one_new(), 1u);
}

}  // namespace
}  // namespace overlap::http::testing
