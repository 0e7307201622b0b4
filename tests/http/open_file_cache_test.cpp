#include "http_test_support.hpp"

#include <overlap/http/mime_types.hpp>
#include <overlap/http/open_file_cache.hpp>

#include <fcntl.h>

namespace overlap::http::testing {
namespace {

using std::chrono::milliseconds;
using time_point = open_file_cache::time_point;

class cache : public ::testing::Test {
 protected:
  temp_docroot root;
  mime_types types;
  file_descriptor dir{::open(root.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)};
  time_point t0{std::chrono::seconds{1'700'000'000}};

  open_file_cache make(std::size_t entries = 8) {
    return open_file_cache(dir.get(), types,
                           {entries, default_small_file_bytes, milliseconds{1000}, {}});
  }
};

TEST_F(cache, hit_returns_same_entry) {
  root.write("a.txt", "one");
  auto c = make();
  const auto a = c.open("/a.txt", t0);
  const auto b = c.open("/a.txt", t0 + milliseconds{10});
  ASSERT_EQ(a.status, open_status::ok);
  EXPECT_EQ(a.file.get(), b.file.get());
  EXPECT_EQ(c.stats().hits, 1u);
  EXPECT_EQ(c.stats().revalidations, 0u);
}

TEST_F(cache, changed_file_is_not_seen_before_revalidation_interval) {
  root.write("a.txt", "one");
  auto c = make();
  const auto a = c.open("/a.txt", t0);
  root.write("a.txt", "two!");
  EXPECT_EQ(c.open("/a.txt", t0 + milliseconds{999}).file->body, "one");
}

TEST_F(cache, changed_file_is_reopened_after_revalidation_interval) {
  root.write("a.txt", "one");
  auto c = make();
  const auto a = c.open("/a.txt", t0);
  root.write("a.txt", "two!");
  const auto b = c.open("/a.txt", t0 + milliseconds{1000});
  EXPECT_EQ(b.file->body, "two!");
  EXPECT_NE(a.file->etag, b.file->etag);
  EXPECT_EQ(a.file->body, "one");  // the old pin still sees its bytes
  EXPECT_EQ(c.stats().reopened, 1u);
}

TEST_F(cache, replaced_file_with_same_size_and_mtime_is_reopened) {
  root.write("a.txt", "one");
  root.set_mtime("a.txt", 1000);
  auto c = make();
  const auto a = c.open("/a.txt", t0);
  root.write("b.txt", "ONE");
  root.set_mtime("b.txt", 1000);
  std::filesystem::rename(root.path() / "b.txt", root.path() / "a.txt");  // new inode
  EXPECT_EQ(c.open("/a.txt", t0 + milliseconds{1000}).file->body, "ONE");
}

TEST_F(cache, deleted_file_becomes_not_found_after_revalidation) {
  root.write("a.txt", "one");
  auto c = make();
  (void)c.open("/a.txt", t0);
  std::filesystem::remove(root.path() / "a.txt");
  EXPECT_EQ(c.open("/a.txt", t0 + milliseconds{1000}).status, open_status::not_found);
  EXPECT_EQ(c.size(), 0u);
}

TEST_F(cache, least_recently_used_entry_is_evicted) {
  root.write("a", "a");
  root.write("b", "b");
  root.write("c", "c");
  auto c = make(2);
  (void)c.open("/a", t0);
  (void)c.open("/b", t0);
  (void)c.open("/a", t0);  // b is now least recently used
  (void)c.open("/c", t0);
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c.stats().evictions, 1u);
  const auto misses = c.stats().misses;
  (void)c.open("/a", t0);
  EXPECT_EQ(c.stats().misses, misses);
  (void)c.open("/b", t0);
  EXPECT_EQ(c.stats().misses, misses + 1);
}

TEST_F(cache, eviction_keeps_in_flight_pin_valid) {
  const std::string big(default_small_file_bytes + 100, 'q');
  root.write("big", big);
  root.write("other", "o");
  auto c = make(1);
  file_pin pin = c.open("/big", t0).file;
  const int fd = pin->fd.get();
  (void)c.open("/other", t0);  // evicts /big
  EXPECT_EQ(c.stats().evictions, 1u);
  char buf[4] = {};
  ASSERT_EQ(::pread(fd, buf, sizeof buf, 0), 4);  // fd still open
  EXPECT_EQ(std::string(buf, 4), "qqqq");
  pin.reset();  // last reference: fd closed now
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);
}

TEST_F(cache, eviction_keeps_in_flight_response_valid) {
  root.write("a.txt", "AAAA");
  root.write("b.txt", "BBBB");
  auto config = harness::make_config();
  config.site.open_file_cache_entries = 1;
  harness h(root, config);
  const std::string in = get("/a.txt") + get("/b.txt");
  h.conn().feed(std::span<const char>(in));  // queues a, then b evicts a
  ASSERT_EQ(h.conn().pending(), 2u);
  EXPECT_EQ(h.site().cache().stats().evictions, 1u);
  EXPECT_EQ(h.conn().pending_plan(0).memory, "AAAA");
  std::vector<wire_response> out;
  h.drain(out);
  EXPECT_EQ(out[0].body, "AAAA");
  EXPECT_EQ(out[1].body, "BBBB");
}

TEST_F(cache, site_revalidation_follows_the_clock) {
  root.write("a.txt", "old");
  harness h(root);
  EXPECT_EQ(h.one(get("/a.txt")).body, "old");
  root.write("a.txt", "new!");
  EXPECT_EQ(h.one(get("/a.txt")).body, "old");  // within the interval
  h.advance(default_revalidate_interval_ms);
  EXPECT_EQ(h.one(get("/a.txt")).body, "new!");
}

}  // namespace
}  // namespace overlap::http::testing
