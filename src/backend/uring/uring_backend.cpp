#include "uring_backend.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <system_error>

#include "backend/completion_conventions.hpp"
#include "backend/sendfile_rest.hpp"
#include "overlap/error.hpp"
#include "overlap/proactor.hpp"

namespace overlap::detail {
namespace {

constexpr std::uint16_t receive_buffer_group = 0;

std::system_error setup_error(int negative_errno, const std::string& what) {
  std::string hint;
  if (negative_errno == -EPERM || negative_errno == -EACCES) {
    hint =
        " (io_uring is disabled: see /proc/sys/kernel/io_uring_disabled or the container's "
        "seccomp profile)";
  } else if (negative_errno == -ENOSYS) {
    hint = " (this kernel has no io_uring)";
  } else if (negative_errno == -ENOMEM) {
    hint = " (RLIMIT_MEMLOCK may be too low for the ring)";
  }
  return std::system_error(-negative_errno, std::system_category(),
                           "cannot set up io_uring: " + what + hint);
}

}  // namespace

std::unique_ptr<backend> make_uring_backend(proactor& owner, const proactor_options& options) {
  return std::make_unique<uring_backend>(owner, options);
}

uring_backend::uring_backend(proactor& owner, const proactor_options& options) : owner_(owner) {
  // Try the most capable set-up first and fall back flag by flag: older
  // kernels reject flags they do not know with EINVAL.
  const unsigned base = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE;
  // TASKRUN_FLAG makes the kernel flag pending completion work in the shared
  // ring, which is what lets the loop busy-poll without a system call.
  const unsigned attempts[] = {
      base | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
          IORING_SETUP_TASKRUN_FLAG,
      base | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_TASKRUN_FLAG,
      base | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER,
      base | IORING_SETUP_COOP_TASKRUN,
      IORING_SETUP_CQSIZE,
  };
  int rc = -EINVAL;
  for (unsigned flags : attempts) {
    io_uring_params p{};
    p.flags = flags;
    p.cq_entries = options.queue_entries * 4;  // room for multishot bursts
    rc = io_uring_queue_init_params(options.queue_entries, &ring_, &p);
    if (rc != -EINVAL) break;
  }
  if (rc < 0) throw setup_error(rc, "io_uring_setup");
  ring_ready_ = true;
  if ((ring_.flags & IORING_SETUP_TASKRUN_FLAG) != 0) {
    spin_ = spin_policy(std::chrono::duration_cast<std::chrono::nanoseconds>(options.busy_poll));
  }

  io_uring_probe* probe = io_uring_get_probe_ring(&ring_);
  if (probe == nullptr) {
    io_uring_queue_exit(&ring_);
    throw setup_error(-ENOSYS, "probe");
  }
  const std::pair<int, const char*> required[] = {
      {IORING_OP_ACCEPT, "ACCEPT"},
      {IORING_OP_CONNECT, "CONNECT"},
      {IORING_OP_RECV, "RECV"},
      {IORING_OP_SEND, "SEND"},
      {IORING_OP_SENDMSG, "SENDMSG"},
      {IORING_OP_TIMEOUT, "TIMEOUT"},
      {IORING_OP_LINK_TIMEOUT, "LINK_TIMEOUT"},
      {IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL"},
      {IORING_OP_CLOSE, "CLOSE"},
      {IORING_OP_SHUTDOWN, "SHUTDOWN"},
      {IORING_OP_POLL_ADD, "POLL_ADD"},
      {IORING_OP_READ, "READ"},
  };
  for (const auto& [opcode, opname] : required) {
    if (!io_uring_opcode_supported(probe, opcode)) {
      io_uring_free_probe(probe);
      io_uring_queue_exit(&ring_);
      throw setup_error(-ENOSYS, std::string("kernel lacks IORING_OP_") + opname);
    }
  }
  has_openat2_ = io_uring_opcode_supported(probe, IORING_OP_OPENAT2);
  has_statx_ = io_uring_opcode_supported(probe, IORING_OP_STATX);
  has_read_ = io_uring_opcode_supported(probe, IORING_OP_READ);
  io_uring_free_probe(probe);

  // Optional features: a registered ring fd saves an fd lookup per enter; the
  // buffer ring enables multishot receive (without it, receives use a private
  // buffer per waiting stream).
  (void)io_uring_register_ring_fd(&ring_);
  // Registered files: one slot per descriptor number the process may open
  // (up to 65,536; 8 bytes each in the kernel). Sockets above the table, or
  // a kernel without sparse tables (before 5.19), use plain descriptors.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0) {
    const unsigned slots = static_cast<unsigned>(std::min<rlim_t>(files.rlim_cur, 1u << 16));
    if (slots > 0 && io_uring_register_files_sparse(&ring_, slots) == 0) fixed_files_ = slots;
  }
  skip_success_cqe_ = (ring_.features & IORING_FEAT_CQE_SKIP) != 0;
  (void)buffers_.setup(ring_, options.recv_buffer_count, options.recv_buffer_size,
                       receive_buffer_group);

  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    const int e = errno;
    io_uring_queue_exit(&ring_);
    throw setup_error(-e, "eventfd");
  }
  arm_wake();
}

