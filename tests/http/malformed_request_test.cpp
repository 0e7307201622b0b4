// Each class of bad input gets its RFC status, "Connection: close", and no
// further request is parsed from the same connection.
#include "http_test_support.hpp"

namespace overlap::http::testing {
namespace {

class malformed_request : public ::testing::Test {
 protected:
  temp_docroot root;
  void SetUp() override { root.write("index.html", "home"); }

  // Expects exactly one response with `status` that closes the connection,
  // even though a valid request follows the bad one.
  void expect_rejected(const std::string& bad, unsigned status,
                       http_config config = harness::make_config()) {
    harness h(root, std::move(config));
    const auto r = h.exchange(bad + get("/index.html"));
    ASSERT_EQ(r.size(), 1u) << bad;
    EXPECT_EQ(r[0].status, status) << bad;
    EXPECT_EQ(r[0].field("Connection"), "close") << bad;
    EXPECT_TRUE(r[0].close_after);
    EXPECT_EQ(r[0].field("Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(r[0].field("Content-Length"), std::to_string(r[0].body.size()));
    EXPECT_TRUE(h.conn().input_closed());
    EXPECT_TRUE(h.conn().should_close());
  }
};

TEST_F(malformed_request, te_with_content_length_is_400) {
  expect_rejected(
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: "
      "chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
      400);
}

TEST_F(malformed_request, repeated_identical_content_length_is_400) {
  // Choice (RFC 9110 §8.6 allows either): llhttp rejects any repeat; we keep that.
  expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
                  400);
}

TEST_F(malformed_request, conflicting_content_length_is_400) {
  expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
                  400);
}

TEST_F(malformed_request, content_length_list_is_400) {
  expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc", 400);
}

TEST_F(malformed_request, negative_content_length_is_400) {
  expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400);
}

TEST_F(malformed_request, overflowing_content_length_is_400) {
  expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                  400);
}

TEST_F(malformed_request, bad_chunk_size_is_400) {
  expect_rejected(
      "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400);
}

TEST_F(malformed_request, chunk_extension_junk_is_400) {
  expect_rejected(
      "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a\"b\r\nabc\r\n0\r\n\r\n",
      400);
}

TEST_F(malformed_request, chunk_size_followed_by_space_junk_is_400) {
  expect_rejected(
      "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3 junk\r\nabc\r\n0\r\n\r\n",
      400);
}

TEST_F(malformed_request, transfer_coding_other_than_final_chunked_is_400) {
  // RFC 9112 §6.3 item 4.
  expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nabc", 400);
}

TEST_F(malformed_request, unknown_transfer_coding_before_chunked_is_501) {
  // RFC 9112 §6.1: a coding the server does not understand.
  expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
                  501);
}

TEST_F(malformed_request, identity_on_an_earlier_field_line_is_501) {
  // "identity" is no longer a registered coding; split over two field lines,
  // which combine into one list.
  expect_rejected(
      "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\nTransfer-Encoding: "
      "chunked\r\n\r\n0\r\n\r\n",
      501);
}

TEST_F(malformed_request, chunked_twice_across_field_lines_is_400) {
  expect_rejected(
      "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
      "chunked\r\n\r\n0\r\n\r\n",
      400);
}

TEST_F(malformed_request, chunked_followed_by_another_field_line_is_400) {
  // §6.3: chunked must be the final coding of the combined list.
  expect_rejected(
      "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
      "gzip\r\n\r\n0\r\n\r\n",
      400);
}

TEST_F(malformed_request, obs_fold_is_400) {
  expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n", 400);
}

TEST_F(malformed_request, obs_fold_after_empty_value_is_400) {
  expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX-Folded:\r\n\ttwo\r\n\r\n", 400);
}

