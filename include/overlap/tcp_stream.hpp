// A connected stream socket (TCP, or Unix-domain: the operations are the
// same) and its asynchronous operations. set_no_delay() is TCP's alone.
//
// Contract for every async_* function:
//  - the handler runs exactly once (from the proactor's loop, never inside the
//    initiating call) with (std::error_code, std::size_t bytes);
//  - buffers belong to the caller and must stay valid until the handler runs
//    (or, if it never runs, until the proactor is destroyed);
//  - errors: errc::eof (peer closed, reads only), errc::operation_aborted
//    (cancel(), close(), op_options::cancel), errc::timed_out
//    (op_options::timeout), or a system error such as connection_reset.
// Three handler forms are accepted (completion.hpp): a callable,
// overlap::use_awaitable, or a stream_handler&.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <utility>

#include "overlap/completion.hpp"
#include "overlap/detail/io_state.hpp"
#include "overlap/endpoint.hpp"
#include "overlap/handler.hpp"
#include "overlap/operation.hpp"

namespace overlap {

class tcp_stream {
 public:
  tcp_stream() noexcept = default;
  // Binds a stream to p without a socket; async_connect opens one.
  explicit tcp_stream(proactor& p) noexcept : proactor_(&p) {}
  // Adopts an open socket descriptor.
  tcp_stream(proactor& p, int fd);
  tcp_stream(tcp_stream&& o) noexcept
      : proactor_(o.proactor_), state_(std::exchange(o.state_, nullptr)) {}
  tcp_stream& operator=(tcp_stream&& o) noexcept;
  tcp_stream(const tcp_stream&) = delete;
  tcp_stream& operator=(const tcp_stream&) = delete;
  ~tcp_stream() { close(); }

  bool is_open() const noexcept { return state_ != nullptr; }
  int native_handle() const noexcept { return state_ ? state_->fd : -1; }
  proactor& get_proactor() const noexcept { return *proactor_; }
  endpoint local_endpoint() const;
  endpoint remote_endpoint() const;
  std::error_code set_no_delay(bool on) noexcept;

  // Connects to ep, opening a socket of ep's family if none is open.
  template <completion_token_for<detail::error_only_result> Token>
  auto async_connect(const endpoint& ep, Token&& token, op_options o = {}) {
    return initiate<detail::error_only_result>(std::forward<Token>(token),
                                               [&](io_op& op) { prepare_connect(op, ep, o); });
  }
  void async_connect(const endpoint& ep, stream_handler& h, op_options o = {});

  // Reads at least one byte (errc::eof at end of stream).
  template <completion_token_for<detail::bytes_result> Token>
  auto async_read_some(std::span<char> buf, Token&& token, op_options o = {}) {
    return initiate<detail::bytes_result>(std::forward<Token>(token), [&](io_op& op) {
      prepare(op, op_kind::read_some, buf.data(), buf.size(), o);
    });
  }
  void async_read_some(std::span<char> buf, stream_handler& h, op_options o = {});

  // Reads exactly buf.size() bytes; on eof or error, bytes says how many arrived.
  template <completion_token_for<detail::bytes_result> Token>
  auto async_read(std::span<char> buf, Token&& token, op_options o = {}) {
    return initiate<detail::bytes_result>(std::forward<Token>(token), [&](io_op& op) {
      prepare(op, op_kind::read_exact, buf.data(), buf.size(), o);
    });
  }
  void async_read(std::span<char> buf, stream_handler& h, op_options o = {});

  // Waits for data in proactor-provided buffers (io_uring: a multishot receive
  // into the shared buffer ring, so an idle stream holds no buffer). On
  // success bytes == received().size(); read the data with received() and
  // release it with consume(). Do not mix with async_read_some on one stream.
  template <completion_token_for<detail::bytes_result> Token>
  auto async_receive(Token&& token, op_options o = {}) {
    return initiate<detail::bytes_result>(std::forward<Token>(token), [&](io_op& op) {
      prepare(op, op_kind::receive, nullptr, 0, o);
    });
  }
  void async_receive(stream_handler& h, op_options o = {});
  // The next contiguous run of received bytes (empty if none is queued).
  std::span<const char> received() const noexcept;
  // Releases the first n bytes of received() (n <= received().size()).
  void consume(std::size_t n) noexcept;

  // Writes the whole buffer (short sends are resubmitted).
  template <completion_token_for<detail::bytes_result> Token>
  auto async_write(std::span<const char> buf, Token&& token, op_options o = {}) {
    return initiate<detail::bytes_result>(std::forward<Token>(token), [&](io_op& op) {
      prepare(op, op_kind::write_all, const_cast<char*>(buf.data()), buf.size(), o);
    });
  }
  void async_write(std::span<const char> buf, stream_handler& h, op_options o = {});

  // Writes every byte of a scatter/gather list; the iovec array must stay
  // valid until completion.
  template <completion_token_for<detail::bytes_result> Token>
  auto async_writev(std::span<const iovec> iov, Token&& token, op_options o = {}) {
    return initiate<detail::bytes_result>(std::forward<Token>(token),
                                          [&](io_op& op) { prepare_writev(op, iov, o); });
  }
  void async_writev(std::span<const iovec> iov, stream_handler& h, op_options o = {});

  // Sends length bytes of file_fd from offset without copying through user
  // space (sendfile, waiting for writability through the backend).
  template <completion_token_for<detail::bytes_result> Token>
  auto async_sendfile(int file_fd, std::int64_t offset, std::size_t length, Token&& token,
                      op_options o = {}) {
    return initiate<detail::bytes_result>(std::forward<Token>(token), [&](io_op& op) {
      prepare_sendfile(op, file_fd, offset, length, o);
    });
  }
  void async_sendfile(int file_fd, std::int64_t offset, std::size_t length, stream_handler& h,
                      op_options o = {});

  // Shuts down one or both directions (SHUT_RD, SHUT_WR, SHUT_RDWR).
  template <completion_token_for<detail::error_only_result> Token>
  auto async_shutdown(int how, Token&& token) {
    return initiate<detail::error_only_result>(std::forward<Token>(token), [&](io_op& op) {
      prepare(op, op_kind::shutdown, nullptr, 0, {});
      op.how = how;
    });
  }
  // Handler-object form (on_connect_complete), as handler.hpp documents.
  void async_shutdown(int how, stream_handler& h);
  // Immediate shutdown(2); returns the error, if any.
  std::error_code shutdown(int how) noexcept;

  // Cancels every operation in flight on this stream (operation_aborted).
  void cancel() noexcept;
  // Cancels every operation and closes the socket; the descriptor is released
  // once the kernel has finished with it.
  void close() noexcept;

 private:
  template <class Result, class Token, class Setup>
  auto initiate(Token&& token, Setup&& setup) {
    return detail::initiate<Result>(*proactor_, std::forward<Token>(token),
                                    std::forward<Setup>(setup));
  }
  void prepare(io_op& op, op_kind kind, char* buf, std::size_t len, const op_options& o) noexcept;
  void prepare_connect(io_op& op, const endpoint& ep, const op_options& o);
  void prepare_writev(io_op& op, std::span<const iovec> iov, const op_options& o) noexcept;
  void prepare_sendfile(io_op& op, int file_fd, std::int64_t offset, std::size_t length,
                        const op_options& o) noexcept;
  void start_slot(detail::handler_op& slot, stream_handler& h);

  proactor* proactor_ = nullptr;
  detail::io_state* state_ = nullptr;
};

}  // namespace overlap
