#include "overlap/tcp_acceptor.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "overlap/proactor.hpp"
#include "socket_ops.hpp"

namespace overlap {

tcp_acceptor::tcp_acceptor(proactor& p, const endpoint& ep, acceptor_options o)
    : tcp_acceptor(p, open_listener(ep, o)) {}

tcp_acceptor::tcp_acceptor(proactor& p, int listening_fd)
    : proactor_(&p), state_(detail::acquire_state(p, listening_fd)) {}

int tcp_acceptor::open_listener(const endpoint& ep, acceptor_options o) {
  const int fd = detail::open_stream_socket(ep.family());
  auto fail = [fd](const char* what) {
    auto err = detail::last_error(what);
    ::close(fd);
    throw err;
  };
  const int one = 1;
  if (ep.is_local()) {
    // No ports, no TCP: none of the options below apply.
    if (::bind(fd, ep.data(), ep.size()) != 0) fail(("bind " + ep.to_string()).c_str());
    if (::listen(fd, o.backlog) != 0) fail("listen");
    return fd;
  }
  if (o.reuse_address && ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
    fail("setsockopt(SO_REUSEADDR)");
  }
  if (o.reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    fail("setsockopt(SO_REUSEPORT)");
  }
  if (ep.family() == AF_INET6) {
    const int v6only = o.v6_only ? 1 : 0;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
  }
  if (o.no_delay && ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
    fail("setsockopt(TCP_NODELAY)");
  }
  if (o.defer_accept_seconds > 0 &&
      ::setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &o.defer_accept_seconds,
                   sizeof(o.defer_accept_seconds)) != 0) {
    fail("setsockopt(TCP_DEFER_ACCEPT)");
  }
  if (::bind(fd, ep.data(), ep.size()) != 0) fail(("bind " + ep.to_string()).c_str());
  if (::listen(fd, o.backlog) != 0) fail("listen");
  return fd;
}

endpoint tcp_acceptor::local_endpoint() const {
  return state_ ? detail::socket_name(state_->fd, false) : endpoint();
}

void tcp_acceptor::prepare(io_op& op, op_kind kind, const op_options& o) noexcept {
  op.owner = proactor_;
  op.kind = kind;
  op.sock = state_;
  op.fd = state_ ? state_->fd : -1;
  op.options = o;
}

void tcp_acceptor::async_accept(accept_handler& h, op_options o) {
  if (!state_) {
    proactor_->post([&h] {
      h.on_accept_complete(std::make_error_code(std::errc::bad_file_descriptor), tcp_stream(),
                           false);
    });
    return;
  }
  prepare(state_->read_slot, op_kind::accept, o);
  state_->read_slot.target = &h;
  proactor_->start(state_->read_slot);
}

void tcp_acceptor::async_accept_multishot(accept_handler& h, op_options o) {
  if (!state_) {
    async_accept(h, o);
    return;
  }
  prepare(state_->read_slot, op_kind::accept_multishot, o);
  state_->read_slot.target = &h;
  proactor_->start(state_->read_slot);
}

void tcp_acceptor::cancel() noexcept {
  if (state_) detail::cancel_state(*state_);
}

void tcp_acceptor::close() noexcept {
  if (state_) detail::close_state(*std::exchange(state_, nullptr));
}

}  // namespace overlap
