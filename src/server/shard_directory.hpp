// Where the running shards can be reached from another thread: the admin
// listener (on shard 0) asks each shard for a report by posting a function to
// that shard's proactor. A shard attaches once its loop is set up and detaches
// before its proactor is destroyed, both under the lock that post_to holds, so
// a post never reaches a proactor that is gone; one that arrives after the
// loop returned is dropped unrun with the proactor's queue.
#pragma once

#include <functional>
#include <mutex>
#include <vector>

#include "overlap/proactor.hpp"

namespace overlap::server {

class server_shard;

class shard_directory {
 public:
  explicit shard_directory(unsigned count) : entries_(count) {}

  void attach(unsigned index, proactor& p, server_shard& shard);
  void detach(unsigned index) noexcept;
  unsigned size() const noexcept { return static_cast<unsigned>(entries_.size()); }

  // Runs fn(shard) on shard `index`'s thread. False when that shard is not
  // running (fn is then dropped unrun).
  bool post_to(unsigned index, std::function<void(server_shard&)> fn);
  // Runs fn on shard `index`'s thread; false when it is not running.
  bool post(unsigned index, std::function<void()> fn);

 private:
  struct entry {
    proactor* p = nullptr;
    server_shard* shard = nullptr;
  };
  std::mutex mutex_;
  std::vector<entry> entries_;
};

}  // namespace overlap::server
