// Per-operation cancellation: bind a cancel_signal to an operation through
// op_options::cancel; emit() asks the backend to cancel it, and the operation
// then completes (once) with errc::operation_aborted unless it had already
// finished. A signal is bound to at most one in-flight operation at a time.
#pragma once

namespace overlap {

class io_op;

class cancel_signal {
 public:
  cancel_signal() = default;
  cancel_signal(const cancel_signal&) = delete;
  cancel_signal& operator=(const cancel_signal&) = delete;
  ~cancel_signal();

  // Cancels the bound operation, if any is in flight. Owning thread only.
  void emit() noexcept;
  bool bound() const noexcept { return op_ != nullptr; }

  // Used by the proactor when an operation starts and finishes.
  void bind(io_op* op) noexcept { op_ = op; }
  void unbind(io_op* op) noexcept {
    if (op_ == op) op_ = nullptr;
  }

 private:
  io_op* op_ = nullptr;
};

}  // namespace overlap
