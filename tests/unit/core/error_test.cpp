// overlap::errc, its category, and the mapping of kernel results: raw -errno
// never reaches callers.
#include <gtest/gtest.h>

#include <cerrno>
#include <system_error>

#include "overlap/error.hpp"

namespace {

TEST(error, operation_aborted_compares_equal_to_std_operation_canceled) {
  const std::error_code ec = overlap::errc::operation_aborted;
  EXPECT_EQ(ec, std::errc::operation_canceled);
  EXPECT_NE(ec, std::errc::timed_out);
}

TEST(error, timed_out_compares_equal_to_std_timed_out) {
  const std::error_code ec = overlap::errc::timed_out;
  EXPECT_EQ(ec, std::errc::timed_out);
  EXPECT_NE(ec, std::errc::operation_canceled);
}

TEST(error, not_supported_compares_equal_to_std_operation_not_supported) {
  EXPECT_EQ(std::error_code(overlap::errc::not_supported), std::errc::operation_not_supported);
}

TEST(error, eof_is_its_own_condition) {
  const std::error_code ec = overlap::errc::eof;
  EXPECT_TRUE(ec);
  EXPECT_EQ(ec, overlap::errc::eof);
  EXPECT_NE(ec, std::errc::connection_reset);
  EXPECT_NE(ec, std::errc::operation_canceled);
}

TEST(error, overlap_errors_have_their_own_named_category) {
  const std::error_code ec = overlap::errc::eof;
  EXPECT_EQ(&ec.category(), &overlap::overlap_category());
  EXPECT_STREQ(ec.category().name(), "overlap");
}

TEST(error, every_error_has_a_non_empty_message) {
  for (auto e : {overlap::errc::eof, overlap::errc::operation_aborted, overlap::errc::timed_out,
                 overlap::errc::not_supported}) {
    EXPECT_FALSE(std::error_code(e).message().empty()) << static_cast<int>(e);
  }
  for (int e : {ECONNREFUSED, ECONNRESET, EBADF, EPIPE, ENOBUFS}) {
    EXPECT_FALSE(overlap::error_from_result(-e).message().empty()) << e;
  }
}

TEST(error, cancelled_kernel_result_becomes_operation_aborted) {
  EXPECT_EQ(overlap::error_from_result(-ECANCELED), overlap::errc::operation_aborted);
}

TEST(error, expired_kernel_timeout_becomes_timed_out) {
  EXPECT_EQ(overlap::error_from_result(-ETIME), overlap::errc::timed_out);
}

TEST(error, other_kernel_results_become_positive_system_errors) {
  for (int e : {ECONNREFUSED, ECONNRESET, EBADF, EPIPE, EAGAIN, EMFILE}) {
    const std::error_code ec = overlap::error_from_result(-e);
    EXPECT_EQ(ec.category(), std::system_category()) << e;
    EXPECT_EQ(ec.value(), e) << "the raw -errno must not leak";
    EXPECT_GT(ec.value(), 0);
  }
  EXPECT_EQ(overlap::error_from_result(-ECONNREFUSED), std::errc::connection_refused);
  EXPECT_EQ(overlap::error_from_result(-EBADF), std::errc::bad_file_descriptor);
}

}  // namespace