uring_backend::~uring_backend() {
  shutdown();
}

void uring_backend::shutdown() noexcept {
  if (ring_ready_) {
    // Cancel everything in flight and wait for it before the ring goes away:
    // ring teardown is asynchronous in the kernel, and a receive still armed
    // could otherwise write into memory the proactor is about to free.
    io_uring_sync_cancel_reg reg{};
    reg.flags = IORING_ASYNC_CANCEL_ANY;
    reg.fd = -1;
    reg.timeout.tv_sec = 1;
    discard_unsubmitted();
    (void)io_uring_submit(&ring_);
    (void)io_uring_register_sync_cancel(&ring_, &reg);
    // With DEFER_TASKRUN a cancelled request is only finished (and drops its
    // file references) when this task runs the ring's local work, which
    // happens in io_uring_enter. Without this, a cancelled multishot accept
    // could keep its listening socket open after the process exits, so a
    // restarted server would fail to bind. Discard the CQEs: the operations
    // are being torn down.
    for (int round = 0; round < 4; ++round) {
      (void)io_uring_get_events(&ring_);
      const unsigned ready = io_uring_cq_ready(&ring_);
      if (ready == 0) break;
      io_uring_cq_advance(&ring_, ready);
    }
    // The registered-file table holds a reference to each socket in it; drop
    // them now, not in the kernel's asynchronous ring teardown, so a closed
    // listener's port is free again when the proactor is gone.
    if (fixed_files_ > 0) (void)io_uring_unregister_files(&ring_);
    io_uring_queue_exit(&ring_);
    ring_ready_ = false;
  }
  buffers_.reset();
  if (wake_fd_ >= 0) ::close(std::exchange(wake_fd_, -1));
  if (poll_fd_ >= 0) ::close(std::exchange(poll_fd_, -1));
}

// Operations queued since the last submission have not reached the kernel.
// Their handlers will never run now, and the memory they name (a caller's
// buffer, a path) may already be freed: callers destroy their objects before
// the proactor. The final submission must not start them, so each becomes a
// no-op. Closes, file-table updates and cancellations stay: they release
// descriptors and stop what the kernel already has.
void uring_backend::discard_unsubmitted() noexcept {
  io_uring_sq& sq = ring_.sq;
  // From the kernel's head, not the last flush: a submission that failed
  // leaves flushed entries the kernel has not consumed yet.
  for (unsigned i = io_uring_smp_load_acquire(sq.khead); i != sq.sqe_tail; ++i) {
    io_uring_sqe* sqe = &sq.sqes[i & sq.ring_mask];
    switch (sqe->opcode) {
      case IORING_OP_CLOSE:
      case IORING_OP_FILES_UPDATE:
      case IORING_OP_ASYNC_CANCEL:
      case IORING_OP_TIMEOUT_REMOVE:
        continue;
      default:
        break;
    }
    const std::uint8_t links = sqe->flags & (IOSQE_IO_LINK | IOSQE_IO_HARDLINK);
    const std::uint64_t user_data = sqe->user_data;
    io_uring_prep_nop(sqe);
    sqe->flags = links;  // a chain stays a chain, so what follows still waits for it
    sqe->user_data = user_data;
  }
}

