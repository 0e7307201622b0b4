// Deferred misses (what the server does): the open-file cache performs no
// syscall, a request whose file is not loaded blocks its connection, and the
// connection answers it, in order, once the outcome is handed over. Here a
// synchronous load_now() plays the server's asynchronous loader.
#include "http_test_support.hpp"

#include <sys/stat.h>

namespace overlap::http::testing {
namespace {

class deferred_open : public ::testing::Test {
 protected:
  temp_docroot root;
  void SetUp() override {
    root.write("a.txt", "alpha");
    root.write("b.txt", "bravo");
    root.write("dir/index.html", "<p>index</p>");
  }

  // Loads what the connection waits for and lets it go on.
  static void load(harness& h) {
    ASSERT_TRUE(h.conn().blocked());
    h.site().cache().load_now(h.conn().blocked_path(), h.clock().now());
    h.conn().resume();
    h.site().cache().drop_handoff();
  }

  static std::vector<wire_response> sent(harness& h) {
    std::vector<wire_response> out;
    h.drain(out);
    return out;
  }
};

TEST_F(deferred_open, a_miss_blocks_the_connection_until_the_file_is_loaded) {
  harness h(root);
  h.site().cache().defer_misses(true);
  const std::string in = get("/a.txt");
  EXPECT_EQ(h.conn().feed(std::span<const char>(in)), in.size());
  EXPECT_TRUE(h.conn().blocked());
  EXPECT_EQ(h.conn().blocked_path(), "/a.txt");
  EXPECT_FALSE(h.conn().has_output());
  EXPECT_FALSE(h.conn().wants_input());
  load(h);
  EXPECT_FALSE(h.conn().blocked());
  const auto r = sent(h);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 200u);
  EXPECT_EQ(r[0].body, "alpha");
  // Now cached: the next request is answered at once.
  EXPECT_EQ(h.one(get("/a.txt")).body, "alpha");
  EXPECT_FALSE(h.conn().blocked());
}

TEST_F(deferred_open, pipelined_requests_are_answered_in_order_across_loads) {
  harness h(root);
  h.site().cache().defer_misses(true);
  const std::string first = get("/a.txt");
  const std::string in = first + get("/b.txt") + get("/a.txt");
  std::size_t used = h.conn().feed(std::span<const char>(in));
  EXPECT_EQ(used, first.size()) << "feeding stops after the blocked request";
  load(h);
  used += h.conn().feed(std::span<const char>(in).subspan(used));
  EXPECT_EQ(h.conn().blocked_path(), "/b.txt");
  load(h);
  used += h.conn().feed(std::span<const char>(in).subspan(used));
  EXPECT_EQ(used, in.size());
  EXPECT_FALSE(h.conn().blocked());  // "/a.txt" is cached by now
  const auto r = sent(h);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].body, "alpha");
  EXPECT_EQ(r[1].body, "bravo");
  EXPECT_EQ(r[2].body, "alpha");
}

// The cache keeps no failures; the site remembers a 404 for one
// revalidation interval (not_found_memory_test.cpp), then looks again.
TEST_F(deferred_open, a_missing_file_is_404_after_its_load_and_looked_up_again_later) {
  harness h(root);
  h.site().cache().defer_misses(true);
  const std::string in = get("/missing.txt");
  h.conn().feed(std::span<const char>(in));
  load(h);
  const auto r = sent(h);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 404u);
  h.advance(std::chrono::milliseconds(1100));
  h.conn().feed(std::span<const char>(in));
  EXPECT_TRUE(h.conn().blocked()) << "a failure is looked up again";
}

TEST_F(deferred_open, a_directory_request_loads_the_directory_then_its_index) {
  harness h(root);
  h.site().cache().defer_misses(true);
  const std::string in = get("/dir/");
  h.conn().feed(std::span<const char>(in));
  EXPECT_EQ(h.conn().blocked_path(), "/dir");
  load(h);
  EXPECT_EQ(h.conn().blocked_path(), "/dir/index.html");
  load(h);
  const auto r = sent(h);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 200u);
  EXPECT_EQ(r[0].body, "<p>index</p>");
}

