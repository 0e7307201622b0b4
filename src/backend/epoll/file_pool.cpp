#include "file_pool.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace overlap::detail {

int file_pool::perform(io_op& op) noexcept {
  switch (op.kind) {
    case op_kind::file_open: {
      const auto* how = static_cast<const open_how*>(op.arg);
      long fd;
      do {
        fd = ::syscall(SYS_openat2, op.fd, op.buf, how, sizeof(open_how));
      } while (fd < 0 && errno == EINTR);
      return fd < 0 ? -errno : static_cast<int>(fd);
    }
    case op_kind::file_stat: {
      auto* out = static_cast<struct statx*>(const_cast<void*>(op.arg));
      const char* path = op.buf != nullptr ? op.buf : "";
      const int flags = op.buf != nullptr ? op.how : AT_EMPTY_PATH;
      return ::statx(op.fd, path, flags, STATX_BASIC_STATS, out) < 0 ? -errno : 0;
    }
    case op_kind::file_read:
      while (op.done < op.len) {
        const std::size_t chunk = std::min<std::size_t>(op.len - op.done, std::size_t{1} << 30);
        const ssize_t n =
            ::pread(op.fd, op.buf + op.done, chunk,
                    static_cast<off_t>(op.file_offset + static_cast<std::int64_t>(op.done)));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -errno;
        if (n == 0) break;  // end of file: a short read
        op.done += static_cast<std::size_t>(n);
      }
      return 0;
    case op_kind::file_write:
      while (op.done < op.len) {
        const std::size_t chunk = std::min<std::size_t>(op.len - op.done, std::size_t{1} << 30);
        const ssize_t n = ::write(op.fd, op.buf + op.done, chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -errno;
        if (n == 0) return -EIO;
        op.done += static_cast<std::size_t>(n);
      }
      return 0;
    default:
      return -EINVAL;
  }
}

void file_pool::submit(io_op& op) {
  std::lock_guard lock(mutex_);
  queue_.push_back(&op);
  if (queue_.size() - queue_head_ > idle_ && threads_.size() < max_threads_) {
    threads_.emplace_back([this] { work(); });  // throws std::system_error on failure
  }
  ready_.notify_one();
}

void file_pool::take_done(std::vector<std::pair<io_op*, int>>& out) {
  std::lock_guard lock(mutex_);
  out.swap(done_);
}

void file_pool::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    ++idle_;
    ready_.wait(lock, [this] { return stopping_ || queue_head_ < queue_.size(); });
    --idle_;
    if (stopping_) return;
    io_op* op = queue_[queue_head_++];
    if (queue_head_ == queue_.size()) {
      queue_.clear();  // keeps its capacity
      queue_head_ = 0;
    }
    lock.unlock();
    const int res = perform(*op);
    lock.lock();
    done_.emplace_back(op, res);
    (void)::eventfd_write(wake_fd_, 1);
  }
}

void file_pool::stop() noexcept {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
    queue_head_ = 0;
  }
  ready_.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  std::lock_guard lock(mutex_);
  done_.clear();
}

}  // namespace overlap::detail