// --- submission ---------------------------------------------------------

io_uring_sqe* uring_backend::get_sqe(unsigned needed) {
  // A full submission queue is never fatal: submit what is queued and retry.
  if (io_uring_sq_space_left(&ring_) < needed) {
    ++stats_.sq_full;
    io_uring_submit(&ring_);
  }
  for (int attempt = 0; attempt < 1000; ++attempt) {
    if (io_uring_sqe* sqe = io_uring_get_sqe(&ring_)) return sqe;
    ++stats_.sq_full;
    io_uring_submit(&ring_);
  }
  throw std::system_error(EBUSY, std::system_category(), "io_uring submission queue stuck");
}

void uring_backend::arm_wake() {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_poll_multishot(sqe, wake_fd_, POLLIN);
  io_uring_sqe_set_data(sqe, static_cast<operation*>(&wake_op_));
}

void uring_backend::wake_op::on_wake(operation* op, int, std::uint32_t flags) {
  auto* self = static_cast<wake_op*>(op)->self;
  eventfd_t value;
  (void)::eventfd_read(self->wake_fd_, &value);
  if ((flags & IORING_CQE_F_MORE) == 0 && self->ring_ready_) self->arm_wake();
}

void uring_backend::wake() noexcept {
  if (wake_fd_ >= 0) (void)::eventfd_write(wake_fd_, 1);
}

void uring_backend::post(io_op& op, int res) noexcept {
  owner_.post_completion(op, res);
}

void uring_backend::start(io_op& op) {
  const bool file_op = op.kind == op_kind::file_open || op.kind == op_kind::file_stat ||
                       op.kind == op_kind::file_read;
  if (file_op) {
    const bool supported = op.kind == op_kind::file_open   ? has_openat2_
                           : op.kind == op_kind::file_stat ? has_statx_
                                                           : has_read_;
    if (!supported) {
      post(op, -EOPNOTSUPP);
    } else if (op.kind == op_kind::file_read && op.len == 0) {
      post(op, 0);
    } else {
      if (has_deadline(op)) arm_expiry(op);
      submit_op(op);
    }
    return;
  }
  if (const int refused = refused_start(op); refused != 0) {
    post(op, refused);
    return;
  }
  if (has_deadline(op)) arm_expiry(op);
  switch (op.kind) {
    case op_kind::receive:
      start_receive(op);
      return;
    case op_kind::read_some:
    case op_kind::read_exact:
      if (op.len == 0) {
        post(op, 0);
      } else if (uses_receive_queue(*op.sock)) {
        start_receive(op);
      } else {
        submit_op(op);
      }
      return;
    case op_kind::write_all:
    case op_kind::writev_all:
    case op_kind::file_write:
      if (op.len == 0) {
        post(op, 0);
      } else {
        submit_op(op);
      }
      return;
    case op_kind::sendfile:
      if (has_deadline(op)) arm_deadline(op);
      try_sendfile(op, true);
      return;
    default:
      submit_op(op);
      return;
  }
}

namespace {

// Operations that may use a registered file: those on sockets (openat2 and
// statx refuse registered files).
bool on_socket(op_kind kind) noexcept {
  switch (kind) {
    case op_kind::accept:
    case op_kind::accept_multishot:
    case op_kind::connect:
    case op_kind::read_some:
    case op_kind::read_exact:
    case op_kind::receive:
    case op_kind::write_all:
    case op_kind::writev_all:
    case op_kind::sendfile:
    case op_kind::shutdown:
      return true;
    default:
      return false;
  }
}

}  // namespace

