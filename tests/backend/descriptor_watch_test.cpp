// descriptor_watch::async_wait: readiness of a descriptor overlap does not
// do I/O on, as a completion, on both backends and in all three forms.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <system_error>

#include "backend/forms.hpp"
#include "overlap/descriptor_watch.hpp"
#include "overlap/error.hpp"
#include "overlap/proactor.hpp"

namespace {

using namespace std::chrono_literals;
using overlap::readiness;
using overlap_test::form;
using overlap_test::op_record;

// A non-blocking pipe, both ends closed at the end of the test.
struct pipe_pair {
  int read_end = -1;
  int write_end = -1;
  pipe_pair() {
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
      throw std::system_error(errno, std::system_category());
    read_end = fds[0];
    write_end = fds[1];
  }
  ~pipe_pair() {
    close_read();
    close_write();
  }
  void close_read() {
    if (read_end >= 0) ::close(std::exchange(read_end, -1));
  }
  void close_write() {
    if (write_end >= 0) ::close(std::exchange(write_end, -1));
  }
  void put(std::size_t n = 1) const {
    std::array<char, 64> b{};
    ASSERT_EQ(::write(write_end, b.data(), n), static_cast<ssize_t>(n));
  }
  std::size_t drain() const {
    std::array<char, 65536> b{};
    std::size_t total = 0;
    for (ssize_t n; (n = ::read(read_end, b.data(), b.size())) > 0;)
      total += static_cast<std::size_t>(n);
    return total;
  }
  std::size_t fill() const {  // until the pipe is full
    std::array<char, 65536> b{};
    std::size_t total = 0;
    for (ssize_t n; (n = ::write(write_end, b.data(), b.size())) > 0;)
      total += static_cast<std::size_t>(n);
    return total;
  }
};

// A pipe, a watch on its read end and a record, for each handler form.
class descriptor_watch_forms : public ::testing::TestWithParam<form> {
 protected:
  overlap::proactor p;
  pipe_pair pipe;
  overlap::descriptor_watch reader{p, pipe.read_end};
  op_record r;

