#include "admin_pages.hpp"

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <string_view>

#include "overlap/http/html_escape.hpp"

namespace overlap::server {
namespace {

constexpr const char* result_names[] = {"ok", "eof", "aborted", "timed_out", "error"};

std::uint64_t result_count(const op_kind_metrics& m, std::size_t i) {
  const std::uint64_t v[] = {m.ok, m.eof, m.aborted, m.timed_out, m.failed};
  return v[i];
}

// printf into a std::string.
template <class... Args>
void put(std::string& out, const char* fmt, Args... args) {
  char buf[512];
  const int n = std::snprintf(buf, sizeof(buf), fmt, args...);
  if (n > 0) out.append(buf, static_cast<std::size_t>(n) < sizeof(buf) ? n : sizeof(buf) - 1);
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  put(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void shard_value(std::string& out, const char* name, const std::vector<shard_report>& shards,
                 std::uint64_t (*get)(const shard_report&)) {
  for (const auto& s : shards) put(out, "%s{shard=\"%u\"} %" PRIu64 "\n", name, s.index, get(s));
}

double seconds(std::chrono::nanoseconds d) {
  return std::chrono::duration<double>(d).count();
}

bool used(const op_kind_metrics& m) {
  return m.started != 0 || m.completions != 0;
}

// One sample per shard and operation kind in use: `name{shard,kind} value`.
void per_kind(std::string& out, const char* name, const char* type, const char* help,
              const std::vector<shard_report>& shards, std::uint64_t op_kind_metrics::*field) {
  family(out, name, type, help);
  for (const auto& s : shards) {
    for (std::size_t k = 0; k < op_kind_count; ++k) {
      const auto& m = s.ops.kinds[k];
      if (!used(m)) continue;
      put(out, "%s{shard=\"%u\",kind=\"%s\"} %" PRIu64 "\n", name, s.index,
          to_string(static_cast<op_kind>(k)), m.*field);
    }
  }
}

std::string age_text(std::chrono::nanoseconds age) {
  char buf[32];
  const double s = seconds(age);
  if (s >= 1) {
    std::snprintf(buf, sizeof(buf), "%.3f s", s);
  } else if (s >= 1e-3) {
    std::snprintf(buf, sizeof(buf), "%.3f ms", s * 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f us", s * 1e6);
  }
  return buf;
}

}  // namespace

std::string render_metrics(const std::vector<shard_report>& shards, const admin_info& info) {
  std::string out;
  out.reserve(16 * 1024);
  family(out, "overlap_start_time_seconds", "gauge", "Unix time the server started.");
  put(out, "overlap_start_time_seconds %.3f\n", info.start_time_seconds);
  family(out, "overlap_uptime_seconds", "gauge", "Seconds since the server started.");
  put(out, "overlap_uptime_seconds %.3f\n", info.uptime_seconds);

  family(out, "overlap_connections_accepted_total", "counter", "Connections accepted.");
  shard_value(out, "overlap_connections_accepted_total", shards,
              [](const shard_report& s) { return s.counters.connections_accepted; });
  family(out, "overlap_connections_open", "gauge", "Connections open now.");
  shard_value(out, "overlap_connections_open", shards,
              [](const shard_report& s) { return std::uint64_t{s.open_connections}; });
  family(out, "overlap_accept_errors_total", "counter",
         "Accept failures (e.g. EMFILE) after which accepting paused.");
  shard_value(out, "overlap_accept_errors_total", shards,
              [](const shard_report& s) { return s.counters.accept_errors; });
  family(out, "overlap_connections_over_limit_total", "counter",
         "Connections a multishot accept took past --max-connections, closed at once.");
  shard_value(out, "overlap_connections_over_limit_total", shards,
              [](const shard_report& s) { return s.counters.connections_over_limit; });
  family(out, "overlap_connections_over_client_limit_total", "counter",
         "Connections closed at once: their client already held --max-connections-per-client.");
  shard_value(out, "overlap_connections_over_client_limit_total", shards,
              [](const shard_report& s) { return s.counters.connections_over_client_limit; });
  family(out, "overlap_http_responses_total", "counter",
         "HTTP responses sent in full, by status class.");
  for (const auto& s : shards) {
    for (unsigned c = 1; c <= 5; ++c) {
      put(out, "overlap_http_responses_total{shard=\"%u\",code=\"%uxx\"} %" PRIu64 "\n", s.index, c,
          s.counters.responses.by_class[c]);
    }
  }
  family(out, "overlap_http_response_body_bytes_total", "counter", "Response body bytes sent.");
  shard_value(out, "overlap_http_response_body_bytes_total", shards,
              [](const shard_report& s) { return s.counters.responses.body_bytes; });
  family(out, "overlap_access_log_dropped_lines_total", "counter",
         "Access-log lines dropped because the log could not keep up.");
  shard_value(out, "overlap_access_log_dropped_lines_total", shards,
              [](const shard_report& s) { return s.counters.access_log_dropped_lines; });

  // The proactor's own counters.
  struct stat_field {
    const char* name;
    const char* help;
    std::uint64_t proactor_stats::*field;
  };
  static constexpr stat_field stat_fields[] = {
      {"overlap_proactor_completions_total", "Kernel completions dispatched.",
       &proactor_stats::completions},
      {"overlap_proactor_submissions_total", "io_uring_enter calls that submitted work.",
       &proactor_stats::submissions},
      {"overlap_proactor_sq_full_total", "Times the submission queue was full.",
       &proactor_stats::sq_full},
      {"overlap_proactor_cq_overflows_total",
       "Times the kernel reported completion-queue overflow.", &proactor_stats::cq_overflows},
      {"overlap_proactor_enobufs_total", "Multishot receives ended by an empty buffer ring.",
       &proactor_stats::enobufs},
      {"overlap_proactor_spill_receives_total",
       "Receives served by a private buffer after ENOBUFS.", &proactor_stats::spill_receives},
      {"overlap_proactor_multishot_rearms_total", "Multishot operations re-armed.",
       &proactor_stats::multishot_rearms},
      {"overlap_proactor_busy_polls_total", "Busy-poll spins that found a completion.",
       &proactor_stats::busy_polls},
      {"overlap_proactor_busy_poll_misses_total", "Busy-poll spins that ended in a sleep.",
       &proactor_stats::busy_poll_misses},
      {"overlap_proactor_registered_files_total",
       "Sockets put in io_uring's registered-file table.", &proactor_stats::registered_files},
  };
  for (const auto& f : stat_fields) {
    family(out, f.name, "counter", f.help);
    for (const auto& s : shards) {
      put(out, "%s{shard=\"%u\",backend=\"%s\"} %" PRIu64 "\n", f.name, s.index, s.backend.c_str(),
          s.stats.*f.field);
    }
  }

  // Per operation kind (kinds never used are left out).
  per_kind(out, "overlap_operations_started_total", "counter",
           "Asynchronous operations initiated, by kind.", shards, &op_kind_metrics::started);
  family(out, "overlap_operation_completions_total", "counter",
         "Completions delivered to handlers, by kind and result.");
  for (const auto& s : shards) {
    for (std::size_t k = 0; k < op_kind_count; ++k) {
      const auto& m = s.ops.kinds[k];
      if (!used(m)) continue;
      for (std::size_t r = 0; r < std::size(result_names); ++r) {
        put(out,
            "overlap_operation_completions_total{shard=\"%u\",kind=\"%s\",result=\"%s\"} %" PRIu64
            "\n",
            s.index, to_string(static_cast<op_kind>(k)), result_names[r], result_count(m, r));
      }
    }
  }
  per_kind(out, "overlap_operation_bytes_total", "counter",
           "Bytes moved by successful completions, by kind.", shards, &op_kind_metrics::bytes);
  per_kind(out, "overlap_operations_in_flight", "gauge", "Operations initiated and not yet ended.",
           shards, &op_kind_metrics::in_flight);
  bool any_tracking = false;
  for (const auto& s : shards) any_tracking = any_tracking || s.tracking;
  if (any_tracking) {
    family(out, "overlap_operation_latency_seconds", "histogram",
           "Time from initiation (or a multishot operation's previous completion) to each "
           "completion, by kind.");
    for (const auto& s : shards) {
      for (std::size_t k = 0; k < op_kind_count; ++k) {
        const auto& m = s.ops.kinds[k];
        if (!used(m) || !s.tracking) continue;
        const char* kind = to_string(static_cast<op_kind>(k));
        std::uint64_t cumulative = 0;
        for (std::size_t b = 0; b < op_latency_histogram::bounded_buckets; ++b) {
          cumulative += m.latency.buckets[b];
          put(out,
              "overlap_operation_latency_seconds_bucket{shard=\"%u\",kind=\"%s\",le=\"%g\"} "
              "%" PRIu64 "\n",
              s.index, kind, seconds(op_latency_histogram::upper_bound(b)), cumulative);
        }
        put(out,
            "overlap_operation_latency_seconds_bucket{shard=\"%u\",kind=\"%s\",le=\"+Inf\"} "
            "%" PRIu64 "\n",
            s.index, kind, m.latency.count);
        put(out, "overlap_operation_latency_seconds_sum{shard=\"%u\",kind=\"%s\"} %.9f\n", s.index,
            kind, seconds(m.latency.sum));
        put(out, "overlap_operation_latency_seconds_count{shard=\"%u\",kind=\"%s\"} %" PRIu64 "\n",
            s.index, kind, m.latency.count);
      }
    }
  }
  return out;
}

std::string render_operations(const std::vector<shard_report>& shards, std::size_t max_rows) {
  std::string out;
  put(out, "%-6s %-17s %7s %14s %12s %s\n", "shard", "kind", "fd", "age", "done", "state");
  for (const auto& s : shards) {
    std::size_t rows = 0;
    for (const auto& op : s.outstanding) {
      if (rows++ == max_rows) {
        put(out, "%-6u ... %zu more\n", s.index, s.outstanding.size() - max_rows);
        break;
      }
      std::string state = op.cancelling ? "cancelling" : "waiting";
      if (op.has_deadline) state += ", deadline";
      put(out, "%-6u %-17s %7d %14s %12zu %s\n", s.index, to_string(op.kind), op.fd,
          age_text(op.age).c_str(), op.done, state.c_str());
    }
  }
  return out;
}

std::string render_status_page(const std::vector<shard_report>& shards, const admin_info& info,
                               std::size_t max_rows) {
  std::string out;
  out.reserve(16 * 1024);
  out +=
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>overlap serve: status</title>"
      "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
      "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}"
      "th:first-child,td:first-child{text-align:left}</style></head><body>\n"
      "<h1>overlap serve</h1>\n<p>Serving <code>";
  http::append_html_escaped(out, info.docroot);
  out += "</code> on <code>";
  http::append_html_escaped(out, info.listen);
  put(out,
      "</code>; up %.0f s. Machine-readable: <a href=\"/metrics\">/metrics</a>, "
      "<a href=\"/operations\">/operations</a>.</p>\n",
      info.uptime_seconds);

  out +=
      "<h2>Shards</h2>\n<table><tr><th>shard</th><th>backend</th><th>open</th><th>accepted</th>"
      "<th>2xx</th><th>3xx</th><th>4xx</th><th>5xx</th><th>completions</th>"
      "<th>CQ overflows</th><th>ENOBUFS</th></tr>\n";
  for (const auto& s : shards) {
    put(out,
        "<tr><td>%u</td><td>%s</td><td>%zu</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64
        "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64
        "</td><td>%" PRIu64 "</td></tr>\n",
        s.index, s.backend.c_str(), s.open_connections, s.counters.connections_accepted,
        s.counters.responses.by_class[2], s.counters.responses.by_class[3],
        s.counters.responses.by_class[4], s.counters.responses.by_class[5], s.stats.completions,
        s.stats.cq_overflows, s.stats.enobufs);
  }
  out += "</table>\n";

  op_metrics total;
  for (const auto& s : shards) total += s.ops;
  out +=
      "<h2>Operations by kind (all shards)</h2>\n<table><tr><th>kind</th><th>started</th>"
      "<th>in flight</th><th>ok</th><th>eof</th><th>aborted</th><th>timed out</th>"
      "<th>error</th><th>bytes</th><th>mean latency</th></tr>\n";
  for (std::size_t k = 0; k < op_kind_count; ++k) {
    const auto& m = total.kinds[k];
    if (!used(m)) continue;
    const std::string mean =
        m.latency.count == 0 ? "-"
                             : age_text(m.latency.sum / static_cast<std::int64_t>(m.latency.count));
    put(out,
        "<tr><td>%s</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64
        "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64
        "</td><td>%s</td></tr>\n",
        to_string(static_cast<op_kind>(k)), m.started, m.in_flight, m.ok, m.eof, m.aborted,
        m.timed_out, m.failed, m.bytes, mean.c_str());
  }
  out += "</table>\n<h2>Operations in flight, longest-waiting first</h2>\n";
  bool tracking = false;
  for (const auto& s : shards) tracking = tracking || s.tracking;
  if (!tracking) {
    out += "<p>Not tracked.</p>\n";
  } else {
    out += "<pre>";
    http::append_html_escaped(out, render_operations(shards, max_rows));
    out += "</pre>\n";
  }
  out += "</body></html>\n";
  return out;
}

}  // namespace overlap::server