void uring_backend::register_fixed(io_state& s) {
  if (s.fixed_file || s.closing || s.fd < 0 || static_cast<unsigned>(s.fd) >= fixed_files_) return;
  io_uring_sqe* sqe = get_sqe();
  s.fixed_fd = s.fd;  // read by the kernel at submission
  io_uring_prep_files_update(sqe, &s.fixed_fd, 1, s.fd);
  io_uring_sqe_set_data64(sqe, 0);
  if (skip_success_cqe_) sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
  s.fixed_file = true;
  ++stats_.registered_files;
}

void uring_backend::submit_op(io_op& op) {
  const bool linked = has_deadline(op);
  const bool socket_op = on_socket(op.kind);
  if (socket_op && op.sock != nullptr && op.fd == op.sock->fd) register_fixed(*op.sock);
  io_uring_sqe* sqe = get_sqe(linked ? 2 : 1);
  const int send_flags = MSG_NOSIGNAL | MSG_WAITALL | (op.options.more ? MSG_MORE : 0);
  switch (op.kind) {
    case op_kind::accept:
      io_uring_prep_accept(sqe, op.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      break;
    case op_kind::accept_multishot:
      if (multishot_accept_) {
        io_uring_prep_multishot_accept(sqe, op.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      } else {
        io_uring_prep_accept(sqe, op.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      }
      break;
    case op_kind::connect:
      io_uring_prep_connect(sqe, op.fd, reinterpret_cast<sockaddr*>(&op.sock->peer),
                            op.sock->peer_len);
      break;
    case op_kind::read_some:
    case op_kind::read_exact:
      io_uring_prep_recv(sqe, op.fd, op.buf + op.done, op.len - op.done, 0);
      break;
    case op_kind::write_all:
      io_uring_prep_send(sqe, op.fd, op.buf + op.done, op.len - op.done, send_flags);
      break;
    case op_kind::writev_all:
      if (op.iov_offset > 0 || op.iovcnt - op.iov_index == 1) {
        // A partly sent iovec, or the last one, goes as a plain send: the
        // caller's array is never modified, and a send skips copying a
        // msghdr and its iovec array in from user space.
        const iovec& v = op.iov[op.iov_index];
        io_uring_prep_send(sqe, op.fd, static_cast<char*>(v.iov_base) + op.iov_offset,
                           v.iov_len - op.iov_offset, send_flags);
      } else {
        op.msg = {};
        op.msg.msg_iov = const_cast<iovec*>(op.iov + op.iov_index);
        op.msg.msg_iovlen = static_cast<std::size_t>(std::min(op.iovcnt - op.iov_index, IOV_MAX));
        io_uring_prep_sendmsg(sqe, op.fd, &op.msg, send_flags);
      }
      break;
    case op_kind::file_write:
      io_uring_prep_write(sqe, op.fd, op.buf + op.done, static_cast<unsigned>(op.len - op.done),
                          static_cast<__u64>(-1));  // -1: the file's current position
      break;
    case op_kind::shutdown:
      io_uring_prep_shutdown(sqe, op.fd, op.how);
      break;
    case op_kind::timer:
      io_uring_prep_timeout(sqe, &op.ts, 0, 0);
      break;
    case op_kind::signal:
      io_uring_prep_read(sqe, op.fd, op.buf, static_cast<unsigned>(op.len), static_cast<__u64>(-1));
      break;
    case op_kind::sendfile:
      io_uring_prep_poll_add(sqe, op.fd, POLLOUT);
      break;
    case op_kind::poll:
      io_uring_prep_poll_add(sqe, op.fd, static_cast<unsigned>(op.how));
      break;
    case op_kind::file_open:
      io_uring_prep_openat2(sqe, op.fd, op.buf,
                            const_cast<open_how*>(static_cast<const open_how*>(op.arg)));
      break;
    case op_kind::file_stat:
      io_uring_prep_statx(sqe, op.fd, op.buf != nullptr ? op.buf : "",
                          op.buf != nullptr ? op.how : AT_EMPTY_PATH, STATX_BASIC_STATS,
                          static_cast<struct statx*>(const_cast<void*>(op.arg)));
      break;
    case op_kind::file_read:
      io_uring_prep_read(sqe, op.fd, op.buf + op.done,
                         static_cast<unsigned>(std::min<std::size_t>(op.len - op.done, 1u << 30)),
                         static_cast<__u64>(op.file_offset) + op.done);
      break;
    case op_kind::receive:
    case op_kind::close:
      break;
  }
  if (socket_op) use_fixed(sqe, op.sock);
  io_uring_sqe_set_data(sqe, static_cast<operation*>(&op));
  if (linked) {
    // RFC-free but kernel-specific: a linked timeout must directly follow the
    // operation in the same submission; get_sqe(2) above reserved the slot.
    sqe->flags |= IOSQE_IO_LINK;
    io_uring_sqe* t = get_sqe();
    io_uring_prep_link_timeout(t, &op.ts, IORING_TIMEOUT_ABS);
    io_uring_sqe_set_data64(t, 0);
  }
}

// --- completion ---------------------------------------------------------

std::error_code uring_backend::error_for(const io_op& op, int res) const noexcept {
  if ((res == -ECANCELED || res == -EINTR || res == -ETIME) && !op.user_cancelled &&
      (has_deadline(op) || op.deadline_fired)) {
    return errc::timed_out;
  }
  if (res == -ETIME) return errc::timed_out;
  return error_from_result(res);
}

void uring_backend::complete(io_op& op, std::error_code ec, std::size_t n) {
  if (op.deadline_armed) {
    // The deadline timer's CQE still refers to op: finish only once it is in,
    // so the operation's memory is never reused while the kernel knows it.
    op.result_stashed = true;
    op.ec = ec;
    op.bytes = n;
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_timeout_remove(sqe, reinterpret_cast<std::uint64_t>(&op) | deadline_tag, 0);
    io_uring_sqe_set_data64(sqe, 0);
    return;
  }
  op.finish(ec, n);
}

void uring_backend::arm_deadline(io_op& op) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_timeout(sqe, &op.ts, 0, IORING_TIMEOUT_ABS);
  io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uint64_t>(&op) | deadline_tag);
  op.deadline_armed = true;
}

void uring_backend::on_deadline(io_op& op, int res) {
  op.deadline_armed = false;
  if (op.result_stashed) {
    op.result_stashed = false;
    op.finish(op.ec, op.bytes);
    return;
  }
  if (res != -ETIME) return;  // removed before it fired, result still to come
  op.deadline_fired = true;
  if (op.sock != nullptr && op.sock->pending_receive == &op) {
    op.sock->pending_receive = nullptr;
    op.finish(errc::timed_out, op.done);
  } else if (op.sock != nullptr && op.sock->pending_sendfile == &op) {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_cancel(sqe, static_cast<operation*>(&op), 0);
    io_uring_sqe_set_data64(sqe, 0);
  }
}

void uring_backend::on_io_event(io_op& op, int res, std::uint32_t flags) {
  if (flags & posted_completion_flag) {
    if (res == posted_eof) {
      complete(op, errc::eof, op.done);
    } else if (res < 0) {
      complete(op, error_for(op, res), op.done);
    } else {
      complete(op, {}, static_cast<std::size_t>(res));
    }
    return;
  }
  switch (op.kind) {
    case op_kind::accept_multishot:
      if (res == -EINVAL && multishot_accept_ && !op.user_cancelled) {
        multishot_accept_ = false;  // kernel without multishot accept: re-arm one at a time
        submit_op(op);
        return;
      }
      if (res >= 0) {
        // Keep accepting: re-arm first if the kernel ended the multishot (or
        // this is the one-at-a-time fallback), then deliver the connection.
        if ((flags & IORING_CQE_F_MORE) == 0) {
          ++stats_.multishot_rearms;
          submit_op(op);
        }
        op.more = true;
        op.finish({}, static_cast<std::size_t>(res));
        return;
      }
      op.more = false;
      complete(op, error_for(op, res), 0);
      return;
    case op_kind::accept:
    case op_kind::connect:
    case op_kind::shutdown:
    case op_kind::file_open:
    case op_kind::file_stat:
    case op_kind::poll:  // res: the revents mask
      if (res < 0) {
        complete(op, error_for(op, res), 0);
      } else {
        complete(op, {}, static_cast<std::size_t>(res));
      }
      return;
    case op_kind::timer:
      if (res == -ETIME || res >= 0) {
        complete(op, {}, 0);
      } else {
        complete(op, error_from_result(res), 0);
      }
      return;
    case op_kind::signal:
      if (res == static_cast<int>(sizeof(signalfd_siginfo))) {
        signalfd_siginfo info;
        std::memcpy(&info, op.buf, sizeof(info));
        complete(op, {}, info.ssi_signo);
      } else {
        complete(op, res < 0 ? error_for(op, res) : make_error_code(std::errc::io_error), 0);
      }
      return;
    case op_kind::read_some:
      if (res > 0) {
        complete(op, {}, static_cast<std::size_t>(res));
      } else {
        complete(op, res == 0 ? std::error_code(errc::eof) : error_for(op, res), 0);
      }
      return;
    case op_kind::file_read:
      if (res < 0) {
        complete(op, error_for(op, res), op.done);
      } else if (res == 0) {
        complete(op, {}, op.done);  // end of file: a short read
      } else {
        op.done += static_cast<std::size_t>(res);
        if (op.done < op.len) {
          resubmit_rest(op);
        } else {
          complete(op, {}, op.done);
        }
      }
      return;
    case op_kind::read_exact:
      if (res > 0) {
        op.done += static_cast<std::size_t>(res);
        if (op.done < op.len) {
          resubmit_rest(op);
        } else {
          complete(op, {}, op.done);
        }
      } else {
        complete(op, res == 0 ? std::error_code(errc::eof) : error_for(op, res), op.done);
      }
      return;
    case op_kind::write_all:
    case op_kind::writev_all:
    case op_kind::file_write:
      if (res <= 0) {
        // A 0-byte send of a non-empty buffer would loop forever: report it.
        complete(op, res == 0 ? make_error_code(std::errc::broken_pipe) : error_for(op, res),
                 op.done);
        return;
      }
      if (op.kind != op_kind::writev_all) {
        op.done += static_cast<std::size_t>(res);
      } else {
        advance_writev(op, static_cast<std::size_t>(res));
      }
      if (op.done < op.len) {
        resubmit_rest(op);  // short send: resubmit the rest
      } else {
        complete(op, {}, op.done);
      }
      return;
    case op_kind::sendfile:
      op.sock->pending_sendfile = nullptr;
      if (res < 0) {
        complete(op, error_for(op, res), op.done);
      } else {
        try_sendfile(op, false);
      }
      return;
    case op_kind::receive:
    case op_kind::close:
      return;
  }
}

// A composed operation (read_exact, write_all, writev_all) made partial
// progress. A cancelled or timed-out send with MSG_WAITALL completes with the
// bytes it had sent (the kernel's partial-I/O result), not -ECANCELED, so
// check before resubmitting: otherwise cancel() and close() would be lost and
// the rest would be sent later, possibly to a descriptor number that close()
// has released and the process has reused.
void uring_backend::resubmit_rest(io_op& op) {
  if (op.user_cancelled || (op.sock != nullptr && op.sock->closing)) {
    complete(op, errc::operation_aborted, op.done);
    return;
  }
  if (has_deadline(op) && monotonic_ns() >= expiry_ns(op)) {
    complete(op, errc::timed_out, op.done);
    return;
  }
  submit_op(op);
}

void uring_backend::try_sendfile(io_op& op, bool initiating) {
  const int rc = sendfile_rest(op);
  if (rc == -EAGAIN) {
    // Socket buffer full: ask the kernel to tell us when it drains.
    op.sock->pending_sendfile = &op;
    submit_op(op);
  } else if (initiating) {
    post(op, rc == 0 ? static_cast<int>(std::min<std::size_t>(op.done, INT_MAX)) : rc);
  } else if (rc == 0) {
    complete(op, {}, op.done);
  } else if (rc == posted_eof) {
    complete(op, errc::eof, op.done);
  } else {
    complete(op, error_for(op, rc), op.done);
  }
}

void uring_backend::cancel(io_op& op) noexcept {
  io_state* s = op.sock;
  if (s != nullptr && s->pending_receive == &op) {
    s->pending_receive = nullptr;
    post(op, -ECANCELED);
    return;
  }
  if (!ring_ready_) return;
  try {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_cancel(sqe, static_cast<operation*>(&op), 0);
    io_uring_sqe_set_data64(sqe, 0);
  } catch (...) {
    // The queue is stuck; the operation will still complete on its own.
  }
}

void uring_backend::cancel_all(io_state& s) noexcept {
  for (io_op* op = s.inflight; op != nullptr; op = op->state_next) owner_.cancel(*op);
}

void uring_backend::close(io_state& s) noexcept {
  if (s.closing) return;
  s.closing = true;
  cancel_all(s);
  try {
    if (s.multishot_armed) {
      io_uring_sqe* sqe = get_sqe();
      io_uring_prep_cancel(sqe, static_cast<operation*>(&s.multishot_op), 0);
      io_uring_sqe_set_data64(sqe, 0);
    }
    if (s.spill_in_flight) {
      // A waiting receive into the private buffer holds the socket open
      // until it ends; its buffer stays until its completion (on_spill).
      io_uring_sqe* sqe = get_sqe();
      io_uring_prep_cancel(sqe, static_cast<operation*>(&s.spill_op), 0);
      io_uring_sqe_set_data64(sqe, 0);
    }
    drop_queue(s);
    if (s.fixed_file) {
      // Out of the registered-file table first, or the table's reference
      // would keep the socket open after the close.
      io_uring_sqe* sqe = get_sqe();
      io_uring_prep_files_update(sqe, &no_file_, 1, s.fd);
      io_uring_sqe_set_data64(sqe, 0);
      if (skip_success_cqe_) sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
      s.fixed_file = false;
    }
    if (s.fd >= 0) {
      // IORING_OP_CLOSE after the cancellations in the same submission: the
      // descriptor number is released only once the kernel is done with it.
      io_uring_sqe* sqe = get_sqe();
      io_uring_prep_close(sqe, s.fd);
      io_uring_sqe_set_data(sqe, static_cast<operation*>(&s.close_op));
      add_ref(s);
      // Counted as work so run() does not return before the close is done.
      owner_.on_operation_started();
    }
  } catch (...) {
    if (s.fixed_file) (void)io_uring_register_files_update(&ring_, s.fd, &no_file_, 1);
    s.fixed_file = false;
    if (s.fd >= 0) ::close(s.fd);
  }
  s.fd = -1;
}

// --- the wait -----------------------------------------------------------

void uring_backend::dispatch(std::uint64_t user_data, int res, std::uint32_t flags) {
  if (user_data == 0) return;  // cancellation results, linked timeouts
  if ((user_data & deadline_tag) != 0) {
    on_deadline(*reinterpret_cast<io_op*>(user_data & ~deadline_tag), res);
    return;
  }
  reinterpret_cast<operation*>(user_data)->on_event(res, flags);
}

std::size_t uring_backend::reap(std::size_t max) {
  std::size_t total = 0;
  // One CQE at a time, checking stop() before each: a handler that calls
  // stop() leaves the remaining completions in the ring for the next run
  // (previously a whole batch of up to 64 was dispatched regardless).
  while (total < max && !owner_.stopped()) {
    unsigned head;
    io_uring_cqe* cqe = nullptr;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      break;
    }
    if (cqe == nullptr) {
      if (!io_uring_cq_has_overflow(&ring_)) break;
      // Completions the kernel could not post are waiting in its overflow
      // list: flush them into the ring and keep going.
      ++stats_.cq_overflows;
      io_uring_get_events(&ring_);
      continue;
    }
    if (total == 0) owner_.new_batch();  // proactor::now() reads the clock again
    const std::uint64_t user_data = cqe->user_data;
    const int res = cqe->res;
    const std::uint32_t flags = cqe->flags;
    // Free the CQ slot before running the handler, which may submit more work.
    io_uring_cqe_seen(&ring_, cqe);
    ++stats_.completions;
    dispatch(user_data, res, flags);
    ++total;
  }
  return total;
}

