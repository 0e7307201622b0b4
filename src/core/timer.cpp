#include "overlap/timer.hpp"

#include "overlap/proactor.hpp"

namespace overlap {

timer::timer(proactor& p) : proactor_(&p), state_(detail::acquire_state(p, -1)) {}

timer::~timer() {
  if (state_) detail::close_state(*state_);
}

void timer::prepare(io_op& op, std::chrono::nanoseconds after, const op_options& o) noexcept {
  using namespace std::chrono;
  const auto ns = std::max(after, nanoseconds{0}).count();
  op.owner = proactor_;
  op.kind = op_kind::timer;
  op.sock = state_;
  op.fd = -1;
  op.options = o;
  op.ts.tv_sec = ns / 1'000'000'000;
  op.ts.tv_nsec = ns % 1'000'000'000;
}

void timer::async_wait(std::chrono::nanoseconds after, timer_handler& h, op_options o) {
  prepare(state_->read_slot, after, o);
  state_->read_slot.target = &h;
  proactor_->start(state_->read_slot);
}

void timer::cancel() noexcept {
  if (state_) detail::cancel_state(*state_);
}

}  // namespace overlap
