// The handler-object form of completion handler: the paper's "callback
// class" (§8, Completion Handler). An object implements the interface for the
// operations it initiates, and the proactor calls it back; the operation's
// state lives inside the socket, timer or acceptor, so no allocation happens
// per operation. One read-side and one write-side operation may be in flight
// per stream in this form at a time.
#pragma once

#include <cstddef>
#include <system_error>

namespace overlap {

class tcp_stream;

class stream_handler {
 public:
  // async_read_some, async_read, async_receive
  virtual void on_read_complete(std::error_code ec, std::size_t bytes) = 0;
  // async_write, async_writev, async_sendfile
  virtual void on_write_complete(std::error_code ec, std::size_t bytes) = 0;
  // async_connect, async_shutdown, async_close (bytes is 0)
  virtual void on_connect_complete(std::error_code ec) { (void)ec; }

 protected:
  stream_handler() = default;
  stream_handler(const stream_handler&) = default;
  stream_handler& operator=(const stream_handler&) = default;
  ~stream_handler() = default;
};

class accept_handler {
 public:
  // One accepted connection (or an error). `more` is true while a multishot
  // accept stays armed after this completion.
  virtual void on_accept_complete(std::error_code ec, tcp_stream peer, bool more) = 0;

 protected:
  accept_handler() = default;
  accept_handler(const accept_handler&) = default;
  accept_handler& operator=(const accept_handler&) = default;
  ~accept_handler() = default;
};

class timer_handler {
 public:
  // ec is empty when the timer expired, operation_aborted when cancelled.
  virtual void on_timer_complete(std::error_code ec) = 0;

 protected:
  timer_handler() = default;
  timer_handler(const timer_handler&) = default;
  timer_handler& operator=(const timer_handler&) = default;
  ~timer_handler() = default;
};

class readiness_handler {
 public:
  // descriptor_watch::async_wait: `events` is the poll(2) revents mask
  // (POLLIN, POLLOUT, POLLERR, POLLHUP, ...) when ec is empty.
  virtual void on_ready(std::error_code ec, unsigned events) = 0;

 protected:
  readiness_handler() = default;
  readiness_handler(const readiness_handler&) = default;
  readiness_handler& operator=(const readiness_handler&) = default;
  ~readiness_handler() = default;
};

}  // namespace overlap
