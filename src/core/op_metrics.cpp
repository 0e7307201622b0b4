#include "overlap/op_metrics.hpp"

#include <bit>

namespace overlap {

void op_latency_histogram::record(std::chrono::nanoseconds d) noexcept {
  ++count;
  sum += d;
  // Bucket i holds (4^(i-1) µs, 4^i µs]: the bucket of n = ceil(d / 1 µs) is
  // ceil(log4(n)), found from the bit width of n - 1.
  const std::int64_t ns = d.count();
  const auto us = static_cast<std::uint64_t>(ns <= 0 ? 0 : (ns + 999) / 1000);
  const std::size_t i = us <= 1 ? 0 : (static_cast<std::size_t>(std::bit_width(us - 1)) + 1) / 2;
  ++buckets[i < bounded_buckets ? i : bounded_buckets];
}

op_latency_histogram& op_latency_histogram::operator+=(const op_latency_histogram& o) noexcept {
  for (std::size_t i = 0; i < bucket_count; ++i) buckets[i] += o.buckets[i];
  count += o.count;
  sum += o.sum;
  return *this;
}

op_kind_metrics& op_kind_metrics::operator+=(const op_kind_metrics& o) noexcept {
  started += o.started;
  completions += o.completions;
  ok += o.ok;
  eof += o.eof;
  aborted += o.aborted;
  timed_out += o.timed_out;
  failed += o.failed;
  bytes += o.bytes;
  in_flight += o.in_flight;
  latency += o.latency;
  return *this;
}

op_metrics& op_metrics::operator+=(const op_metrics& o) noexcept {
  for (std::size_t i = 0; i < op_kind_count; ++i) kinds[i] += o.kinds[i];
  return *this;
}

}  // namespace overlap
