// Range requests: RFC 9110 §14.
#include "http_test_support.hpp"

#include <overlap/http/range.hpp>

namespace overlap::http::testing {
namespace {

TEST(evaluate_range, forms_a_b_a_dash_and_suffix) {
  auto d = evaluate_range("bytes=0-4", 10);
  EXPECT_EQ(d.outcome, range_outcome::satisfiable);
  EXPECT_EQ(d.first, 0u);
  EXPECT_EQ(d.length, 5u);
  d = evaluate_range("bytes=7-", 10);
  EXPECT_EQ(d.first, 7u);
  EXPECT_EQ(d.length, 3u);
  d = evaluate_range("bytes=-4", 10);
  EXPECT_EQ(d.first, 6u);
  EXPECT_EQ(d.length, 4u);
}

TEST(evaluate_range, last_pos_past_end_is_clamped) {
  const auto d = evaluate_range("bytes=5-999999999999999999999999", 10);
  EXPECT_EQ(d.outcome, range_outcome::satisfiable);
  EXPECT_EQ(d.length, 5u);
}

TEST(evaluate_range, suffix_longer_than_file_is_whole_file) {
  const auto d = evaluate_range("bytes=-50", 10);
  EXPECT_EQ(d.first, 0u);
  EXPECT_EQ(d.length, 10u);
}

TEST(evaluate_range, unsatisfiable_forms) {
  EXPECT_EQ(evaluate_range("bytes=10-", 10).outcome, range_outcome::unsatisfiable);
  EXPECT_EQ(evaluate_range("bytes=10-20", 10).outcome, range_outcome::unsatisfiable);
  EXPECT_EQ(evaluate_range("bytes=-0", 10).outcome, range_outcome::unsatisfiable);
  EXPECT_EQ(evaluate_range("bytes=99999999999999999999999-", 10).outcome,
            range_outcome::unsatisfiable);
}

TEST(evaluate_range, invalid_syntax_is_ignored) {
  for (const char* v : {"bytes=5-4", "bytes=a-b", "bytes=", "bytes", "items=0-1", "bytes=--1",
                        "bytes=1-2-3", "bytes=0x1-2", "bytes= -", "bytes=-"})
    EXPECT_EQ(evaluate_range(v, 10).outcome, range_outcome::ignore) << v;
}

TEST(evaluate_range, unit_is_case_insensitive_and_ows_allowed) {
  EXPECT_EQ(evaluate_range("Bytes = 1-2 ", 10).outcome, range_outcome::satisfiable);
  EXPECT_EQ(evaluate_range("bytes=1-2,", 10).outcome, range_outcome::satisfiable);
}

TEST(evaluate_range, multiple_ranges_are_ignored) {
  EXPECT_EQ(evaluate_range("bytes=0-1,3-4", 10).outcome, range_outcome::ignore);
}

TEST(evaluate_range, empty_representation_ignores_range) {
  EXPECT_EQ(evaluate_range("bytes=0-1", 0).outcome, range_outcome::ignore);
}

class ranges : public ::testing::Test {
 protected:
  temp_docroot root;
  void SetUp() override {
    root.write("f.txt", "0123456789");
    root.write("big.bin", std::string(default_small_file_bytes * 2, 'z') + "END");
  }
};

TEST_F(ranges, single_range_is_206_with_content_range) {
  harness h(root);
  const auto r = h.one(get("/f.txt", "Range: bytes=3-5\r\n"));
  EXPECT_EQ(r.status, 206u);
  EXPECT_EQ(r.body, "345");
  EXPECT_EQ(r.field("Content-Range"), "bytes 3-5/10");
  EXPECT_EQ(r.field("Content-Length"), "3");
  EXPECT_EQ(r.field("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_TRUE(r.field("ETag").has_value());
}

TEST_F(ranges, suffix_range_of_large_file_is_file_range) {
  harness h(root);
  const auto r = h.one(get("/big.bin", "Range: bytes=-3\r\n"));
  EXPECT_EQ(r.status, 206u);
  EXPECT_EQ(r.body, "END");
  const auto n = default_small_file_bytes * 2 + 3;
  EXPECT_EQ(r.field("Content-Range"), "bytes " + std::to_string(n - 3) + "-" +
                                          std::to_string(n - 1) + "/" + std::to_string(n));
}

TEST_F(ranges, unsatisfiable_range_is_416_with_size) {
  harness h(root);
  const auto r = h.one(get("/f.txt", "Range: bytes=10-\r\n"));
  EXPECT_EQ(r.status, 416u);
  EXPECT_EQ(r.field("Content-Range"), "bytes */10");
  EXPECT_FALSE(r.close_after);
}

TEST_F(ranges, invalid_range_is_ignored_with_200) {
  harness h(root);
  const auto r = h.one(get("/f.txt", "Range: bytes=5-2\r\n"));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "0123456789");
}

TEST_F(ranges, multiple_ranges_give_whole_body) {
  harness h(root);
  const auto r = h.one(get("/f.txt", "Range: bytes=0-1, 4-5\r\n"));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "0123456789");
}

TEST_F(ranges, repeated_range_field_is_ignored) {
  harness h(root);
  EXPECT_EQ(h.one(get("/f.txt", "Range: bytes=0-1\r\nRange: bytes=2-3\r\n")).status, 200u);
}

TEST_F(ranges, range_on_head_is_ignored) {
  harness h(root);
  const auto r = h.one("HEAD /f.txt HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\n\r\n");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.field("Content-Length"), "10");
}

}  // namespace
}  // namespace overlap::http::testing
