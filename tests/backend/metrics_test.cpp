// Instrumentation: per-kind counters, latency histograms, the table of
// operations in flight, and trace events (op_metrics.hpp).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "backend/loopback.hpp"
#include "overlap/error.hpp"
#include "overlap/op_metrics.hpp"
#include "overlap/proactor.hpp"
#include "overlap/tcp_acceptor.hpp"
#include "overlap/timer.hpp"

using namespace std::chrono_literals;

namespace {

overlap::proactor_options tracked() {
  overlap::proactor_options o;
  o.track_operations = true;
  return o;
}

std::uint64_t bucket_total(const overlap::op_latency_histogram& h) {
  std::uint64_t n = 0;
  for (auto b : h.buckets) n += b;
  return n;
}

TEST(op_latency_histogram, puts_each_latency_in_the_bucket_of_its_upper_bound) {
  using h = overlap::op_latency_histogram;
  const auto bucket_of = [](std::chrono::nanoseconds d) {
    h x;
    x.record(d);
    for (std::size_t i = 0; i < h::bucket_count; ++i) {
      if (x.buckets[i] == 1) return i;
    }
    return h::bucket_count;
  };
  EXPECT_EQ(bucket_of(0ns), 0u);
  EXPECT_EQ(bucket_of(1us), 0u);
  EXPECT_EQ(bucket_of(1001ns), 1u);
  EXPECT_EQ(bucket_of(4us), 1u);
  EXPECT_EQ(bucket_of(5us), 2u);
  EXPECT_EQ(bucket_of(16us), 2u);
  EXPECT_EQ(bucket_of(17us), 3u);
  EXPECT_EQ(bucket_of(1ms), 5u);  // (256 µs, 1024 µs]
  EXPECT_EQ(bucket_of(h::upper_bound(h::bounded_buckets - 1)), h::bounded_buckets - 1);
  EXPECT_EQ(bucket_of(h::upper_bound(h::bounded_buckets - 1) + 1us), h::bounded_buckets);
  EXPECT_EQ(bucket_of(1000h), h::bounded_buckets);
  for (std::size_t i = 0; i + 1 < h::bounded_buckets; ++i) {
    EXPECT_EQ(h::upper_bound(i + 1), 4 * h::upper_bound(i));
  }
}

TEST(op_metrics, counts_started_completed_and_how_each_ended) {
  overlap::proactor p;
  overlap::timer t(p);
  t.async_wait(1ms, [](std::error_code, std::size_t) {});
  p.run();
  overlap::timer waiting(p);
  waiting.async_wait(1h, [](std::error_code, std::size_t) {});
  p.poll();
  const auto& timers = p.operation_metrics()[overlap::op_kind::timer];
  EXPECT_EQ(timers.started, 2u);
  EXPECT_EQ(timers.in_flight, 1u);
  EXPECT_EQ(timers.ok, 1u);
  waiting.cancel();
  p.run();
  EXPECT_EQ(timers.completions, 2u);
  EXPECT_EQ(timers.aborted, 1u);
  EXPECT_EQ(timers.in_flight, 0u);
  // Without track_operations there are no latencies and no table.
  EXPECT_EQ(timers.latency.count, 0u);
  EXPECT_TRUE(p.outstanding_operations().empty());
}

TEST(op_metrics, counts_bytes_eof_and_timeouts_of_stream_operations) {
  overlap::proactor p;
  auto [stream, peer] = overlap_test::stream_with_peer(p);
  overlap_test::write_all_blocking(peer.get(), std::string(100, 'x'));
  char buf[256];
  std::size_t got = 0;
  std::error_code ec;
  // Reads until the 100 bytes are in (the kernel may hand them over in parts).
  std::function<void()> read = [&] {
    stream.async_read_some(std::span<char>(buf), [&](std::error_code e, std::size_t n) {
      ec = e;
      got += n;
      if (!e && got < 100) read();
    });
  };
  read();
  p.run();
  ASSERT_FALSE(ec) << ec.message();
  stream.async_read_some(
      std::span<char>(buf), [&](std::error_code e, std::size_t) { ec = e; },
      overlap::op_options{.timeout = 2ms});
  p.run();
  EXPECT_EQ(ec, overlap::errc::timed_out);
  peer.reset();
  stream.async_read_some(std::span<char>(buf), [&](std::error_code e, std::size_t) { ec = e; });
  p.run();
  EXPECT_EQ(ec, overlap::errc::eof);

  const auto& reads = p.operation_metrics()[overlap::op_kind::read_some];
  EXPECT_EQ(reads.bytes, 100u);
  EXPECT_EQ(reads.timed_out, 1u);
  EXPECT_EQ(reads.eof, 1u);
  EXPECT_EQ(reads.completions, reads.ok + 2);
  EXPECT_EQ(reads.started, reads.completions);
  EXPECT_EQ(reads.in_flight, 0u);
}

TEST(op_metrics, tracking_records_a_latency_per_completion_and_lists_operations_in_flight) {
  overlap::proactor p(tracked());
  overlap::timer fast(p);
  fast.async_wait(2ms, [](std::error_code, std::size_t) {});
  p.run();
  const auto& timers = p.operation_metrics()[overlap::op_kind::timer];
  ASSERT_EQ(timers.latency.count, 1u);
  EXPECT_EQ(bucket_total(timers.latency), 1u);
  EXPECT_GE(timers.latency.sum, 2ms);  // a timer never fires early

  overlap::timer slow(p);
  slow.async_wait(1h, [](std::error_code, std::size_t) {});
  auto [stream, peer] = overlap_test::stream_with_peer(p);
  char buf[16];
  stream.async_read_some(
      std::span<char>(buf), [](std::error_code, std::size_t) {},
      overlap::op_options{.timeout = 1h});
  p.poll();
  const auto table = p.outstanding_operations();
  ASSERT_EQ(table.size(), 2u);
  // Longest-waiting first: the timer started before the read.
  EXPECT_EQ(table[0].kind, overlap::op_kind::timer);
  EXPECT_EQ(table[1].kind, overlap::op_kind::read_some);
  EXPECT_EQ(table[1].fd, stream.native_handle());
  EXPECT_TRUE(table[1].has_deadline);
  EXPECT_GE(table[0].age, table[1].age);

  slow.cancel();
  p.poll();
  const auto after = p.outstanding_operations();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].kind, overlap::op_kind::read_some);
  stream.close();
  p.run();
  EXPECT_TRUE(p.outstanding_operations().empty());
}

