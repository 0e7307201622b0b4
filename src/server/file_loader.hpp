// Loads files into a shard's open-file cache without blocking the event loop:
// openat2(O_PATH, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) → statx → for a
// regular file openat2(O_RDONLY) → statx → for a small one a read, each an
// operation on the proactor (IORING_OP_OPENAT2, _STATX, _READ). A cached
// entry due for revalidation costs one statx of its path, and a full load
// only if the file changed. Sessions whose request waits for the same path
// share one load. Where the kernel lacks these operations the load falls
// back to the cache's synchronous one.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "overlap/http/open_file_cache.hpp"
#include "overlap/proactor.hpp"

namespace overlap::server {

class file_loader {
 public:
  // Told when the path it waits for has an outcome in the cache. Unlinks
  // itself when destroyed, so a session may go away while a load runs.
  class waiter {
   public:
    waiter() = default;
    waiter(const waiter&) = delete;
    waiter& operator=(const waiter&) = delete;
    virtual ~waiter() { unlink(); }
    virtual void on_file_loaded() = 0;
    bool waiting() const noexcept { return job_ != nullptr; }

   private:
    friend class file_loader;
    void unlink() noexcept;
    struct load_job* job_ = nullptr;
    waiter* prev_ = nullptr;
    waiter* next_ = nullptr;
  };

  file_loader(proactor& p, http::open_file_cache& cache);
  ~file_loader();
  file_loader(const file_loader&) = delete;
  file_loader& operator=(const file_loader&) = delete;

  // Starts loading `path` (normalised, as the cache keys it), or joins the
  // load already running for it. `w` is called later, never from here.
  void load(std::string_view path, waiter& w);

  struct statistics {
    std::uint64_t loads = 0, joined = 0, synchronous_fallbacks = 0;
    std::uint64_t unchanged = 0;  // revalidations that kept the cached entry
  };
  const statistics& stats() const noexcept { return stats_; }

 private:
  friend struct load_job;
  static void add_waiter(load_job& j, waiter& w) noexcept;
  void finish(load_job& j, http::open_status status, int error_number);
  void load_synchronously(load_job& j);
  void deliver(load_job& j, const http::open_result& outcome);

  proactor& proactor_;
  http::open_file_cache& cache_;
  load_job* jobs_ = nullptr;  // loads in flight (each owned by its pending operation)
  bool use_sync_ = false;     // the kernel lacks the operations: load synchronously
  statistics stats_;
};

}  // namespace overlap::server
