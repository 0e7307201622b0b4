// Where the running shards can be reached from another thread: the admin
// listener (on shard 0) asks each shard for a report by posting a function to
// that shard's proactor. A shard attaches once its loop is set up and detaches
// before its proactor is destroyed, both under the lock that post_to holds, so
// a post never reaches a proactor that is gone; one that arrives after the
// loop returned is dropped unrun with the proactor's queue. A post to a shard
// still starting waits in the directory until the shard attaches.
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

  // Runs fn(shard) on shard `index`'s thread, once it has started. False when
  // that shard has stopped (fn is then dropped unrun).
  bool post_to(unsigned index, std::function<void(server_shard&)> fn);
  // Runs fn on shard `index`'s thread if it is running; false otherwise.
  bool post(unsigned index, std::function<void()> fn);

 private:
  struct entry {
    proactor* p = nullptr;
    server_shard* shard = nullptr;
    bool stopped = false;
    std::vector<std::function<void(server_shard&)>> waiting;  // posted before attach
  };
  std::mutex mutex_;
  std::vector<entry> entries_;
};

}  // namespace overlap::server
