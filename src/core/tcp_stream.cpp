#include "overlap/tcp_stream.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "overlap/detail/backend.hpp"
#include "overlap/proactor.hpp"
#include "socket_ops.hpp"

namespace overlap {

tcp_stream::tcp_stream(proactor& p, int fd) : proactor_(&p), state_(detail::acquire_state(p, fd)) {}

tcp_stream& tcp_stream::operator=(tcp_stream&& o) noexcept {
  if (this != &o) {
    close();
    proactor_ = o.proactor_;
    state_ = std::exchange(o.state_, nullptr);
  }
  return *this;
}

endpoint tcp_stream::local_endpoint() const {
  return state_ ? detail::socket_name(state_->fd, false) : endpoint();
}
endpoint tcp_stream::remote_endpoint() const {
  return state_ ? detail::socket_name(state_->fd, true) : endpoint();
}

std::error_code tcp_stream::set_no_delay(bool on) noexcept {
  if (!state_) return std::make_error_code(std::errc::bad_file_descriptor);
  const int v = on ? 1 : 0;
  if (::setsockopt(state_->fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)) != 0) {
    return {errno, std::system_category()};
  }
  return {};
}

std::error_code tcp_stream::shutdown(int how) noexcept {
  if (!state_) return std::make_error_code(std::errc::bad_file_descriptor);
  if (::shutdown(state_->fd, how) != 0) return {errno, std::system_category()};
  return {};
}

void tcp_stream::cancel() noexcept {
  if (state_) detail::cancel_state(*state_);
}

void tcp_stream::close() noexcept {
  if (state_) detail::close_state(*std::exchange(state_, nullptr));
}

std::span<const char> tcp_stream::received() const noexcept {
  if (!state_) return {};
  return proactor_->backend().received(*state_);
}

void tcp_stream::consume(std::size_t n) noexcept {
  if (state_ && n > 0) proactor_->backend().consume(*state_, n);
}

void tcp_stream::prepare(io_op& op, op_kind kind, char* buf, std::size_t len,
                         const op_options& o) noexcept {
  op.owner = proactor_;
  op.kind = kind;
  op.sock = state_;
  op.fd = state_ ? state_->fd : -1;
  op.buf = buf;
  op.len = len;
  op.options = o;
}

void tcp_stream::prepare_connect(io_op& op, const endpoint& ep, const op_options& o) {
  int open_error = 0;
  if (!state_) {
    const int fd = ::socket(ep.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
      state_ = detail::acquire_state(*proactor_, fd);
    } else {
      open_error = -errno;
    }
  }
  if (state_) {
    std::memcpy(&state_->peer, ep.data(), ep.size());
    state_->peer_len = ep.size();
  }
  prepare(op, op_kind::connect, nullptr, 0, o);
  op.stashed_res = open_error;  // reported instead of EBADF when no socket could be made
}

void tcp_stream::prepare_writev(io_op& op, std::span<const iovec> iov,
                                const op_options& o) noexcept {
  std::size_t total = 0;
  for (const iovec& v : iov) total += v.iov_len;
  prepare(op, op_kind::writev_all, nullptr, total, o);
  op.iov = iov.data();
  op.iovcnt = static_cast<int>(iov.size());
  op.iov_index = 0;
  op.iov_offset = 0;
}

void tcp_stream::prepare_sendfile(io_op& op, int file_fd, std::int64_t offset, std::size_t length,
                                  const op_options& o) noexcept {
  prepare(op, op_kind::sendfile, nullptr, length, o);
  op.file_fd = file_fd;
  op.file_offset = offset;
}

// Handler-object form: the operation lives in the stream's state.
void tcp_stream::start_slot(detail::handler_op& slot, stream_handler& h) {
  slot.target = &h;
  proactor_->start(slot);
}

namespace {
// A closed stream has no state (and so no slots): complete through a
// throwaway callable that forwards to the handler object.
template <class Setup>
void start_on_closed(proactor& p, stream_handler& h, bool write_side, Setup&& setup) {
  detail::initiate_callable<detail::bytes_result>(
      p,
      [&h, write_side](std::error_code ec, std::size_t n) {
        if (write_side) {
          h.on_write_complete(ec, n);
        } else {
          h.on_read_complete(ec, n);
        }
      },
      std::forward<Setup>(setup));
}
}  // namespace

#define OVERLAP_STREAM_SLOT(side, write, ...)                               \
  if (!state_) {                                                            \
    start_on_closed(*proactor_, h, write, [&](io_op& op) { __VA_ARGS__; }); \
    return;                                                                 \
  }                                                                         \
  detail::handler_op& op = state_->side##_slot;                             \
  __VA_ARGS__;                                                              \
  start_slot(op, h)

void tcp_stream::async_read_some(std::span<char> buf, stream_handler& h, op_options o) {
  OVERLAP_STREAM_SLOT(read, false, prepare(op, op_kind::read_some, buf.data(), buf.size(), o));
}
void tcp_stream::async_read(std::span<char> buf, stream_handler& h, op_options o) {
  OVERLAP_STREAM_SLOT(read, false, prepare(op, op_kind::read_exact, buf.data(), buf.size(), o));
}
void tcp_stream::async_receive(stream_handler& h, op_options o) {
  OVERLAP_STREAM_SLOT(read, false, prepare(op, op_kind::receive, nullptr, 0, o));
}
void tcp_stream::async_write(std::span<const char> buf, stream_handler& h, op_options o) {
  OVERLAP_STREAM_SLOT(
      write, true, prepare(op, op_kind::write_all, const_cast<char*>(buf.data()), buf.size(), o));
}
void tcp_stream::async_writev(std::span<const iovec> iov, stream_handler& h, op_options o) {
  OVERLAP_STREAM_SLOT(write, true, prepare_writev(op, iov, o));
}
void tcp_stream::async_sendfile(int file_fd, std::int64_t offset, std::size_t length,
                                stream_handler& h, op_options o) {
  OVERLAP_STREAM_SLOT(write, true, prepare_sendfile(op, file_fd, offset, length, o));
}

// handler.hpp promises async_shutdown to handler objects (on_connect_complete);
// like async_connect it uses the write-side slot.
void tcp_stream::async_shutdown(int how, stream_handler& h) {
  if (!state_) {
    detail::initiate_callable<detail::error_only_result>(
        *proactor_, [&h](std::error_code ec) { h.on_connect_complete(ec); },
        [&](io_op& op) { prepare(op, op_kind::shutdown, nullptr, 0, {}); });
    return;
  }
  detail::handler_op& op = state_->write_slot;
  prepare(op, op_kind::shutdown, nullptr, 0, {});
  op.how = how;
  start_slot(op, h);
}
#undef OVERLAP_STREAM_SLOT

void tcp_stream::async_connect(const endpoint& ep, stream_handler& h, op_options o) {
  if (!state_) {
    const int fd = ::socket(ep.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      const int err = errno;
      proactor_->post([&h, err] { h.on_connect_complete({err, std::system_category()}); });
      return;
    }
    state_ = detail::acquire_state(*proactor_, fd);
  }
  detail::handler_op& op = state_->write_slot;
  prepare_connect(op, ep, o);
  start_slot(op, h);
}

}  // namespace overlap
