#include "overlap/signal_set.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>

#include <cerrno>
#include <system_error>

#include "overlap/proactor.hpp"

namespace overlap {

signal_set::signal_set(proactor& p, std::initializer_list<int> signals) : proactor_(&p) {
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : signals) sigaddset(&mask, s);
  // Signals must be blocked for signalfd to receive them instead of the
  // default disposition.
  if (const int rc = ::pthread_sigmask(SIG_BLOCK, &mask, nullptr); rc != 0) {
    throw std::system_error(rc, std::system_category(), "pthread_sigmask");
  }
  const int fd = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::system_category(), "signalfd");
  state_ = detail::acquire_state(p, fd);
}

signal_set::~signal_set() {
  if (state_) detail::close_state(*state_);
}

void signal_set::prepare(io_op& op, const op_options& o) noexcept {
  op.owner = proactor_;
  op.kind = op_kind::signal;
  op.sock = state_;
  op.fd = state_ ? state_->fd : -1;
  op.buf = reinterpret_cast<char*>(state_ ? state_->scratch : nullptr);
  op.len = sizeof(signalfd_siginfo);
  op.options = o;
}

void signal_set::cancel() noexcept {
  if (state_) detail::cancel_state(*state_);
}

}  // namespace overlap
