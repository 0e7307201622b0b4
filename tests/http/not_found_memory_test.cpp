// A path found missing is remembered for one revalidation interval, so a
// repeated 404 (a site without /favicon.ico gets one with every page view)
// costs no open; what is remembered of a twin that exists but cannot stand
// in for its original never hides that twin from a request by its own name.
#include "http_test_support.hpp"

namespace overlap::http::testing {
namespace {

class not_found_memory : public ::testing::Test {
 protected:
  temp_docroot root;
  void SetUp() override { root.write("a.txt", "original\n"); }
};

// In deferred mode a request the cache cannot answer blocks the connection
// for a load; a remembered absence answers without one.
TEST_F(not_found_memory, a_repeated_404_needs_no_load) {
  harness h(root);
  h.site().cache().defer_misses(true);
  const auto first = h.exchange_loading(get("/favicon.ico"));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].status, 404u);
  const auto again = h.exchange(get("/favicon.ico") + get("/favicon.ico"));
  ASSERT_EQ(again.size(), 2u) << "the connection waited for a load";
  EXPECT_EQ(again[0].status, 404u);
  EXPECT_EQ(again[1].status, 404u);
  EXPECT_FALSE(h.conn().blocked());
}

TEST_F(not_found_memory, other_paths_are_still_looked_up) {
  harness h(root);
  h.site().cache().defer_misses(true);
  ASSERT_EQ(h.exchange_loading(get("/missing")).at(0).status, 404u);
  EXPECT_TRUE(h.exchange(get("/missing2")).empty()) << "an unknown path needs a load";
  EXPECT_TRUE(h.conn().blocked());
}

TEST_F(not_found_memory, a_file_created_after_its_404_is_served_once_the_absence_is_stale) {
  harness h(root);
  EXPECT_EQ(h.one(get("/late.txt")).status, 404u);
  root.write("late.txt", "late");
  EXPECT_EQ(h.one(get("/late.txt")).status, 404u);  // still believed absent
  h.advance(std::chrono::milliseconds(1100));       // past the revalidation interval
  EXPECT_EQ(h.one(get("/late.txt")).body, "late");
}

TEST_F(not_found_memory, other_statuses_are_not_remembered) {
  root.mkdir("dir");
  harness h(root);
  EXPECT_EQ(h.one(get("/dir/")).status, 403u);  // no index
  root.write("dir/index.html", "index");
  EXPECT_EQ(h.one(get("/dir/")).body, "index");  // at once: a 403 is not an absence
}

TEST_F(not_found_memory, a_stale_twin_is_still_served_by_its_own_name) {
  root.write("a.txt.gz", "gzip-bytes");
  root.set_mtime("a.txt", 1'600'000'100);
  root.set_mtime("a.txt.gz", 1'600'000'000);  // older than a.txt: not used for it
  http_config c = harness::make_config();
  c.site.precompressed = true;
  harness h(root, c);
  const auto coded = h.one(get("/a.txt", "Accept-Encoding: gzip\r\n"));
  EXPECT_EQ(coded.body, "original\n");
  EXPECT_EQ(coded.field("Content-Encoding"), std::nullopt);
  const auto direct = h.one(get("/a.txt.gz"));
  EXPECT_EQ(direct.status, 200u);
  EXPECT_EQ(direct.body, "gzip-bytes");
}

TEST_F(not_found_memory, a_missing_twin_answers_a_request_by_its_own_name) {
  http_config c = harness::make_config();
  c.site.precompressed = true;
  harness h(root, c);
  h.site().cache().defer_misses(true);
  const auto coded = h.exchange_loading(get("/a.txt", "Accept-Encoding: gzip\r\n"));
  ASSERT_EQ(coded.size(), 1u);
  EXPECT_EQ(coded[0].body, "original\n");
  const auto direct = h.exchange(get("/a.txt.gz"));
  ASSERT_EQ(direct.size(), 1u) << "the twin's absence was already known";
  EXPECT_EQ(direct[0].status, 404u);
}

}  // namespace
}  // namespace overlap::http::testing
