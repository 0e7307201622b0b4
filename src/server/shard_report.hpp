// What the admin listener shows of one shard: its server counters, its
// proactor's counters and, with operation tracking, its operations in flight.
// A report is a copy taken on the shard's own thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "overlap/http/connection.hpp"
#include "overlap/op_metrics.hpp"
#include "overlap/proactor.hpp"

namespace overlap::server {

// Kept by each shard on its own thread; plain counters, no atomics.
struct shard_counters {
  std::uint64_t connections_accepted = 0;
  std::uint64_t accept_errors = 0;  // EMFILE/ENFILE and the like: accepting paused
  // Accepted in a burst past --max-connections and closed at once.
  std::uint64_t connections_over_limit = 0;
  // Closed at once: the client already held --max-connections-per-client.
  std::uint64_t connections_over_client_limit = 0;
  // Counted by the HTTP core when a response's last byte was sent.
  http::response_counts responses;
  std::uint64_t access_log_dropped_lines = 0;
};

struct shard_report {
  unsigned index = 0;
  std::string backend;
  std::size_t open_connections = 0;
  shard_counters counters;
  proactor_stats stats;
  op_metrics ops;
  bool tracking = false;
  std::vector<outstanding_op> outstanding;  // longest-waiting first
};

}  // namespace overlap::server
