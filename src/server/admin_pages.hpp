// The admin listener's pages, rendered from shard reports (sans-I/O, so unit
// tests check them directly): /metrics in the Prometheus text exposition
// format 0.0.4, /operations as a plain-text table of the operations in
// flight, and / as an HTML status page with both.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "shard_report.hpp"

namespace overlap::server {

struct admin_info {
  std::string listen;   // the HTTP listener, "127.0.0.1:8080"
  std::string docroot;  // as given on the command line
  double uptime_seconds = 0;
  double start_time_seconds = 0;  // Unix time the server started
};

std::string render_metrics(const std::vector<shard_report>& shards, const admin_info& info);
// At most max_rows operations per shard, longest-waiting first.
std::string render_operations(const std::vector<shard_report>& shards, std::size_t max_rows);
std::string render_status_page(const std::vector<shard_report>& shards, const admin_info& info,
                               std::size_t max_rows);

}  // namespace overlap::server
