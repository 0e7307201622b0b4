#include "shard_directory.hpp"

namespace overlap::server {

void shard_directory::attach(unsigned index, proactor& p, server_shard& shard) {
  std::lock_guard lock(mutex_);
  entry& e = entries_.at(index);
  e.p = &p;
  e.shard = &shard;
  for (auto& fn : e.waiting) p.post([s = &shard, fn = std::move(fn)] { fn(*s); });
  e.waiting.clear();
}

void shard_directory::detach(unsigned index) noexcept {
  std::lock_guard lock(mutex_);
  if (index >= entries_.size()) return;
  entry& e = entries_[index];
  e.p = nullptr;
  e.shard = nullptr;
  e.stopped = true;
  e.waiting.clear();
}

bool shard_directory::post_to(unsigned index, std::function<void(server_shard&)> fn) {
  std::lock_guard lock(mutex_);
  if (index >= entries_.size() || entries_[index].stopped) return false;
  entry& e = entries_[index];
  if (e.p == nullptr) {
    e.waiting.push_back(std::move(fn));  // still starting
    return true;
  }
  e.p->post([s = e.shard, fn = std::move(fn)] { fn(*s); });
  return true;
}

bool shard_directory::post(unsigned index, std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  if (index >= entries_.size() || entries_[index].p == nullptr) return false;
  entries_[index].p->post(std::move(fn));
  return true;
}

}  // namespace overlap::server
