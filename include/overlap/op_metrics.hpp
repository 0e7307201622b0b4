// Instrumentation of the Asynchronous Operations: the paper's drawback "hard
// to debug" (§6.2), that control flow is hard to follow once the operating
// system runs the operations and the framework calls back, answered with
// numbers.
//
// Every proactor counts, per operation kind, the operations initiated, the
// completions delivered and how they ended (a few additions per operation,
// always on). With proactor_options::track_operations it also stamps each
// operation with the loop's clock (proactor::now(), read once per batch of
// completions) when it starts and completes: that adds a latency histogram
// per kind and the list of operations in flight with their ages, the table
// that finds a stalled connection. Latencies are therefore as fine as the
// loop's batches: exact for an idle loop, tens of microseconds under load. A trace sink, when
// installed, sees every initiation and completion as it happens.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <system_error>

#include "overlap/operation.hpp"

namespace overlap {

inline constexpr std::size_t op_kind_count = static_cast<std::size_t>(op_kind::poll) + 1;

// Completion latencies in buckets whose upper bounds grow by 4: 1 µs, 4 µs,
// 16 µs … 268 s, then everything longer.
struct op_latency_histogram {
  static constexpr std::size_t bounded_buckets = 15;
  static constexpr std::size_t bucket_count = bounded_buckets + 1;

  // Upper bound of bucket i < bounded_buckets (inclusive).
  static constexpr std::chrono::nanoseconds upper_bound(std::size_t i) noexcept {
    return std::chrono::nanoseconds{std::int64_t{1000} << (2 * i)};
  }
  void record(std::chrono::nanoseconds d) noexcept;
  op_latency_histogram& operator+=(const op_latency_histogram& o) noexcept;

  std::array<std::uint64_t, bucket_count> buckets{};  // per bucket, not cumulative
  std::uint64_t count = 0;
  std::chrono::nanoseconds sum{0};
};

// One operation kind. A multishot operation (accept, receive) is started once
// and delivers many completions; `in_flight` counts operations not yet ended.
struct op_kind_metrics {
  std::uint64_t started = 0;
  std::uint64_t completions = 0;  // = ok + eof + aborted + timed_out + failed
  std::uint64_t ok = 0;
  std::uint64_t eof = 0;
  std::uint64_t aborted = 0;    // cancelled (operation_aborted / operation_canceled)
  std::uint64_t timed_out = 0;  // a per-operation deadline passed
  std::uint64_t failed = 0;     // any other error
  std::uint64_t bytes = 0;      // transferred by successful completions
  std::uint64_t in_flight = 0;
  // With track_operations: time from initiation (or, for a multishot
  // operation, from its previous completion) to each completion.
  op_latency_histogram latency;

  op_kind_metrics& operator+=(const op_kind_metrics& o) noexcept;
};

struct op_metrics {
  std::array<op_kind_metrics, op_kind_count> kinds{};

  op_kind_metrics& operator[](op_kind k) noexcept { return kinds[static_cast<std::size_t>(k)]; }
  const op_kind_metrics& operator[](op_kind k) const noexcept {
    return kinds[static_cast<std::size_t>(k)];
  }
  op_metrics& operator+=(const op_metrics& o) noexcept;
};

// One operation in flight (proactor::outstanding_operations()).
struct outstanding_op {
  op_kind kind = op_kind::read_some;
  int fd = -1;
  // Since initiation, or for a multishot operation since its last completion:
  // how long it has waited for the operating system.
  std::chrono::nanoseconds age{0};
  std::size_t done = 0;     // bytes a composed operation has moved so far
  bool cancelling = false;  // cancel requested, completion not yet seen
  bool has_deadline = false;
};

// What a trace sink sees: one event when an operation is initiated and one
// for each completion delivered to its handler. `id` is the operation's
// address (the Asynchronous Completion Token), so the two can be paired.
struct op_trace_event {
  enum class phase : std::uint8_t { initiate, complete };
  phase what = phase::initiate;
  op_kind kind = op_kind::read_some;
  const void* id = nullptr;
  int fd = -1;
  std::chrono::steady_clock::time_point at{};
  std::error_code ec;     // complete only
  std::size_t bytes = 0;  // complete only
  bool more = false;      // complete only: a multishot operation goes on
};

// Receives trace events on the proactor's thread, inside the proactor's
// bookkeeping: it must not start or cancel operations, and should only record.
class op_trace_sink {
 public:
  virtual void on_op_event(const op_trace_event& event) noexcept = 0;

 protected:
  ~op_trace_sink() = default;
};

}  // namespace overlap