TEST_F(malformed_request, whitespace_before_colon_is_400) {
  expect_rejected("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400);
}

TEST_F(malformed_request, empty_field_name_is_400) {
  expect_rejected("GET / HTTP/1.1\r\nHost: a\r\n: value\r\n\r\n", 400);
}

TEST_F(malformed_request, missing_host_in_http11_is_400) {
  expect_rejected("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400);
}

TEST_F(malformed_request, repeated_host_is_400) {
  expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
}

TEST_F(malformed_request, invalid_host_is_400) {
  expect_rejected("GET / HTTP/1.1\r\nHost: a b/c\r\n\r\n", 400);
  expect_rejected("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400);
  expect_rejected("GET / HTTP/1.1\r\nHost: a:80x\r\n\r\n", 400);
}

TEST_F(malformed_request, control_character_in_field_value_is_400) {
  expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01z\r\n\r\n", 400);
}

TEST_F(malformed_request, bare_garbage_is_400) {
  expect_rejected("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400);
}

TEST_F(malformed_request, relative_target_is_400) {
  expect_rejected("GET index.html HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

TEST_F(malformed_request, asterisk_target_with_get_is_400) {
  expect_rejected("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

TEST_F(malformed_request, long_target_is_414) {
  auto config = harness::make_config();
  config.limits.max_target_bytes = 100;
  expect_rejected(get("/" + std::string(100, 'a')), 414, config);
}

TEST_F(malformed_request, target_at_limit_is_accepted) {
  auto config = harness::make_config();
  config.limits.max_target_bytes = 100;
  harness h(root, config);
  EXPECT_EQ(h.one(get("/" + std::string(99, 'a'))).status, 404u);
}

TEST_F(malformed_request, large_header_block_is_431) {
  auto config = harness::make_config();
  config.limits.max_header_bytes = 200;
  expect_rejected(get("/", "X-Big: " + std::string(200, 'b') + "\r\n"), 431, config);
}

TEST_F(malformed_request, header_block_exactly_at_limit_is_accepted) {
  auto config = harness::make_config();
  const std::string base = get("/index.html", "X-Pad: \r\n");
  config.limits.max_header_bytes = base.size() + 10;
  harness h(root, config);
  const std::string exact = get("/index.html", "X-Pad: " + std::string(10, 'p') + "\r\n");
  ASSERT_EQ(exact.size(), config.limits.max_header_bytes);
  EXPECT_EQ(h.one(exact).status, 200u);
  h.reset();
  EXPECT_EQ(h.one(get("/index.html", "X-Pad: " + std::string(11, 'p') + "\r\n")).status, 431u);
}

TEST_F(malformed_request, endless_leading_newlines_are_431) {
  auto config = harness::make_config();
  config.limits.max_header_bytes = 64;
  expect_rejected(std::string(200, '\n'), 431, config);
}

TEST_F(malformed_request, http_2_request_line_is_505) {
  expect_rejected("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
}

TEST_F(malformed_request, http_1_2_is_505) {
  expect_rejected("GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505);
}

TEST_F(malformed_request, http_0_9_is_505) {
  expect_rejected("GET / HTTP/0.9\r\n\r\n", 505);
}

TEST_F(malformed_request, http2_preface_is_505) {
  expect_rejected("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505);
}

TEST_F(malformed_request, malformed_version_is_400) {
  expect_rejected("GET / HTTP/12.0\r\nHost: a\r\n\r\n", 400);
}

TEST_F(malformed_request, bare_cr_after_a_supported_version_is_400_not_505) {
  // The version is fine; the line ending is not (RFC 9112 §2.2).
  expect_rejected("GET / HTTP/1.1\rHost: a\r\n\r\n", 400);
}

TEST_F(malformed_request, lowercase_http_name_is_400) {
  expect_rejected("GET / http/1.1\r\nHost: a\r\n\r\n", 400);
}

TEST_F(malformed_request, get_body_over_discard_limit_is_413) {
  auto config = harness::make_config();
  config.limits.max_body_discard_bytes = 10;
  expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n01234567890", 413,
                  config);
}

TEST_F(malformed_request, chunked_body_over_discard_limit_is_413) {
  auto config = harness::make_config();
  config.limits.max_body_discard_bytes = 10;
  expect_rejected(
      "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
      "chunked\r\n\r\n6\r\n012345\r\n6\r\n012345\r\n0\r\n\r\n",
      413, config);
}

TEST_F(malformed_request, nothing_is_parsed_after_an_error) {
  harness h(root);
  EXPECT_EQ(h.one("GET / HTTP/1.1\r\nHost : a\r\n\r\n").status, 400u);
  EXPECT_EQ(h.conn().feed(std::span<const char>(get("/index.html"))), 0u);
  EXPECT_FALSE(h.conn().has_output());
}

TEST_F(malformed_request, error_split_byte_by_byte_gives_same_status) {
  harness h(root);
  const std::string bad = "GET / HTTP/1.1\r\nHost: a\r\nX: one\r\n two\r\n\r\n";
  std::vector<wire_response> out;
  for (char c : bad) {
    h.conn().feed(std::span<const char>(&c, 1));
    h.drain(out);
  }
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].status, 400u);
}

}  // namespace
}  // namespace overlap::http::testing
