// The Completion Dispatcher (paper §5): overlap::proactor.
//
// Applications initiate asynchronous operations on I/O objects bound to a
// proactor; the backend (the Asynchronous Operation Processor: io_uring, or
// an emulation) performs them; run() and friends dispatch each completion to
// its handler on the calling thread. One proactor per thread: only post(),
// stop() and wake-ups may be called from other threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "overlap/completion.hpp"
#include "overlap/op_metrics.hpp"
#include "overlap/operation.hpp"

namespace overlap {

namespace detail {
class backend;
struct io_state;
struct task_root;
io_state* acquire_state(proactor& p, int fd);
void release(io_state& s) noexcept;
}  // namespace detail

struct proactor_options {
  // Submission-queue entries of the io_uring backend.
  unsigned queue_entries = 1024;
  // Provided-buffer ring for async_receive: count (power of two) and size.
  unsigned recv_buffer_count = 1024;
  unsigned recv_buffer_size = 4096;
  // Flow control: a stream holding this many unconsumed buffers stops
  // receiving (its multishot receive is cancelled, TCP's window closes) until
  // the application consumes them, so one flooding peer cannot drain the ring.
  unsigned max_buffers_per_stream = 16;
  // Adaptive busy-polling: the longest the loop spins on the completion queue
  // before sleeping in the kernel. Spinning saves the sleep and wake-up when
  // completions follow each other closely (ping-pong traffic); the loop adapts
  // how long it spins to what recent spins found and stops spinning while
  // completions are far apart. Zero (the default) never spins. The io_uring
  // backend needs a kernel with IORING_SETUP_TASKRUN_FLAG (5.19) for it and
  // ignores it otherwise; the epoll backend spins on epoll_wait.
  std::chrono::microseconds busy_poll{0};
  // "io_uring" or "epoll"; empty = $OVERLAP_BACKEND, else io_uring where the
  // kernel allows it and epoll where it does not (see backend_fallback_reason).
  std::string backend;
  // Stamps each operation with the loop's clock (now()) when it starts and
  // completes, for the latency histograms and the list of operations in
  // flight (op_metrics.hpp). The per-kind counters are kept either way.
  bool track_operations = false;
};

// Counters a backend keeps; read with proactor::stats().
struct proactor_stats {
  std::uint64_t completions = 0;       // kernel completions dispatched
  std::uint64_t submissions = 0;       // io_uring_enter calls that submitted work
  std::uint64_t sq_full = 0;           // times the submission queue was full
  std::uint64_t cq_overflows = 0;      // times the kernel reported CQ overflow
  std::uint64_t enobufs = 0;           // multishot receives ended by an empty buffer ring
  std::uint64_t spill_receives = 0;    // receives served by a private buffer after ENOBUFS
  std::uint64_t multishot_rearms = 0;  // multishot operations re-armed
  std::uint64_t busy_polls = 0;        // spins that ended with a completion
  std::uint64_t busy_poll_misses = 0;  // spins that ended in a sleep
  std::uint64_t registered_files = 0;  // sockets put in io_uring's registered-file table
};

class proactor {
 public:
  explicit proactor(proactor_options options = {});
  ~proactor();
  proactor(const proactor&) = delete;
  proactor& operator=(const proactor&) = delete;

  // Runs until stop() or until no work remains; returns handlers run.
  std::size_t run();
  // Runs at most one handler, waiting for it if needed.
  std::size_t run_one();
  // Runs ready handlers without blocking.
  std::size_t poll();
  // Runs until the duration passes, stop(), or no work remains.
  std::size_t run_for(std::chrono::nanoseconds duration);

  // Makes run() return as soon as possible. Safe from any thread.
  void stop() noexcept;
  bool stopped() const noexcept { return stopped_.load(std::memory_order_acquire); }
  // Clears the stopped state so run() can be called again.
  void restart() noexcept { stopped_.store(false, std::memory_order_release); }

  // Queues fn to run on the proactor's thread and wakes it. Safe from any
  // thread; fn never runs inside post().
  void post(std::function<void()> fn);

  // Keeps run() from returning for lack of work (e.g. while waiting for
  // posts from other threads).
  class work_guard {
   public:
    explicit work_guard(proactor& p) noexcept : p_(&p) { ++p.outstanding_; }
    work_guard(work_guard&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    work_guard(const work_guard&) = delete;
    work_guard& operator=(const work_guard&) = delete;
    ~work_guard() { reset(); }
    void reset() noexcept {
      if (p_ != nullptr) --std::exchange(p_, nullptr)->outstanding_;
    }

   private:
    proactor* p_;
  };

  // The loop's clock (steady): read at the first call after the loop picks
  // up a batch of completions, so the handlers of one batch share one
  // reading instead of each asking the kernel for the time (libuv's uv_now()
  // works the same way), and a loop that never asks never reads it. It lags
  // the true time by at most the time the batch's handlers have run so far:
  // good for timeouts of milliseconds and more, not for measuring handlers.
  std::chrono::steady_clock::time_point now() const noexcept {
    if (now_stale_) {
      now_ = std::chrono::steady_clock::now();
      now_stale_ = false;
    }
    return now_;
  }