TEST(op_metrics, a_multishot_accept_is_one_operation_with_a_completion_per_connection) {
  overlap::proactor p(tracked());
  overlap::tcp_acceptor acc(p, overlap_test::loopback(AF_INET));
  constexpr std::size_t connections = 3;
  std::vector<overlap::tcp_stream> peers;
  acc.async_accept_multishot([&](std::error_code ec, overlap::tcp_stream s) {
    if (!ec) peers.push_back(std::move(s));
  });
  std::vector<overlap_test::unique_fd> clients;
  for (std::size_t i = 0; i < connections; ++i)
    clients.push_back(overlap_test::blocking_connect(acc.local_endpoint()));
  while (peers.size() < connections) p.run_one();
  const auto& accepts = p.operation_metrics()[overlap::op_kind::accept_multishot];
  EXPECT_EQ(accepts.started, 1u);
  EXPECT_EQ(accepts.ok, connections);
  EXPECT_EQ(accepts.in_flight, 1u);
  EXPECT_EQ(accepts.latency.count, connections);
  const auto table = p.outstanding_operations();
  ASSERT_EQ(table.size(), 1u);
  EXPECT_EQ(table[0].kind, overlap::op_kind::accept_multishot);
  EXPECT_EQ(table[0].fd, acc.native_handle());
  acc.cancel();
  p.run();
  EXPECT_EQ(accepts.aborted, 1u);
  EXPECT_EQ(accepts.in_flight, 0u);
  EXPECT_TRUE(p.outstanding_operations().empty());
}

struct recording_sink final : overlap::op_trace_sink {
  void on_op_event(const overlap::op_trace_event& e) noexcept override { events.push_back(e); }
  std::vector<overlap::op_trace_event> events;
};

TEST(op_metrics, a_trace_sink_sees_each_initiation_and_completion_paired_by_id) {
  overlap::proactor p;
  recording_sink sink;
  p.set_trace_sink(&sink);
  overlap::timer t(p);
  t.async_wait(1ms, [](std::error_code, std::size_t) {});
  overlap::timer c(p);
  c.async_wait(1h, [](std::error_code, std::size_t) {});
  c.cancel();
  p.run();
  p.set_trace_sink(nullptr);
  t.async_wait(1ms, [](std::error_code, std::size_t) {});
  p.run();

  ASSERT_EQ(sink.events.size(), 4u);
  int initiations = 0;
  int aborted = 0;
  for (const auto& e : sink.events) {
    EXPECT_EQ(e.kind, overlap::op_kind::timer);
    if (e.what == overlap::op_trace_event::phase::initiate) {
      ++initiations;
      continue;
    }
    // Every completion follows the initiation with the same id.
    bool paired = false;
    for (const auto& i : sink.events) {
      if (&i == &e) break;
      paired = paired || (i.what == overlap::op_trace_event::phase::initiate && i.id == e.id);
    }
    EXPECT_TRUE(paired);
    EXPECT_FALSE(e.more);
    if (e.ec == overlap::errc::operation_aborted) ++aborted;
  }
  EXPECT_EQ(initiations, 2);
  EXPECT_EQ(aborted, 1);
}

}  // namespace
