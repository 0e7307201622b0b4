// The admin listener's pages, rendered from made-up shard reports.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "admin_pages.hpp"

namespace overlap::server {
namespace {

using namespace std::chrono_literals;

shard_report sample_report(unsigned index) {
  shard_report r;
  r.index = index;
  r.backend = "io_uring";
  r.open_connections = 3;
  r.counters.connections_accepted = 10 + index;
  r.counters.responses.by_class[2] = 7;
  r.counters.responses.by_class[4] = 2;
  r.tracking = true;
  auto& recv = r.ops[op_kind::receive];
  recv.started = 5;
  recv.completions = 4;
  recv.ok = 3;
  recv.eof = 1;
  recv.in_flight = 1;
  recv.bytes = 1234;
  recv.latency.record(3us);  // bucket 1 (≤ 4 µs)
  recv.latency.record(3us);
  recv.latency.record(100ms);  // bucket 9 (≤ 262 ms)
  recv.latency.record(500s);   // beyond the last bound
  return r;
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(admin_pages, metrics_show_each_shard_and_only_the_kinds_in_use) {
  const std::vector<shard_report> shards{sample_report(0), sample_report(1)};
  const std::string m = render_metrics(shards, admin_info{});
  EXPECT_NE(m.find("overlap_connections_accepted_total{shard=\"0\"} 10\n"), std::string::npos);
  EXPECT_NE(m.find("overlap_connections_accepted_total{shard=\"1\"} 11\n"), std::string::npos);
  EXPECT_NE(m.find("overlap_http_responses_total{shard=\"1\",code=\"4xx\"} 2\n"),
            std::string::npos);
  EXPECT_NE(m.find("overlap_operation_completions_total{shard=\"0\",kind=\"receive\","
                   "result=\"eof\"} 1\n"),
            std::string::npos);
  EXPECT_NE(m.find("overlap_operations_in_flight{shard=\"0\",kind=\"receive\"} 1\n"),
            std::string::npos);
  EXPECT_EQ(m.find("kind=\"sendfile\""), std::string::npos) << "unused kinds are left out";
  EXPECT_EQ(count(m, "# TYPE overlap_operation_latency_seconds histogram\n"), 1u);
}

TEST(admin_pages, latency_buckets_are_cumulative_and_end_in_the_count) {
  const std::vector<shard_report> shards{sample_report(0)};
  const std::string m = render_metrics(shards, admin_info{});
  const std::string prefix =
      "overlap_operation_latency_seconds_bucket{shard=\"0\",kind=\"receive\",le=";
  EXPECT_NE(m.find(prefix + "\"1e-06\"} 0\n"), std::string::npos) << m;
  EXPECT_NE(m.find(prefix + "\"4e-06\"} 2\n"), std::string::npos) << m;
  EXPECT_NE(m.find(prefix + "\"0.262144\"} 3\n"), std::string::npos) << m;
  EXPECT_NE(m.find(prefix + "\"268.435\"} 3\n"), std::string::npos) << m;
  EXPECT_NE(m.find(prefix + "\"+Inf\"} 4\n"), std::string::npos) << m;
  EXPECT_NE(m.find("overlap_operation_latency_seconds_count{shard=\"0\",kind=\"receive\"} 4\n"),
            std::string::npos);
}

TEST(admin_pages, no_latency_histogram_without_tracking) {
  shard_report r = sample_report(0);
  r.tracking = false;
  const std::string m = render_metrics({r}, admin_info{});
  EXPECT_EQ(m.find("overlap_operation_latency_seconds"), std::string::npos);
  EXPECT_NE(render_status_page({r}, admin_info{}, 10).find("Not tracked"), std::string::npos);
}

TEST(admin_pages, operations_table_is_bounded_per_shard) {
  shard_report r = sample_report(0);
  for (int i = 0; i < 5; ++i) {
    r.outstanding.push_back(outstanding_op{.kind = op_kind::receive,
                                           .fd = 100 + i,
                                           .age = std::chrono::seconds(5 - i),
                                           .done = 0,
                                           .cancelling = i == 0,
                                           .has_deadline = true});
  }
  const std::string t = render_operations({r}, 3);
  EXPECT_EQ(count(t, " receive "), 3u) << t;
  EXPECT_NE(t.find("... 2 more"), std::string::npos) << t;
  EXPECT_NE(t.find("5.000 s"), std::string::npos) << t;
  EXPECT_NE(t.find("cancelling, deadline"), std::string::npos) << t;
}

TEST(admin_pages, status_page_escapes_what_it_shows) {
  admin_info info;
  info.docroot = "/srv/<script>alert(1)</script>";
  info.listen = "127.0.0.1:8080";
  const std::string page = render_status_page({sample_report(0)}, info, 10);
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(page.find("<td>receive</td>"), std::string::npos) << page;
}

}  // namespace
}  // namespace overlap::server
