#include "thread_group.hpp"

#include <algorithm>

namespace overlap::server {

void thread_group::run_shard(unsigned index, const shard_body& body) {
  try {
    proactor p(options_);
    {
      std::lock_guard lock(mutex_);
      proactors_.push_back(&p);
      if (stopping_) p.stop();
    }
    try {
      body(index, p);
    } catch (...) {
      std::lock_guard lock(mutex_);
      proactors_.erase(std::find(proactors_.begin(), proactors_.end(), &p));
      throw;
    }
    std::lock_guard lock(mutex_);
    proactors_.erase(std::find(proactors_.begin(), proactors_.end(), &p));
  } catch (...) {
    {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    stop_all();
  }
}

void thread_group::run(const shard_body& body) {
  for (unsigned i = 1; i < count_; ++i) {
    threads_.emplace_back([this, i, &body] { run_shard(i, body); });
  }
  run_shard(0, body);
  join();
  if (error_) std::rethrow_exception(error_);
}

void thread_group::stop_all() noexcept {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  for (proactor* p : proactors_) p->stop();
}

std::size_t thread_group::running() noexcept {
  std::lock_guard lock(mutex_);
  return proactors_.size();
}

bool thread_group::stopping() noexcept {
  std::lock_guard lock(mutex_);
  return stopping_;
}

void thread_group::join() noexcept {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

}  // namespace overlap::server
