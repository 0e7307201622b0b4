// Signals delivered as completions (signalfd read by the backend).
// Constructing a signal_set blocks its signals in the calling thread's mask,
// so create it before starting other threads (they inherit the mask).
// Handler: `void(std::error_code, std::size_t signal_number)`.
#pragma once

#include <initializer_list>
#include <utility>

#include "overlap/completion.hpp"
#include "overlap/detail/io_state.hpp"

namespace overlap {

class signal_set {
 public:
  // Throws std::system_error if the signalfd cannot be created.
  signal_set(proactor& p, std::initializer_list<int> signals);
  signal_set(signal_set&& o) noexcept
      : proactor_(o.proactor_), state_(std::exchange(o.state_, nullptr)) {}
  signal_set& operator=(signal_set&&) = delete;
  signal_set(const signal_set&) = delete;
  signal_set& operator=(const signal_set&) = delete;
  ~signal_set();

  template <completion_token_for<detail::bytes_result> Token>
  auto async_wait(Token&& token, op_options o = {}) {
    return detail::initiate<detail::bytes_result>(*proactor_, std::forward<Token>(token),
                                                  [&](io_op& op) { prepare(op, o); });
  }
  void cancel() noexcept;

 private:
  void prepare(io_op& op, const op_options& o) noexcept;
  proactor* proactor_;
  detail::io_state* state_;
};

}  // namespace overlap
