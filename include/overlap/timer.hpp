// A one-shot timer whose expiry is an asynchronous operation (IORING_OP_TIMEOUT
// on io_uring). Handler: `void(std::error_code)`; the code is empty on expiry
// and errc::operation_aborted when cancelled.
#pragma once

#include <chrono>
#include <utility>

#include "overlap/completion.hpp"
#include "overlap/detail/io_state.hpp"
#include "overlap/handler.hpp"

namespace overlap {

class timer {
 public:
  explicit timer(proactor& p);
  timer(timer&& o) noexcept : proactor_(o.proactor_), state_(std::exchange(o.state_, nullptr)) {}
  timer& operator=(timer&&) = delete;
  timer(const timer&) = delete;
  timer& operator=(const timer&) = delete;
  ~timer();

  template <completion_token_for<detail::error_only_result> Token>
  auto async_wait(std::chrono::nanoseconds after, Token&& token, op_options o = {}) {
    return detail::initiate<detail::error_only_result>(*proactor_, std::forward<Token>(token),
                                                       [&](io_op& op) { prepare(op, after, o); });
  }
  void async_wait(std::chrono::nanoseconds after, timer_handler& h, op_options o = {});

  // Cancels every wait in flight on this timer.
  void cancel() noexcept;

 private:
  void prepare(io_op& op, std::chrono::nanoseconds after, const op_options& o) noexcept;
  proactor* proactor_;
  detail::io_state* state_;
};

}  // namespace overlap
