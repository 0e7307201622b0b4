// The Asynchronous Operation (paper §5): one object per in-flight operation.
//
// The object's address is the Asynchronous Completion Token: the backend puts
// it in the io_uring user_data (or the epoll registration) and the completion
// finds all of its state from it, with no lookup. Where the object lives
// depends on the completion-handler form (see completion.hpp): inside a
// coroutine frame, inside the socket's state for the handler-object form, or in
// a recycled block of the proactor for a plain callable.
#pragma once

#include <linux/time_types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <system_error>

namespace overlap {

class proactor;
class cancel_signal;

namespace detail {
struct io_state;
}

// What the operation asks the operating system to do.
enum class op_kind : std::uint8_t {
  accept,            // one connection
  accept_multishot,  // connections until cancelled or an error
  connect,
  read_some,   // at least one byte into the caller's buffer
  read_exact,  // exactly len bytes into the caller's buffer
  receive,     // at least one byte into a provided buffer (tcp_stream::received())
  write_all,   // the whole buffer; short sends are resubmitted
  writev_all,  // the whole iovec array; short sends are resubmitted
  sendfile,    // a file range to a socket, no copy through user space
  file_write,  // the whole buffer to a file at its current position
  file_open,   // openat2(2) relative to a directory descriptor
  file_stat,   // statx(2) of an open descriptor
  file_read,   // from an offset until the buffer is full or the file ends
  shutdown,
  close,
  timer,
  signal,
  poll,  // readiness of a descriptor (descriptor_watch), the poll(2) events in `how`
};

const char* to_string(op_kind kind) noexcept;

// Per-operation options: a deadline (linked timeout, reports errc::timed_out),
// a cancellation signal (reports errc::operation_aborted) and, for
// async_write/async_writev, `more`: the caller sends more at once, or closes,
// so a partial segment may wait for it (MSG_MORE) and leave with the next
// bytes or with the FIN, instead of as a packet of its own.
struct op_options {
  std::chrono::nanoseconds timeout{0};  // 0 = no deadline
  cancel_signal* cancel = nullptr;
  bool more = false;
};

namespace detail {
// Flag passed to operation::on_event for a completion queued by the proactor
// itself (a result known without the kernel, or a task start).
inline constexpr std::uint32_t posted_completion_flag = 1u << 31;
}  // namespace detail

// Base of every operation the backend can complete. `on_event` is called by
// the backend for each kernel completion (res is the raw result, flags the CQE
// flags) and by the proactor for a posted completion.
class operation {
 public:
  using event_fn = void (*)(operation* self, int res, std::uint32_t flags);
  explicit operation(event_fn fn) noexcept : on_event_(fn) {}
  operation(const operation&) = delete;
  operation& operator=(const operation&) = delete;

  void on_event(int res, std::uint32_t flags) { on_event_(this, res, flags); }

  operation* next_ready = nullptr;  // intrusive link in the proactor's ready queue
  int posted_res = 0;               // result carried by a posted completion

 protected:
  ~operation() = default;

 private:
  event_fn on_event_;
};

// An I/O operation with its parameters, progress and result. The handler form
// supplies `deliver`, which hands (ec, bytes) to the completion handler; it runs
// exactly once per completion (several times for multishot accept, the last
// time without `more`).
class io_op : public operation {
 public:
  using deliver_fn = void (*)(io_op* self);
  explicit io_op(deliver_fn deliver) noexcept;

  // Parameters (set by the initiator).
  op_kind kind = op_kind::read_some;
  int fd = -1;
  char* buf = nullptr;  // read target, or write source (const in spirit)
  std::size_t len = 0;
  const iovec* iov = nullptr;
  int iovcnt = 0;
  std::int64_t file_offset = 0;  // sendfile, file_read
  int file_fd = -1;              // sendfile
  const void* arg = nullptr;     // file_open: the open_how; file_stat: the statx buffer
  int how = 0;                   // shutdown; file_stat: statx flags; poll: events
  op_options options;
  detail::io_state* sock = nullptr;
  proactor* owner = nullptr;

  // Progress (owned by the backend).
  std::size_t done = 0;        // bytes transferred so far by a composed operation
  int iov_index = 0;           // writev_all: first iovec not yet fully sent
  std::size_t iov_offset = 0;  // writev_all: bytes of iov[iov_index] already sent
  msghdr msg{};                // writev_all: the kernel reads it at submission
  bool in_flight = false;
  bool user_cancelled = false;
  bool deadline_fired = false;
  bool deadline_armed = false;  // a standalone deadline timer is outstanding
  bool result_stashed = false;  // completed while its deadline timer was outstanding
  bool more = false;            // multishot: further completions will follow
  int stashed_res = 0;
  __kernel_timespec ts{};       // timer expiry or absolute deadline (CLOCK_MONOTONIC)
  io_op* state_prev = nullptr;  // in-flight list of the io_state
  io_op* state_next = nullptr;
  std::uint32_t timer_index = 0;  // epoll backend: position + 1 in its timer heap, 0 = none
  std::uint32_t wait_events = 0;  // epoll backend: the readiness (EPOLLIN/OUT) it waits for
  // Instrumentation (proactor_options::track_operations, op_metrics.hpp):
  // when it started or last completed, and, for an operation on no I/O object
  // (not in an io_state's in-flight list), its place in the proactor's list.
  std::chrono::steady_clock::time_point tracked_since{};
  io_op* tracked_prev = nullptr;
  io_op* tracked_next = nullptr;

  // Result (read by the handler form).
  std::error_code ec;
  std::size_t bytes = 0;

  // Completes the operation (or, with `more`, one shot of a multishot one):
  // releases its bookkeeping and calls the handler form.
  void finish(std::error_code e, std::size_t n);

 private:
  static void on_backend_event(operation* self, int res, std::uint32_t flags);
  deliver_fn deliver_;
};

}  // namespace overlap
