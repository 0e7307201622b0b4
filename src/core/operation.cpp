#include "overlap/operation.hpp"

#include "overlap/cancel_signal.hpp"
#include "overlap/detail/backend.hpp"
#include "overlap/detail/io_state.hpp"
#include "overlap/handler.hpp"
#include "overlap/proactor.hpp"
#include "overlap/tcp_stream.hpp"

namespace overlap {

const char* to_string(op_kind kind) noexcept {
  switch (kind) {
    case op_kind::accept:
      return "accept";
    case op_kind::accept_multishot:
      return "accept_multishot";
    case op_kind::connect:
      return "connect";
    case op_kind::read_some:
      return "read_some";
    case op_kind::read_exact:
      return "read_exact";
    case op_kind::receive:
      return "receive";
    case op_kind::write_all:
      return "write_all";
    case op_kind::writev_all:
      return "writev_all";
    case op_kind::sendfile:
      return "sendfile";
    case op_kind::file_write:
      return "file_write";
    case op_kind::file_open:
      return "file_open";
    case op_kind::file_stat:
      return "file_stat";
    case op_kind::file_read:
      return "file_read";
    case op_kind::shutdown:
      return "shutdown";
    case op_kind::close:
      return "close";
    case op_kind::timer:
      return "timer";
    case op_kind::signal:
      return "signal";
    case op_kind::poll:
      return "poll";
  }
  return "unknown";
}

io_op::io_op(deliver_fn deliver) noexcept : operation(&on_backend_event), deliver_(deliver) {}

void io_op::on_backend_event(operation* self, int res, std::uint32_t flags) {
  auto* op = static_cast<io_op*>(self);
  op->owner->backend().on_io_event(*op, res, flags);
}

void io_op::finish(std::error_code e, std::size_t n) {
  ec = e;
  bytes = n;
  owner->note_completion(*this, e, n);
  if (!more) {
    in_flight = false;
    if (options.cancel != nullptr) options.cancel->unbind(this);
    if (sock != nullptr) {
      // Unlink from the state's in-flight list, then drop the reference.
      if (state_prev != nullptr) {
        state_prev->state_next = state_next;
      } else if (sock->inflight == this) {
        sock->inflight = state_next;
      }
      if (state_next != nullptr) state_next->state_prev = state_prev;
      state_prev = state_next = nullptr;
      detail::io_state* s = std::exchange(sock, nullptr);
      detail::release(*s);
    }
    owner->on_operation_finished();
  }
  owner->note_handler_run();
  deliver_(this);
}

void cancel_signal::emit() noexcept {
  if (op_ != nullptr && op_->owner != nullptr) op_->owner->cancel(*op_);
}

cancel_signal::~cancel_signal() {
  if (op_ != nullptr) op_->options.cancel = nullptr;
}

namespace detail {

void state_op::on_backend_event(operation* self, int res, std::uint32_t flags) {
  auto* op = static_cast<state_op*>(self);
  io_state& s = *op->state;
  s.owner->backend().on_state_event(s, static_cast<int>(op->which), res, flags);
}

void handler_op::deliver(io_op* base) {
  auto* self = static_cast<handler_op*>(base);
  switch (self->kind) {
    case op_kind::accept:
    case op_kind::accept_multishot: {
      auto* h = static_cast<accept_handler*>(self->target);
      const bool more = self->more;
      tcp_stream peer =
          self->ec ? tcp_stream() : adopt_stream(*self->owner, static_cast<int>(self->bytes));
      h->on_accept_complete(self->ec, std::move(peer), more);
      return;
    }
    case op_kind::timer:
      static_cast<timer_handler*>(self->target)->on_timer_complete(self->ec);
      return;
    case op_kind::poll:
      static_cast<readiness_handler*>(self->target)
          ->on_ready(self->ec, static_cast<unsigned>(self->bytes));
      return;
    case op_kind::connect:
    case op_kind::shutdown:
    case op_kind::close:
      static_cast<stream_handler*>(self->target)->on_connect_complete(self->ec);
      return;
    case op_kind::read_some:
    case op_kind::read_exact:
    case op_kind::receive:
    case op_kind::signal:
    case op_kind::file_open:  // file operations take callables and coroutines only
    case op_kind::file_stat:
    case op_kind::file_read:
      static_cast<stream_handler*>(self->target)->on_read_complete(self->ec, self->bytes);
      return;
    case op_kind::write_all:
    case op_kind::writev_all:
    case op_kind::sendfile:
    case op_kind::file_write:
      static_cast<stream_handler*>(self->target)->on_write_complete(self->ec, self->bytes);
      return;
  }
}

}  // namespace detail
}  // namespace overlap