file_identity identity_of(const temp_docroot& root, const std::string& rel) {
  struct stat st {};
  EXPECT_EQ(::stat((root.path() / rel).c_str(), &st), 0);
  return http::identity_of(st);
}

TEST_F(deferred_open, a_due_revalidation_blocks_and_picks_up_a_changed_file) {
  harness h(root);
  open_file_cache& cache = h.site().cache();
  cache.defer_misses(true);
  const std::string in = get("/a.txt");
  h.conn().feed(std::span<const char>(in));
  EXPECT_FALSE(cache.pending_is_revalidation()) << "a miss";
  load(h);
  EXPECT_EQ(sent(h).at(0).body, "alpha");
  root.write("a.txt", "alpha, changed");
  h.advance(default_revalidate_interval_ms + std::chrono::milliseconds(1));
  h.conn().feed(std::span<const char>(in));
  EXPECT_TRUE(h.conn().blocked()) << "the cache does not stat on the loop";
  EXPECT_TRUE(cache.pending_is_revalidation());
  // The stat shows a change: revalidated() says load it again.
  EXPECT_EQ(cache.revalidated("/a.txt", identity_of(root, "a.txt"), h.clock().now()).status,
            open_status::pending);
  load(h);
  EXPECT_EQ(sent(h).at(0).body, "alpha, changed");
}

TEST_F(deferred_open, a_due_revalidation_of_an_unchanged_file_keeps_the_entry) {
  harness h(root);
  open_file_cache& cache = h.site().cache();
  cache.defer_misses(true);
  const std::string in = get("/a.txt");
  h.conn().feed(std::span<const char>(in));
  load(h);
  ASSERT_EQ(sent(h).size(), 1u);
  const open_result before = cache.open("/a.txt", h.clock().now());
  ASSERT_EQ(before.status, open_status::ok);

  h.advance(default_revalidate_interval_ms + std::chrono::milliseconds(1));
  h.conn().feed(std::span<const char>(in));
  ASSERT_TRUE(h.conn().blocked());
  ASSERT_TRUE(cache.pending_is_revalidation());
  const open_result r = cache.revalidated("/a.txt", identity_of(root, "a.txt"), h.clock().now());
  ASSERT_EQ(r.status, open_status::ok);
  EXPECT_EQ(r.file, before.file) << "the same entry, not a reload";
  h.conn().resume();
  cache.drop_handoff();
  EXPECT_EQ(sent(h).at(0).body, "alpha");
  // Due again only one interval later: the next request is a plain hit.
  h.conn().feed(std::span<const char>(in));
  EXPECT_FALSE(h.conn().blocked());
  EXPECT_EQ(sent(h).at(0).body, "alpha");
}

TEST_F(deferred_open, peer_eof_while_blocked_still_gets_the_response) {
  harness h(root);
  h.site().cache().defer_misses(true);
  const std::string in = get("/a.txt");
  h.conn().feed(std::span<const char>(in));
  h.conn().feed_eof();
  EXPECT_FALSE(h.conn().should_close()) << "the blocked request is still to be answered";
  load(h);
  const auto r = sent(h);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].body, "alpha");
  EXPECT_TRUE(h.conn().should_close());
}

TEST_F(deferred_open, complete_hands_a_failure_over_exactly_once) {
  harness h(root);
  open_file_cache& cache = h.site().cache();
  cache.defer_misses(true);
  const auto now = h.clock().now();
  EXPECT_EQ(cache.open("/x", now).status, open_status::pending);
  EXPECT_EQ(cache.pending_path(), "/x");
  cache.complete("/x", open_status::forbidden, EACCES, nullptr, now);
  EXPECT_EQ(cache.open("/x", now).status, open_status::forbidden);
  EXPECT_EQ(cache.open("/x", now).status, open_status::pending);
}

}  // namespace
}  // namespace overlap::http::testing
