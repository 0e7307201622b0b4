// State shared by an I/O object (stream, acceptor, timer, signal set) and the
// kernel operations that refer to it. It is reference-counted: the owning
// object holds one reference and every armed kernel operation another, so the
// state outlives an object destroyed with operations still in flight.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "overlap/completion.hpp"
#include "overlap/operation.hpp"

namespace overlap::detail {

inline constexpr std::uint16_t no_buffer = 0xffff;

struct io_state;

// An operation internal to an io_state (multishot receive, close, the spill
// receive, a deadline timer), routed to the backend by role.
class state_op final : public operation {
 public:
  enum class role : std::uint8_t { recv_multishot, recv_spill, close, poll_out };
  state_op(io_state* s, role r) noexcept : operation(&on_backend_event), state(s), which(r) {}
  io_state* state;
  role which;

 private:
  static void on_backend_event(operation* self, int res, std::uint32_t flags);
};

struct io_state {
  io_state() = default;
  io_state(const io_state&) = delete;
  io_state& operator=(const io_state&) = delete;

  proactor* owner = nullptr;
  int fd = -1;
  int refs = 1;  // the owning object + each operation in flight on it
  bool closing = false;
  io_op* inflight = nullptr;  // list of io_ops in flight (linked through state_prev/next)

  // Receive queue of provided buffers (io_uring backend): buffer ids linked
  // through the buffer ring's own next[] table.
  std::uint16_t rq_head = no_buffer;
  std::uint16_t rq_tail = no_buffer;
  std::uint32_t rq_head_offset = 0;
  std::uint32_t rq_count = 0;  // buffers queued
  bool multishot_armed = false;
  bool received_once = false;  // the first receive is single-shot (see ensure_receiving)
  bool multishot_cancelling = false;
  bool ring_dry = false;  // the last multishot ended with ENOBUFS: spill once
  bool peer_eof = false;
  int recv_error = 0;                // -errno that ended the receive side
  io_op* pending_receive = nullptr;  // a receive waiting for data

  // Private buffer used when the shared ring ran dry (ENOBUFS) and a receive is
  // waiting: guarantees progress without dropping the connection. The epoll
  // backend receives into it always (from its pool of buffers).
  std::unique_ptr<char[]> spill;
  std::uint32_t spill_len = 0;
  std::uint32_t spill_off = 0;
  bool spill_in_flight = false;

  // Operations waiting for the socket to become writable (sendfile).
  io_op* pending_sendfile = nullptr;

  // io_uring backend: the descriptor is also in the ring's registered-file
  // table, at slot fd (fixed_fd is the value the registration reads), so
  // operations on it skip the kernel's per-request file lookup.
  bool fixed_file = false;
  int fixed_fd = -1;

  // epoll backend: the descriptor is in the epoll set; file operations of
  // this state running on the file thread pool (a close waits for them, so
  // the descriptor number is not reused under a worker).
  bool epoll_registered = false;
  // Registered and known to have nothing to read (the last receive drained
  // it): a receive then waits for the next edge without a system call. Never
  // set once epoll reported a hang-up: the end of stream raises no new edge.
  bool epoll_drained = false;
  bool epoll_hangup = false;
  bool close_deferred = false;
  std::uint32_t pool_ops = 0;

  sockaddr_storage peer{};  // connect target (must outlive submission)
  socklen_t peer_len = 0;
  alignas(8) unsigned char scratch[128]{};  // signalfd_siginfo for signal sets

  // Operation slots for the handler-object form.
  handler_op read_slot;
  handler_op write_slot;

  state_op multishot_op{this, state_op::role::recv_multishot};
  state_op spill_op{this, state_op::role::recv_spill};
  state_op close_op{this, state_op::role::close};
  state_op poll_op{this, state_op::role::poll_out};

  // The proactor's list of live states (freed at proactor teardown).
  io_state* prev_live = nullptr;
  io_state* next_live = nullptr;
};

// Reference management, implemented by the proactor.
io_state* acquire_state(proactor& p, int fd);  // refs = 1
void add_ref(io_state& s) noexcept;
void release(io_state& s) noexcept;  // frees at zero
// Cancels the state's operations and closes its descriptor (asynchronously
// where the backend can), then drops the owner's reference.
void close_state(io_state& s) noexcept;
void cancel_state(io_state& s) noexcept;

}  // namespace overlap::detail
