#include "shard_directory.hpp"

namespace overlap::server {

void shard_directory::attach(unsigned index, proactor& p, server_shard& shard) {
  std::lock_guard lock(mutex_);
  entries_.at(index) = entry{&p, &shard};
}

void shard_directory::detach(unsigned index) noexcept {
  std::lock_guard lock(mutex_);
  if (index < entries_.size()) entries_[index] = entry{};
}

bool shard_directory::post_to(unsigned index, std::function<void(server_shard&)> fn) {
  std::lock_guard lock(mutex_);
  if (index >= entries_.size() || entries_[index].p == nullptr) return false;
  server_shard* shard = entries_[index].shard;
  entries_[index].p->post([shard, fn = std::move(fn)] { fn(*shard); });
  return true;
}

bool shard_directory::post(unsigned index, std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  if (index >= entries_.size() || entries_[index].p == nullptr) return false;
  entries_[index].p->post(std::move(fn));
  return true;
}

}  // namespace overlap::server
