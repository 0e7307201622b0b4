// file_loader: loads into a deferred open-file cache through io_uring
// operations, shares one load among the requests for a path, and copes with
// waiters, or the loader itself, going away while a load is in flight.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "file_loader.hpp"
#include "overlap/http/mime_types.hpp"
#include "overlap/http/open_file_cache.hpp"
#include "overlap/proactor.hpp"

namespace {

using overlap::http::open_status;

class loader_fixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/overlap-loader-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    std::ofstream(root_ / "small.txt", std::ios::binary) << "small file";
    std::ofstream(root_ / "big.bin", std::ios::binary) << std::string(100000, 'b');
    std::filesystem::create_directory(root_ / "dir");
    dir_fd_ = ::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(dir_fd_, 0);
    cache_.emplace(dir_fd_, types_, overlap::http::open_file_cache::options{});
    cache_->defer_misses(true);
  }
  void TearDown() override {
    cache_.reset();
    if (dir_fd_ >= 0) ::close(dir_fd_);
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  overlap::http::open_file_cache& cache() { return *cache_; }
  static std::chrono::system_clock::time_point now() { return std::chrono::system_clock::now(); }

  // Asks the cache for `path` as a connection would: pending means "load it".
  void expect_pending(const char* path) {
    EXPECT_EQ(cache().open(path, now()).status, open_status::pending) << path;
  }

 private:
  std::filesystem::path root_;
  int dir_fd_ = -1;
  overlap::http::mime_types types_;
  std::optional<overlap::http::open_file_cache> cache_;
};

// Records what the cache hands over when it is told the load is done.
struct recording_waiter final : overlap::server::file_loader::waiter {
  recording_waiter(overlap::http::open_file_cache& c, const char* p) : cache(c), path(p) {}
  void on_file_loaded() override {
    ++calls;
    outcome = cache.open(path, std::chrono::system_clock::now());
  }
  overlap::http::open_file_cache& cache;
  const char* path;
  int calls = 0;
  overlap::http::open_result outcome;
};

TEST_F(loader_fixture, loads_small_and_large_files_and_a_directory) {
  overlap::proactor p;
  overlap::server::file_loader loader(p, cache());
  recording_waiter small(cache(), "/small.txt"), big(cache(), "/big.bin"), dir(cache(), "/dir");
  for (auto* w : {&small, &big, &dir}) {
    expect_pending(w->path);
    loader.load(w->path, *w);
    EXPECT_EQ(w->calls, 0) << "never called from inside load()";
  }
  p.run();
  for (auto* w : {&small, &big, &dir}) {
    ASSERT_EQ(w->calls, 1) << w->path;
    ASSERT_EQ(w->outcome.status, open_status::ok) << w->path;
  }
  EXPECT_TRUE(small.outcome.file->body_in_memory);
  EXPECT_EQ(small.outcome.file->body, "small file");
  EXPECT_FALSE(small.outcome.file->etag.empty());
  EXPECT_FALSE(big.outcome.file->body_in_memory);
  EXPECT_EQ(big.outcome.file->size, 100000u);
  EXPECT_EQ(dir.outcome.file->type, overlap::http::cached_file::kind::directory);
  // Now cached: no load needed.
  EXPECT_EQ(cache().open("/small.txt", now()).status, open_status::ok);
}

TEST_F(loader_fixture, missing_and_escaping_paths_are_not_found) {
  overlap::proactor p;
  overlap::server::file_loader loader(p, cache());
  recording_waiter missing(cache(), "/missing.txt"), escape(cache(), "/../etc/passwd");
  for (auto* w : {&missing, &escape}) {
    expect_pending(w->path);
    loader.load(w->path, *w);
  }
  p.run();
  EXPECT_EQ(missing.outcome.status, open_status::not_found);
  EXPECT_EQ(escape.outcome.status, open_status::not_found);  // RESOLVE_BENEATH: EXDEV
}

TEST_F(loader_fixture, requests_for_the_same_path_share_one_load) {
  overlap::proactor p;
  overlap::server::file_loader loader(p, cache());
  recording_waiter a(cache(), "/small.txt"), b(cache(), "/small.txt");
  expect_pending("/small.txt");
  loader.load("/small.txt", a);
  loader.load("/small.txt", b);
  p.run();
  EXPECT_EQ(loader.stats().loads, 1u);
  EXPECT_EQ(loader.stats().joined, 1u);
  EXPECT_EQ(a.calls, 1);
  EXPECT_EQ(b.calls, 1);
  EXPECT_EQ(b.outcome.status, open_status::ok);
}

TEST_F(loader_fixture, a_waiter_gone_before_the_load_ends_is_not_called) {
  overlap::proactor p;
  overlap::server::file_loader loader(p, cache());
  recording_waiter stays(cache(), "/small.txt");
  expect_pending("/small.txt");
  {
    recording_waiter leaves(cache(), "/small.txt");
    loader.load("/small.txt", leaves);
    loader.load("/small.txt", stays);
  }  // `leaves` unlinks itself (ASan would catch a call into it)
  p.run();
  EXPECT_EQ(stays.calls, 1);
  EXPECT_EQ(stays.outcome.status, open_status::ok);
}

TEST_F(loader_fixture, a_loader_gone_with_a_load_in_flight_ends_it_quietly) {
  overlap::proactor p;
  recording_waiter w(cache(), "/small.txt");
  {
    overlap::server::file_loader loader(p, cache());
    expect_pending("/small.txt");
    loader.load("/small.txt", w);
  }
  EXPECT_FALSE(w.waiting());
  p.run();  // the operations complete into a job whose loader is gone
  EXPECT_EQ(w.calls, 0);
}

}  // namespace
