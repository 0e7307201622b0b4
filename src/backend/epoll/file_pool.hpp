// File work the epoll backend cannot make asynchronous (paper §7.1.2):
// readiness means nothing for regular files, so openat2, statx, reads and
// writes of files run as blocking system calls on a few worker threads. A
// finished operation is queued for the loop, which is woken through its
// eventfd and reports the result on its own thread. Workers start with the
// first file operation, so a proactor that never touches a file has none.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "overlap/operation.hpp"

namespace overlap::detail {

class file_pool {
 public:
  explicit file_pool(unsigned threads) noexcept : max_threads_(threads) {}
  ~file_pool() { stop(); }
  file_pool(const file_pool&) = delete;
  file_pool& operator=(const file_pool&) = delete;

  // The eventfd the pool writes to when an operation is done.
  void set_wake_fd(int fd) noexcept { wake_fd_ = fd; }
  // Runs op's system call on a worker; throws std::system_error if no
  // worker thread can be started.
  void submit(io_op& op);
  // Moves the finished operations (op, result: >= 0 or -errno) into out.
  void take_done(std::vector<std::pair<io_op*, int>>& out);
  // Finishes the calls in progress, drops queued ones, joins the workers.
  void stop() noexcept;

  // Performs op's file system call, blocking; returns >= 0 or -errno. For
  // reads and writes op.done holds the bytes transferred.
  static int perform(io_op& op) noexcept;

 private:
  void work();

  int wake_fd_ = -1;
  unsigned max_threads_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<io_op*> queue_;
  std::size_t queue_head_ = 0;
  std::size_t idle_ = 0;
  std::vector<std::pair<io_op*, int>> done_;
  std::vector<std::thread> threads_;
  bool stopping_ = false;
};

}  // namespace overlap::detail
