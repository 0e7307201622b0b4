// `overlap serve --trace FILE`: every operation's initiation and completion,
// written as Chrome trace events (the JSON array format that Perfetto and
// chrome://tracing open), one async slice per operation: "b" when it is
// initiated, "n" for each completion of a multishot operation that goes on,
// "e" for its last completion, paired by the operation's address (the
// Asynchronous Completion Token). One writer per shard, all appending to one
// file; tid is the shard.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "buffered_file_writer.hpp"
#include "overlap/op_metrics.hpp"
#include "overlap/proactor.hpp"

namespace overlap::server {

// Trace bytes buffered per thread before a write is started, and the most
// kept while a write is in flight (beyond it, events are dropped and counted).
inline constexpr std::size_t trace_flush_bytes = 256 * 1024;
inline constexpr std::size_t trace_max_buffer_bytes = 32 * 1024 * 1024;

// Starts the trace file: truncates it and writes the opening bracket. Returns
// the error, if any (before any shard opens it).
std::error_code begin_trace_file(const std::string& path);

class trace_writer final : public op_trace_sink {
 public:
  // Installs itself as p's trace sink. Times are microseconds since origin.
  trace_writer(proactor& p, const std::string& path, unsigned shard,
               std::chrono::steady_clock::time_point origin);
  trace_writer(const trace_writer&) = delete;
  trace_writer& operator=(const trace_writer&) = delete;
  ~trace_writer();

  void on_op_event(const op_trace_event& e) noexcept override;
  // Writes what is buffered (housekeeping).
  void flush() { out_.flush(); }
  // Stops recording (shutdown): what is buffered can then be written out.
  void stop() noexcept;
  bool idle() const noexcept { return out_.idle(); }
  std::uint64_t dropped_events() const noexcept { return dropped_; }

 private:
  proactor& proactor_;
  buffered_file_writer out_;
  unsigned shard_;
  std::chrono::steady_clock::time_point origin_;
  long pid_;
  std::uint64_t dropped_ = 0;
  bool flush_posted_ = false;
  bool recording_ = true;
};

}  // namespace overlap::server
