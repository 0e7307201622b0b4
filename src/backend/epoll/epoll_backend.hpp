// The epoll Asynchronous Operation Processor: a reactor emulating a proactor,
// as Boost.Asio does where io_uring is missing or disabled (old kernels,
// container seccomp profiles, kernel.io_uring_disabled). An operation first
// tries its non-blocking system call at once; if the descriptor is not ready
// it waits for readiness in the epoll set (edge-triggered, registered once
// per descriptor with the io_state as the epoll data: the Asynchronous
// Completion Token), and the call is made again when readiness arrives. File
// work runs on a small thread pool (file_pool.hpp). Every result reaches its
// handler through the proactor's queue of posted completions, never inside
// the call that started the operation.
#pragma once

#include <sys/epoll.h>

#include <array>
#include <memory>
#include <utility>
#include <vector>

#include "backend/spin_policy.hpp"
#include "file_pool.hpp"
#include "overlap/detail/backend.hpp"
#include "overlap/detail/io_state.hpp"
#include "timer_heap.hpp"

namespace overlap::detail {

class epoll_backend final : public backend {
 public:
  epoll_backend(proactor& owner, const proactor_options& options);
  ~epoll_backend() override;

  const char* name() const noexcept override { return "epoll"; }
  void start(io_op& op) override;
  void cancel(io_op& op) noexcept override;
  void close(io_state& s) noexcept override;
  void cancel_all(io_state& s) noexcept override;
  std::span<const char> received(const io_state& s) const noexcept override;
  void consume(io_state& s, std::size_t n) noexcept override;
  std::size_t wait(std::chrono::nanoseconds timeout, std::size_t max_completions) override;
  // The epoll descriptor; the first call adds a timerfd to it that each wait()
  // then sets to the earliest timer, since timers here are not descriptors.
  int pollable_fd() noexcept override;
  void wake() noexcept override;
  void shutdown() noexcept override;
  void on_io_event(io_op& op, int res, std::uint32_t flags) override;
  void on_state_event(io_state& s, int role, int res, std::uint32_t flags) override;
  proactor_stats stats() const noexcept override { return stats_; }

 private:
  // What an attempt at an operation's system call came to.
  enum class attempt_result { settled, would_block };

  attempt_result attempt(io_op& op);
  attempt_result attempt_receive(io_op& op);
  attempt_result attempt_read(io_op& op);
  attempt_result attempt_write(io_op& op);
  attempt_result attempt_sendfile(io_op& op);
  attempt_result attempt_poll(io_op& op);
  attempt_result attempt_connect(io_op& op);
  void run(io_op& op);  // attempt; on would_block wait for readiness
  void wait_for(io_op& op, std::uint32_t events);
  void settle(io_op& op, int res) noexcept;  // the result is known: post it
  void on_ready(io_state& s, std::uint32_t events);
  int spin_for_events(std::int64_t budget_ns);
  std::size_t dispatch(int events);
  void expire_timers();
  void cancel_expired(io_op& op) noexcept;
  void finish_file_ops();
  std::error_code error_for(const io_op& op, int res) const noexcept;

  std::unique_ptr<char[]> take_buffer();
  void give_back(std::unique_ptr<char[]> buf) noexcept;
  std::size_t copy_out(io_state& s, char* dst, std::size_t max) noexcept;

  proactor& owner_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int timer_fd_ = -1;  // post-reactive mode only (pollable_fd())
  void arm_timer_fd() noexcept;
  unsigned buffer_size_;
  std::size_t max_free_buffers_;
  std::vector<std::unique_ptr<char[]>> free_buffers_;
  timer_heap timers_;
  file_pool files_;
  spin_policy spin_;
  std::vector<std::pair<io_op*, int>> files_done_;
  std::array<epoll_event, 128> events_{};
  bool has_pwait2_ = true;
  proactor_stats stats_;
};

std::unique_ptr<backend> make_epoll_backend(proactor& owner, const proactor_options& options);

}  // namespace overlap::detail
