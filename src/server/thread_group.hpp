// Runs one proactor per thread (the per-core shards strategy): each shard
// creates its own proactor on its own thread, as io_uring's SINGLE_ISSUER
// requires, and the group can stop them all from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "overlap/proactor.hpp"

namespace overlap::server {

class thread_group {
 public:
  // body(index, proactor) sets up the shard's I/O objects and runs the
  // proactor; it returns when the proactor stops.
  using shard_body = std::function<void(unsigned index, proactor& p)>;

  // Every shard's proactor is created with `options`.
  explicit thread_group(unsigned count, proactor_options options = {})
      : count_(count), options_(std::move(options)) {}
  thread_group(const thread_group&) = delete;
  thread_group& operator=(const thread_group&) = delete;
  ~thread_group() { join(); }

  // Starts shards 1..count-1 on new threads, runs shard 0 on this one and
  // waits for all of them. A shard that throws stops the others; the first
  // exception is rethrown.
  void run(const shard_body& body);
  void stop_all() noexcept;
  // Shards whose body has not returned yet, and whether stop_all() was called.
  std::size_t running() noexcept;
  bool stopping() noexcept;

 private:
  void run_shard(unsigned index, const shard_body& body);
  void join() noexcept;

  unsigned count_;
  proactor_options options_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::vector<proactor*> proactors_;
  std::exception_ptr error_;
  bool stopping_ = false;
};

}  // namespace overlap::server