  void wait(overlap::descriptor_watch& w, readiness what, overlap::op_options o = {}) {
    if (GetParam() == form::handler_object) {
      r.initiating = true;
      w.async_wait(what, r.handler, o);
      r.initiating = false;
      return;
    }
    overlap_test::start(GetParam(), p, r,
                        [&w, what, o](auto&& token) -> decltype(w.async_wait(what, token, o)) {
                          return w.async_wait(what, token, o);
                        });
  }
  // Starts a wait and checks it is still waiting after a turn of the loop.
  void wait_pending(overlap::descriptor_watch& w, readiness what) {
    wait(w, what);
    p.poll();
    ASSERT_EQ(r.calls, 0) << "completed with nothing to report";
  }
  // Runs the loop until the wait completes; checks it did, once.
  void run_to_completion() {
    p.run();
    ASSERT_EQ(r.calls, 1);
    EXPECT_FALSE(r.ran_during_initiation);
  }
};
INSTANTIATE_TEST_SUITE_P(forms, descriptor_watch_forms, overlap_test::all_forms(),
                         overlap_test::form_name);

TEST_P(descriptor_watch_forms, data_arriving_completes_a_readable_wait) {
  wait_pending(reader, readiness::readable);
  pipe.put();
  run_to_completion();
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_NE(r.bytes & POLLIN, 0u);
}

TEST_P(descriptor_watch_forms, a_descriptor_already_ready_completes_after_the_call_returns) {
  pipe.put();
  wait(reader, readiness::readable);
  EXPECT_EQ(r.calls, 0);
  run_to_completion();
  EXPECT_NE(r.bytes & POLLIN, 0u);
}

// Level, not edge: data nobody read completes the next wait as well.
TEST_P(descriptor_watch_forms, unread_data_completes_every_wait) {
  pipe.put(2);
  for (int i = 0; i < 3; ++i) {
    r.calls = 0;
    wait(reader, readiness::readable);
    run_to_completion();
    EXPECT_NE(r.bytes & POLLIN, 0u) << "wait " << i;
  }
  // Once read, the next wait waits again.
  EXPECT_EQ(pipe.drain(), 2u);
  r.calls = 0;
  wait_pending(reader, readiness::readable);
  pipe.put();
  run_to_completion();
}

TEST_P(descriptor_watch_forms, space_freed_completes_a_writable_wait) {
  overlap::descriptor_watch writer(p, pipe.write_end);
  ASSERT_GT(pipe.fill(), 0u);
  wait_pending(writer, readiness::writable);
  ASSERT_GT(pipe.drain(), 0u);
  run_to_completion();
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_NE(r.bytes & POLLOUT, 0u);
}

TEST_P(descriptor_watch_forms, the_writer_closing_completes_with_a_hang_up) {
  wait_pending(reader, readiness::readable);
  pipe.close_write();
  run_to_completion();
  EXPECT_NE(r.bytes & POLLHUP, 0u);
}

TEST_P(descriptor_watch_forms, cancel_reports_operation_aborted_once) {
  wait_pending(reader, readiness::readable);
  reader.cancel();
  run_to_completion();
  EXPECT_EQ(r.ec, overlap::errc::operation_aborted);
  pipe.put();  // nothing more is delivered
  p.poll();
  EXPECT_EQ(r.calls, 1);
}

TEST_P(descriptor_watch_forms, a_deadline_reports_timed_out) {
  overlap::op_options o;
  o.timeout = 20ms;
  wait(reader, readiness::readable, o);
  run_to_completion();
  EXPECT_EQ(r.ec, overlap::errc::timed_out);
}

// The watch works on its own duplicate: the caller may close its descriptor.
TEST(descriptor_watch, the_callers_descriptor_may_be_closed) {
  overlap::proactor p;
  pipe_pair pipe;
  overlap::descriptor_watch w(p, pipe.read_end);
  pipe.close_read();
  op_record r;
  w.async_wait(readiness::readable,
               [&](std::error_code ec, std::size_t events) { r.note(ec, events); });
  p.poll();
  ASSERT_EQ(r.calls, 0);
  pipe.put();
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_NE(r.bytes & POLLIN, 0u);
}

TEST(descriptor_watch, either_direction_reports_what_is_ready) {
  overlap::proactor p;
  pipe_pair pipe;
  overlap::descriptor_watch w(p, pipe.write_end);
  op_record r;
  w.async_wait(readiness::either,
               [&](std::error_code ec, std::size_t events) { r.note(ec, events); });
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_NE(r.bytes & POLLOUT, 0u);
  EXPECT_EQ(r.bytes & POLLIN, 0u);
}

TEST(descriptor_watch, a_regular_file_is_always_ready) {
  overlap::proactor p;
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  overlap::descriptor_watch w(p, ::fileno(f));
  op_record r;
  w.async_wait(readiness::readable,
               [&](std::error_code ec, std::size_t events) { r.note(ec, events); });
  p.run();
  std::fclose(f);
  ASSERT_EQ(r.calls, 1);
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_NE(r.bytes & POLLIN, 0u);
}

TEST(descriptor_watch, a_bad_descriptor_is_refused_at_construction) {
  overlap::proactor p;
  EXPECT_THROW(overlap::descriptor_watch(p, -1), std::system_error);
  EXPECT_THROW(overlap::descriptor_watch(p, 1 << 20), std::system_error);
}

// Destroyed with a wait in flight: the wait ends with operation_aborted,
// nothing leaks (ASan), and the handler runs once.
TEST(descriptor_watch, destroyed_with_a_wait_in_flight) {
  overlap::proactor p;
  pipe_pair pipe;
  op_record r;
  {
    overlap::descriptor_watch w(p, pipe.read_end);
    w.async_wait(readiness::readable,
                 [&](std::error_code ec, std::size_t events) { r.note(ec, events); });
    p.poll();
    ASSERT_EQ(r.calls, 0);
  }
  p.run();
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.ec, overlap::errc::operation_aborted);
}

}  // namespace
