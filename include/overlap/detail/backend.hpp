// The Asynchronous Operation Processor interface. A backend performs the
// operations a proactor starts and reports their completions; the proactor
// never knows which kernel interface does the work. Backends are chosen at run
// time (proactor_options::backend, $OVERLAP_BACKEND).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>

#include "overlap/operation.hpp"
#include "overlap/proactor.hpp"

namespace overlap::detail {

struct io_state;

class backend {
 public:
  virtual ~backend() = default;
  virtual const char* name() const noexcept = 0;

  // Initiates op; its completion is reported later from wait(), never from
  // inside this call.
  virtual void start(io_op& op) = 0;
  // Asks the kernel to cancel op; it then completes with operation_aborted.
  virtual void cancel(io_op& op) noexcept = 0;
  // Cancels every operation of the state and closes its descriptor.
  virtual void close(io_state& s) noexcept = 0;
  virtual void cancel_all(io_state& s) noexcept = 0;

  // The provided-buffer receive queue of a stream.
  virtual std::span<const char> received(const io_state& s) const noexcept = 0;
  virtual void consume(io_state& s, std::size_t n) noexcept = 0;

  // Dispatches up to max_completions kernel completions; waits up to `timeout`
  // for the first one (zero = poll, negative = forever). Returns the number
  // dispatched.
  virtual std::size_t wait(std::chrono::nanoseconds timeout, std::size_t max_completions) = 0;
  // Interrupts wait() from any thread.
  virtual void wake() noexcept = 0;
  // A descriptor that is readable while wait() would find work (the
  // post-reactive strategy, proactor::native_handle()); -1 on failure.
  virtual int pollable_fd() noexcept = 0;
  // Releases kernel resources before the proactor destroys the operations
  // still in flight; no completion is dispatched afterwards.
  virtual void shutdown() noexcept = 0;

  // Kernel event for an io_op or an io_state's internal operation.
  virtual void on_io_event(io_op& op, int res, std::uint32_t flags) = 0;
  virtual void on_state_event(io_state& s, int role, int res, std::uint32_t flags) = 0;

  virtual proactor_stats stats() const noexcept = 0;
};

// Creates the io_uring backend; throws std::system_error with a clear message
// when io_uring cannot be set up (disabled, blocked by seccomp, too old).
std::unique_ptr<backend> make_uring_backend(proactor& owner, const proactor_options& options);
// Creates the epoll backend (a reactor emulating completions).
std::unique_ptr<backend> make_epoll_backend(proactor& owner, const proactor_options& options);

}  // namespace overlap::detail
