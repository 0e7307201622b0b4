#include "overlap/descriptor_watch.hpp"

#include <fcntl.h>
#include <poll.h>

#include <cerrno>
#include <system_error>

#include "overlap/proactor.hpp"

namespace overlap {
namespace {

int events_for(readiness r) noexcept {
  switch (r) {
    case readiness::readable:
      return POLLIN | POLLPRI;
    case readiness::writable:
      return POLLOUT;
    case readiness::either:
      break;
  }
  return POLLIN | POLLPRI | POLLOUT;
}

}  // namespace

descriptor_watch::descriptor_watch(proactor& p, int fd) : proactor_(&p) {
  const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) throw std::system_error(errno, std::system_category(), "descriptor_watch: dup");
  state_ = detail::acquire_state(p, own);
}

descriptor_watch::~descriptor_watch() {
  if (state_) detail::close_state(*state_);
}

void descriptor_watch::prepare(io_op& op, readiness r, const op_options& o) noexcept {
  op.owner = proactor_;
  op.kind = op_kind::poll;
  op.sock = state_;
  op.fd = state_ ? state_->fd : -1;
  op.how = events_for(r);
  op.options = o;
}

void descriptor_watch::async_wait(readiness r, readiness_handler& h, op_options o) {
  prepare(state_->read_slot, r, o);
  state_->read_slot.target = &h;
  proactor_->start(state_->read_slot);
}

void descriptor_watch::cancel() noexcept {
  if (state_) detail::cancel_state(*state_);
}

}  // namespace overlap