  // The post-reactive strategy: a descriptor another event loop (epoll,
  // poll, GLib…) can wait on. It is readable, level-triggered, while
  // completions or posted functions are waiting; the other loop then calls
  // poll(), which runs them without blocking. poll() also submits what was
  // initiated outside a handler, so call it after starting operations from the
  // other loop's code, before waiting again. The io_uring backend hands out an
  // eventfd registered with the ring (each wait reads it back to zero); the
  // epoll emulation its epoll descriptor, with a timerfd added for its
  // timers. -1 if it cannot be provided. The other loop's wait may return
  // EINTR on io_uring (the ring's work for this thread interrupts a sleep
  // like a signal): retry it, as for a signal.
  int native_handle() noexcept;

  const char* backend_name() const noexcept;
  // Why io_uring could not be used when no backend was named and the epoll
  // emulation stands in; empty otherwise.
  const std::string& backend_fallback_reason() const noexcept { return fallback_reason_; }
  proactor_stats stats() const noexcept;
  const proactor_options& options() const noexcept { return options_; }

  // Instrumentation (op_metrics.hpp); proactor thread only. The counters per
  // operation kind; latencies only with track_operations.
  const op_metrics& operation_metrics() const noexcept { return metrics_; }
  // The operations in flight, longest-waiting first. Empty unless
  // track_operations is set.
  std::vector<outstanding_op> outstanding_operations() const;
  // Installs (or with nullptr removes) a sink that sees every initiation and
  // completion from now on; it must outlive its installation.
  void set_trace_sink(op_trace_sink* sink) noexcept { trace_ = sink; }

  // --- used by I/O objects and the backend ------------------------------
  void start(io_op& op);
  void cancel(io_op& op) noexcept;
  // Queues a completion to run from the loop (same thread only).
  void post_completion(operation& op, int res) noexcept;
  detail::backend& backend() noexcept { return *backend_; }
  bool shutting_down() const noexcept { return shutting_down_; }
  void on_operation_started() noexcept { ++outstanding_; }
  void on_operation_finished() noexcept { --outstanding_; }
  // Bookkeeping of the instrumentation, from io_op::finish: one completion
  // about to be delivered (the last one unless op.more).
  void note_completion(io_op& op, const std::error_code& ec, std::size_t n) noexcept {
    op_kind_metrics& m = metrics_[op.kind];
    ++m.completions;
    if (!ec) {
      ++m.ok;
      m.bytes += n;
    } else {
      count_error(m, ec);
    }
    if (!op.more) --m.in_flight;
    if (tracking_ || trace_ != nullptr) trace_completion(op, ec, n);
  }
  // Called just before a completion handler (or posted function, or task
  // start) runs: run_one() and the return values count handlers, not kernel
  // completions (a wake-up or a cancellation's own CQE runs no handler).
  void note_handler_run() noexcept { ++handlers_run_; }
  // A new batch of completions: the next now() reads the clock again.
  void new_batch() noexcept { now_stale_ = true; }
  void adopt_root(detail::task_root* root) noexcept;
  void drop_root(detail::task_root* root) noexcept;
  void set_exception(std::exception_ptr e) noexcept;

 private:
  friend void* detail::allocate_operation(proactor&, std::size_t);
  friend void detail::release_operation(proactor&, void*, std::size_t) noexcept;
  friend void detail::track_operation(proactor&, detail::owned_op_link*) noexcept;
  friend void detail::untrack_operation(proactor&, detail::owned_op_link*) noexcept;
  friend detail::io_state* detail::acquire_state(proactor&, int);
  friend void detail::release(detail::io_state&) noexcept;

  enum class wait_mode { block, poll, until };
  std::size_t run_loop(std::size_t max_handlers, wait_mode mode,
                       std::chrono::steady_clock::time_point deadline);
  void run_ready(std::size_t max_handlers);
  void trace_initiation(io_op& op) noexcept;
  void trace_completion(io_op& op, const std::error_code& ec, std::size_t n) noexcept;
  static void count_error(op_kind_metrics& m, const std::error_code& ec) noexcept;
  void take_foreign_posts(std::size_t max_handlers);
  void rethrow_pending();

  proactor_options options_;
  std::unique_ptr<detail::backend> backend_;
  std::string fallback_reason_;
  std::atomic<bool> stopped_{false};
  bool shutting_down_ = false;
  std::size_t outstanding_ = 0;  // operations in flight + queued completions + guards

  operation* ready_head_ = nullptr;
  operation* ready_tail_ = nullptr;

  std::mutex foreign_mutex_;
  std::vector<std::function<void()>> foreign_posts_;
  std::size_t foreign_head_ = 0;  // first post not yet run (guarded by foreign_mutex_)
  std::atomic<bool> foreign_pending_{false};
  std::size_t handlers_run_ = 0;
  mutable std::chrono::steady_clock::time_point now_{};
  mutable bool now_stale_ = true;

  // Recycled blocks for callable-form operations, by 64-byte size class.
  static constexpr std::size_t block_granule = 64;
  static constexpr std::size_t block_classes = 16;
  std::vector<void*> free_blocks_[block_classes];
  detail::owned_op_link owned_ops_;  // sentinel of a circular list

  detail::io_state* live_states_ = nullptr;
  std::vector<detail::io_state*> free_states_;
  detail::task_root* roots_ = nullptr;
  std::exception_ptr pending_exception_;

  op_metrics metrics_;
  const bool tracking_;
  op_trace_sink* trace_ = nullptr;
  io_op* tracked_head_ = nullptr;  // operations in flight, newest first (tracking only)
};

}  // namespace overlap