// Busy-polls for up to `budget`: submits what is queued, then watches the
// completion queue and the kernel's "task work pending" flag, which is set
// instead of waking us while we are not asleep. Returns true once completions
// are ready to reap.
bool uring_backend::spin_for_completions(std::chrono::nanoseconds budget) {
  if (io_uring_sq_ready(&ring_) > 0) {
    io_uring_submit(&ring_);
    ++stats_.submissions;
  }
  // Completions of what was just submitted say nothing about the gap to the
  // next event: reap them without counting a spin.
  if (io_uring_cq_ready(&ring_) > 0) return true;
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    const unsigned kflags = IO_URING_READ_ONCE(*ring_.sq.kflags);
    if ((kflags & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW)) != 0) {
      (void)io_uring_get_events(&ring_);
    }
    const auto now = std::chrono::steady_clock::now();
    if (io_uring_cq_ready(&ring_) > 0) {
      spin_.arrived(now - start);
      ++stats_.busy_polls;
      return true;
    }
    if (now - start >= budget) {
      spin_.expired();
      ++stats_.busy_poll_misses;
      return false;
    }
    cpu_relax();
  }
}

int uring_backend::pollable_fd() noexcept {
  if (poll_fd_ < 0 && ring_ready_) {
    poll_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (poll_fd_ >= 0 && io_uring_register_eventfd(&ring_, poll_fd_) != 0) {
      ::close(std::exchange(poll_fd_, -1));
    }
  }
  return poll_fd_;
}

