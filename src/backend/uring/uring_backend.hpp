// The io_uring Asynchronous Operation Processor: the kernel performs the
// operations. Probes the kernel at start-up and uses what it offers:
// SINGLE_ISSUER | DEFER_TASKRUN (completions are reaped only by the owning
// thread, inside its io_uring_enter), multishot accept, multishot receive into
// a provided-buffer ring, a registered ring fd, registered socket
// descriptors, linked timeouts.
#pragma once

#include <liburing.h>

#include <cstdint>

#include "backend/spin_policy.hpp"
#include "buffer_ring.hpp"
#include "overlap/detail/backend.hpp"
#include "overlap/detail/io_state.hpp"

namespace overlap::detail {

class uring_backend final : public backend {
 public:
  uring_backend(proactor& owner, const proactor_options& options);
  ~uring_backend() override;

  const char* name() const noexcept override { return "io_uring"; }
  void start(io_op& op) override;
  void cancel(io_op& op) noexcept override;
  void close(io_state& s) noexcept override;
  void cancel_all(io_state& s) noexcept override;
  std::span<const char> received(const io_state& s) const noexcept override;
  void consume(io_state& s, std::size_t n) noexcept override;
  std::size_t wait(std::chrono::nanoseconds timeout, std::size_t max_completions) override;
  // An eventfd registered with the ring (created on first call): the kernel
  // signals it as completion work arrives; each wait() reads it back to zero.
  int pollable_fd() noexcept override;
  void wake() noexcept override;
  void shutdown() noexcept override;
  void on_io_event(io_op& op, int res, std::uint32_t flags) override;
  void on_state_event(io_state& s, int role, int res, std::uint32_t flags) override;
  proactor_stats stats() const noexcept override { return stats_; }

 private:
  struct wake_op final : operation {
    explicit wake_op(uring_backend* b) noexcept : operation(&on_wake), self(b) {}
    static void on_wake(operation* op, int res, std::uint32_t flags);
    uring_backend* self;
  };

  io_uring_sqe* get_sqe(unsigned needed = 1);
  void discard_unsubmitted() noexcept;
  void submit_op(io_op& op);
  void post(io_op& op, int res) noexcept;
  void complete(io_op& op, std::error_code ec, std::size_t n);
  std::error_code error_for(const io_op& op, int res) const noexcept;
  void arm_deadline(io_op& op);
  void on_deadline(io_op& op, int res);
  void dispatch(std::uint64_t user_data, int res, std::uint32_t flags);
  std::size_t reap(std::size_t max);
  bool spin_for_completions(std::chrono::nanoseconds budget);
  void arm_wake();

  // Receive side (provided buffers, multishot receive, spill fallback).
  bool uses_receive_queue(const io_state& s) const noexcept;
  void start_receive(io_op& op);
  void serve_pending(io_state& s, bool initiating);
  void ensure_receiving(io_state& s);
  void on_multishot(io_state& s, int res, std::uint32_t flags);
  void on_spill(io_state& s, int res);
  void drop_queue(io_state& s) noexcept;
  std::size_t copy_out(io_state& s, char* dst, std::size_t max) noexcept;

  // Registered files: a socket's descriptor goes into the ring's sparse file
  // table (slot = descriptor number) before its first operation, by an
  // IORING_OP_FILES_UPDATE queued ahead of it, and leaves it before its
  // IORING_OP_CLOSE; its operations then carry IOSQE_FIXED_FILE.
  void register_fixed(io_state& s);
  static void use_fixed(io_uring_sqe* sqe, const io_state* s) noexcept {
    if (s != nullptr && s->fixed_file && sqe->fd == s->fd) sqe->flags |= IOSQE_FIXED_FILE;
  }

  // Write side extras.
  void resubmit_rest(io_op& op);
  void try_sendfile(io_op& op, bool initiating);

  proactor& owner_;
  io_uring ring_{};
  bool ring_ready_ = false;
  buffer_ring buffers_;
  int wake_fd_ = -1;
  int poll_fd_ = -1;  // post-reactive mode only (pollable_fd())
  wake_op wake_op_{this};
  bool multishot_accept_ = true;
  bool has_openat2_ = false;  // optional opcodes: file operations report
  bool has_statx_ = false;    // errc::not_supported without them
  bool has_read_ = false;
  unsigned fixed_files_ = 0;  // slots in the registered-file table; 0 = none
  bool skip_success_cqe_ = false;
  int no_file_ = -1;  // what a slot is set to when its socket closes
  spin_policy spin_;
  proactor_stats stats_;
};

}  // namespace overlap::detail
