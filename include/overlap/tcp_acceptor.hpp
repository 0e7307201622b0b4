// A listening stream socket, TCP or Unix-domain (the paper's Acceptor, in
// its proactive form). acceptor_options other than the backlog are TCP's.
//
// async_accept completes once with (ec, tcp_stream). async_accept_multishot
// keeps one kernel operation armed and completes once per connection, with
// `more` telling whether it stays armed; it re-arms itself when the kernel
// ends it without an error, and stops on an error (e.g. EMFILE) so the caller
// can back off and start it again.
#pragma once

#include <cstdint>
#include <functional>
#include <system_error>
#include <utility>

#include "overlap/completion.hpp"
#include "overlap/detail/io_state.hpp"
#include "overlap/endpoint.hpp"
#include "overlap/handler.hpp"
#include "overlap/tcp_stream.hpp"

namespace overlap {

struct acceptor_options {
  int backlog = 4096;
  bool reuse_address = true;
  bool reuse_port = false;  // SO_REUSEPORT: one listener per proactor/thread
  bool v6_only = false;
  // TCP_NODELAY on the listener: Linux copies it to every accepted socket,
  // which saves a setsockopt per connection.
  bool no_delay = false;
  // TCP_DEFER_ACCEPT: the kernel completes a connection only once its first
  // data arrives (or after about this many seconds), so accept and the first
  // receive find each other in one wake-up. 0 leaves it off.
  int defer_accept_seconds = 0;
};

namespace detail {
struct accept_result {
  template <class F>
  static constexpr bool accepts = std::is_invocable_v<F&, std::error_code, tcp_stream>;
  template <class F>
  static void invoke(F& f, std::error_code ec, std::size_t fd, proactor& p) {
    f(ec, ec ? tcp_stream() : adopt_stream(p, static_cast<int>(fd)));
  }
  struct value_type {
    std::error_code ec;
    tcp_stream peer;
  };
  static value_type value(io_op& op) {
    if (op.ec) return {op.ec, tcp_stream()};
    return {op.ec, adopt_stream(*op.owner, static_cast<int>(op.bytes))};
  }
};
}  // namespace detail

class tcp_acceptor {
 public:
  // Opens, binds and listens; throws std::system_error on failure.
  tcp_acceptor(proactor& p, const endpoint& ep, acceptor_options o = {});
  // Adopts a listening socket made by open_listener (e.g. on another thread
  // before the proactor's thread started).
  tcp_acceptor(proactor& p, int listening_fd);
  // Opens a non-blocking listening socket; throws std::system_error.
  static int open_listener(const endpoint& ep, acceptor_options o = {});
  tcp_acceptor(tcp_acceptor&& o) noexcept
      : proactor_(o.proactor_), state_(std::exchange(o.state_, nullptr)) {}
  tcp_acceptor& operator=(tcp_acceptor&&) = delete;
  tcp_acceptor(const tcp_acceptor&) = delete;
  tcp_acceptor& operator=(const tcp_acceptor&) = delete;
  ~tcp_acceptor() { close(); }

  endpoint local_endpoint() const;
  int native_handle() const noexcept { return state_ ? state_->fd : -1; }
  bool is_open() const noexcept { return state_ != nullptr; }

  template <completion_token_for<detail::accept_result> Token>
  auto async_accept(Token&& token, op_options o = {}) {
    return initiate(std::forward<Token>(token), op_kind::accept, o);
  }
  void async_accept(accept_handler& h, op_options o = {});

  // Callable: `void(std::error_code, tcp_stream)`, called once per connection.
  template <class F>
  requires detail::accept_result::accepts<std::decay_t<F>>
  void async_accept_multishot(F&& f, op_options o = {}) {
    initiate(std::forward<F>(f), op_kind::accept_multishot, o);
  }
  void async_accept_multishot(accept_handler& h, op_options o = {});

  void cancel() noexcept;
  void close() noexcept;

 private:
  template <class Token>
  auto initiate(Token&& token, op_kind kind, const op_options& o) {
    return detail::initiate<detail::accept_result>(*proactor_, std::forward<Token>(token),
                                                   [&](io_op& op) { prepare(op, kind, o); });
  }
  void prepare(io_op& op, op_kind kind, const op_options& o) noexcept;

  proactor* proactor_;
  detail::io_state* state_ = nullptr;
};

}  // namespace overlap