std::size_t uring_backend::wait(std::chrono::nanoseconds timeout, std::size_t max_completions) {
  if (poll_fd_ >= 0) {
    // Level-triggered for the outer loop: what it was woken for is taken
    // now, and anything later signals the eventfd again.
    eventfd_t value;
    (void)::eventfd_read(poll_fd_, &value);
  }
  if (timeout.count() != 0 && io_uring_cq_ready(&ring_) == 0) {
    const auto budget = spin_.next_budget();
    if (budget.count() > 0 && (timeout.count() < 0 || timeout > budget)) {
      if (spin_for_completions(budget)) return reap(max_completions);
      if (timeout.count() > 0) timeout -= budget;
    }
  }
  if (io_uring_cq_ready(&ring_) == 0) {
    int rc;
    if (timeout.count() == 0) {
      rc = io_uring_submit_and_get_events(&ring_);
    } else if (timeout.count() < 0) {
      rc = io_uring_submit_and_wait(&ring_, 1);
    } else {
      __kernel_timespec ts{};
      ts.tv_sec = timeout.count() / 1'000'000'000;
      ts.tv_nsec = timeout.count() % 1'000'000'000;
      io_uring_cqe* cqe = nullptr;
      rc = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    }
    ++stats_.submissions;
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
      throw std::system_error(-rc, std::system_category(), "io_uring_enter");
    }
  } else if (io_uring_sq_ready(&ring_) > 0) {
    io_uring_submit(&ring_);
    ++stats_.submissions;
  }
  return reap(max_completions);
}

}  // namespace overlap::detail
