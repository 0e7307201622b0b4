#include "epoll_backend.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <system_error>

#include "backend/completion_conventions.hpp"
#include "backend/sendfile_rest.hpp"
#include "overlap/error.hpp"
#include "overlap/proactor.hpp"

namespace overlap::detail {
namespace {

// Worker threads for file operations (started on demand).
constexpr unsigned file_threads = 4;
// iovecs handed to one sendmsg(2); the rest go in the next call.
constexpr int max_iov_per_call = 64;

bool is_file_op(op_kind k) noexcept {
  return k == op_kind::file_open || k == op_kind::file_stat || k == op_kind::file_read ||
         k == op_kind::file_write;
}

// A receive that got fewer bytes than it asked for emptied the socket: with
// the descriptor registered, data arriving later raises a new edge, so the
// next receive can wait for it without a system call. Not after a hang-up,
// whose edge has come and gone.
bool drained_by(const io_state& s, std::size_t got, std::size_t asked) noexcept {
  return s.epoll_registered && !s.epoll_hangup && got < asked;
}

int clamp_result(std::size_t n) noexcept {
  return static_cast<int>(std::min<std::size_t>(n, INT_MAX));
}

std::system_error setup_error(int e, const char* what) {
  return std::system_error(e, std::system_category(), std::string("cannot set up epoll: ") + what);
}

}  // namespace

std::unique_ptr<backend> make_epoll_backend(proactor& owner, const proactor_options& options) {
  return std::make_unique<epoll_backend>(owner, options);
}

epoll_backend::epoll_backend(proactor& owner, const proactor_options& options)
    : owner_(owner),
      buffer_size_(options.recv_buffer_size == 0 ? 4096 : options.recv_buffer_size),
      max_free_buffers_(options.recv_buffer_count),
      files_(file_threads),
      spin_(std::chrono::duration_cast<std::chrono::nanoseconds>(options.busy_poll)) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw setup_error(errno, "epoll_create1");
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the wake-up (and file pool) eventfd
  if (wake_fd_ < 0 || ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) < 0) {
    const int e = errno;
    if (wake_fd_ >= 0) ::close(wake_fd_);
    ::close(epoll_fd_);
    throw setup_error(e, "eventfd");
  }
  files_.set_wake_fd(wake_fd_);
}

epoll_backend::~epoll_backend() {
  shutdown();
}

void epoll_backend::shutdown() noexcept {
  files_.stop();  // joins the workers: none touches an operation afterwards
  if (epoll_fd_ >= 0) ::close(std::exchange(epoll_fd_, -1));
  if (wake_fd_ >= 0) ::close(std::exchange(wake_fd_, -1));
  if (timer_fd_ >= 0) ::close(std::exchange(timer_fd_, -1));
  free_buffers_.clear();
}

int epoll_backend::pollable_fd() noexcept {
  if (timer_fd_ < 0 && epoll_fd_ >= 0) {
    timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &timer_fd_;  // told apart from the io_states in dispatch()
    if (timer_fd_ < 0 || ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, timer_fd_, &ev) < 0) {
      if (timer_fd_ >= 0) ::close(std::exchange(timer_fd_, -1));
      return -1;
    }
    arm_timer_fd();
  }
  return timer_fd_ >= 0 ? epoll_fd_ : -1;
}

// Sets the timerfd to the earliest timer (or disarms it), so the epoll
// descriptor turns readable when a timer is due.
void epoll_backend::arm_timer_fd() noexcept {
  itimerspec spec{};
  if (!timers_.empty()) {
    const std::int64_t at = std::max<std::int64_t>(expiry_ns(*timers_.top()), 1);
    spec.it_value.tv_sec = at / 1'000'000'000;
    spec.it_value.tv_nsec = at % 1'000'000'000;
  }
  (void)::timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
}

void epoll_backend::wake() noexcept {
  if (wake_fd_ >= 0) (void)::eventfd_write(wake_fd_, 1);
}

// --- initiation ---------------------------------------------------------

void epoll_backend::start(io_op& op) {
  op.wait_events = 0;
  op.timer_index = 0;
  if (is_file_op(op.kind)) {
    if (op.kind == op_kind::file_write && refused_start(op) != 0) {
      settle(op, refused_start(op));
    } else if ((op.kind == op_kind::file_read || op.kind == op_kind::file_write) && op.len == 0) {
      settle(op, 0);
    } else {
      // Deadlines are not enforced here: a blocking file system call cannot
      // be interrupted; it completes with its own result.
      if (op.sock != nullptr) ++op.sock->pool_ops;
      try {
        files_.submit(op);
      } catch (const std::system_error& e) {
        if (op.sock != nullptr) --op.sock->pool_ops;
        settle(op, -e.code().value());
      }
    }
    return;
  }
  if (const int refused = refused_start(op); refused != 0) {
    settle(op, refused);
    return;
  }
  if (op.kind == op_kind::timer) {
    set_expiry(op, monotonic_ns() + expiry_ns(op));  // ts held the delay
    timers_.push(op);
    return;
  }
  if (has_deadline(op)) {
    arm_expiry(op);
    timers_.push(op);
  }
  switch (op.kind) {
    case op_kind::receive:
      if (op.sock->pending_receive != nullptr) {
        settle(op, -EALREADY);  // one receive at a time per stream
        return;
      }
      op.sock->pending_receive = &op;
      break;
    case op_kind::read_some:
    case op_kind::read_exact:
    case op_kind::write_all:
    case op_kind::writev_all:
      if (op.len == 0) {
        settle(op, 0);
        return;
      }
      break;
    case op_kind::shutdown:
      settle(op, ::shutdown(op.fd, op.how) == 0 ? 0 : -errno);
      return;
    default:
      break;
  }
  run(op);
}

void epoll_backend::run(io_op& op) {
  if (attempt(op) == attempt_result::settled) return;
  if (op.kind == op_kind::poll) {
    // Any change in the direction asked for wakes it; attempt() then asks
    // poll(2) what the descriptor is ready for now.
    std::uint32_t events = 0;
    if ((op.how & (POLLIN | POLLPRI)) != 0) events |= EPOLLIN;
    if ((op.how & POLLOUT) != 0) events |= EPOLLOUT;
    wait_for(op, events != 0 ? events : EPOLLIN | EPOLLOUT);
    return;
  }
  const bool writes = op.kind == op_kind::connect || op.kind == op_kind::write_all ||
                      op.kind == op_kind::writev_all || op.kind == op_kind::sendfile;
  wait_for(op, writes ? EPOLLOUT : EPOLLIN);
}

void epoll_backend::wait_for(io_op& op, std::uint32_t events) {
  io_state& s = *op.sock;
  if (!s.epoll_registered) {
    // Registered once, for both directions and edge-triggered: readiness is
    // only reported when it changes, and an operation that finds its
    // descriptor not ready waits for the next change.
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = &s;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, s.fd, &ev) < 0) {
      settle(op, -errno);
      return;
    }
    s.epoll_registered = true;
  }
  op.wait_events = events;
}

void epoll_backend::settle(io_op& op, int res) noexcept {
  timers_.remove(op);
  op.wait_events = 0;
  if (op.sock != nullptr && op.sock->pending_receive == &op) op.sock->pending_receive = nullptr;
  ++stats_.completions;
  owner_.post_completion(op, res);
}

// --- the system calls ---------------------------------------------------

epoll_backend::attempt_result epoll_backend::attempt(io_op& op) {
  switch (op.kind) {
    case op_kind::accept:
    case op_kind::accept_multishot:
      for (;;) {
        const int fd = ::accept4(op.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
          settle(op, fd);
          return attempt_result::settled;
        }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EAGAIN) return attempt_result::would_block;
        settle(op, -errno);
        return attempt_result::settled;
      }
    case op_kind::connect:
      return attempt_connect(op);
    case op_kind::receive:
      return attempt_receive(op);
    case op_kind::read_some:
    case op_kind::read_exact:
      return attempt_read(op);
    case op_kind::write_all:
    case op_kind::writev_all:
      return attempt_write(op);
    case op_kind::sendfile:
      return attempt_sendfile(op);
    case op_kind::poll:
      return attempt_poll(op);
    case op_kind::signal:
      for (;;) {
        const ssize_t n = ::read(op.fd, op.buf, op.len);
        if (n >= 0) {
          settle(op, static_cast<int>(n));
          return attempt_result::settled;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return attempt_result::would_block;
        settle(op, -errno);
        return attempt_result::settled;
      }
    default:
      settle(op, -EINVAL);
      return attempt_result::settled;
  }
}

epoll_backend::attempt_result epoll_backend::attempt_connect(io_op& op) {
  io_state& s = *op.sock;
  if (op.done == 0) {  // first attempt (done marks "connecting" afterwards)
    if (::connect(op.fd, reinterpret_cast<const sockaddr*>(&s.peer), s.peer_len) == 0) {
      settle(op, 0);
      return attempt_result::settled;
    }
    if (errno == EINPROGRESS || errno == EINTR) {
      op.done = 1;
      return attempt_result::would_block;
    }
    settle(op, -errno);
    return attempt_result::settled;
  }
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(op.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
  if (err != 0) {
    settle(op, -err);
    return attempt_result::settled;
  }
  sockaddr_storage peer{};
  socklen_t peer_len = sizeof(peer);
  if (::getpeername(op.fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) == 0) {
    settle(op, 0);
    return attempt_result::settled;
  }
  if (errno == ENOTCONN) return attempt_result::would_block;  // still connecting
  settle(op, -errno);
  return attempt_result::settled;
}

// async_receive: into a buffer from the backend's pool, which the stream
// keeps until the application has consumed it (an idle stream holds none).
epoll_backend::attempt_result epoll_backend::attempt_receive(io_op& op) {
  io_state& s = *op.sock;
  if (s.spill_len > s.spill_off) {
    settle(op, static_cast<int>(s.spill_len - s.spill_off));
    return attempt_result::settled;
  }
  if (s.peer_eof || s.recv_error != 0) {
    settle(op, s.peer_eof ? posted_eof : s.recv_error);
    return attempt_result::settled;
  }
  if (s.epoll_drained) return attempt_result::would_block;  // the next edge says when
  s.spill = take_buffer();
  for (;;) {
    const ssize_t n = ::recv(s.fd, s.spill.get(), buffer_size_, 0);
    if (n > 0) {
      s.epoll_drained = drained_by(s, static_cast<std::size_t>(n), buffer_size_);
      s.spill_len = static_cast<std::uint32_t>(n);
      s.spill_off = 0;
      settle(op, static_cast<int>(n));
      return attempt_result::settled;
    }
    if (n < 0 && errno == EINTR) continue;
    const int e = n == 0 ? 0 : errno;
    give_back(std::move(s.spill));
    if (e == EAGAIN) return attempt_result::would_block;
    if (e == 0) {
      s.peer_eof = true;
    } else {
      s.recv_error = -e;
    }
    settle(op, e == 0 ? posted_eof : -e);
    return attempt_result::settled;
  }
}

// read_some / read_exact: data already received for async_receive first,
// then straight into the caller's buffer.
epoll_backend::attempt_result epoll_backend::attempt_read(io_op& op) {
  io_state& s = *op.sock;
  op.done += copy_out(s, op.buf + op.done, op.len - op.done);
  if (s.epoll_drained && op.done < op.len && !(op.kind == op_kind::read_some && op.done > 0)) {
    return attempt_result::would_block;
  }
  while (op.done < op.len && !(op.kind == op_kind::read_some && op.done > 0)) {
    const std::size_t want = op.len - op.done;
    const ssize_t n = ::recv(op.fd, op.buf + op.done, want, 0);
    if (n > 0) {
      op.done += static_cast<std::size_t>(n);
      s.epoll_drained = drained_by(s, static_cast<std::size_t>(n), want);
      if (s.epoll_drained && op.done < op.len && op.kind == op_kind::read_exact) {
        return attempt_result::would_block;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return attempt_result::would_block;
    settle(op, n == 0 ? posted_eof : -errno);
    return attempt_result::settled;
  }
  settle(op, clamp_result(op.done));
  return attempt_result::settled;
}

epoll_backend::attempt_result epoll_backend::attempt_write(io_op& op) {
  const int flags = MSG_NOSIGNAL | MSG_DONTWAIT | (op.options.more ? MSG_MORE : 0);
  while (op.done < op.len) {
    ssize_t n;
    if (op.kind == op_kind::write_all) {
      n = ::send(op.fd, op.buf + op.done, op.len - op.done, flags);
    } else {
      // The caller's array is never modified: copy the unsent part.
      iovec part[max_iov_per_call];
      int k = 0;
      for (int i = op.iov_index; i < op.iovcnt && k < max_iov_per_call; ++i, ++k) {
        part[k] = op.iov[i];
        if (i == op.iov_index) {
          part[k].iov_base = static_cast<char*>(part[k].iov_base) + op.iov_offset;
          part[k].iov_len -= op.iov_offset;
        }
      }
      msghdr msg{};
      msg.msg_iov = part;
      msg.msg_iovlen = static_cast<std::size_t>(k);
      n = ::sendmsg(op.fd, &msg, flags);
    }
    if (n > 0) {
      if (op.kind == op_kind::write_all) {
        op.done += static_cast<std::size_t>(n);
      } else {
        advance_writev(op, static_cast<std::size_t>(n));
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return attempt_result::would_block;
    settle(op, n == 0 ? -EPIPE : -errno);
    return attempt_result::settled;
  }
  settle(op, clamp_result(op.done));
  return attempt_result::settled;
}

// A readiness wait: settled at once if the descriptor is ready now (its
// edge may have come and gone before the wait), else it waits for an edge.
// Nothing arriving after this look is lost: events are only dispatched from
// epoll_wait, on this thread, after wait_for() has marked the operation
// waiting, and the first wait_for() registers the descriptor with
// EPOLL_CTL_ADD, which reports readiness that is already there.
epoll_backend::attempt_result epoll_backend::attempt_poll(io_op& op) {
  pollfd p{op.fd, static_cast<short>(op.how), 0};
  for (;;) {
    const int n = ::poll(&p, 1, 0);
    if (n > 0) {
      settle(op, p.revents);
      return attempt_result::settled;
    }
    if (n == 0) return attempt_result::would_block;
    if (errno == EINTR) continue;
    settle(op, -errno);
    return attempt_result::settled;
  }
}

epoll_backend::attempt_result epoll_backend::attempt_sendfile(io_op& op) {
  const int rc = sendfile_rest(op);
  if (rc == -EAGAIN) return attempt_result::would_block;
  settle(op, rc == 0 ? clamp_result(op.done) : rc);
  return attempt_result::settled;
}

// --- receive buffers ----------------------------------------------------

std::unique_ptr<char[]> epoll_backend::take_buffer() {
  if (free_buffers_.empty()) return std::make_unique<char[]>(buffer_size_);
  std::unique_ptr<char[]> b = std::move(free_buffers_.back());
  free_buffers_.pop_back();
  return b;
}

void epoll_backend::give_back(std::unique_ptr<char[]> buf) noexcept {
  if (!buf || free_buffers_.size() >= max_free_buffers_) return;
  try {
    free_buffers_.push_back(std::move(buf));
  } catch (...) {
    // freed by buf's destructor
  }
}

std::span<const char> epoll_backend::received(const io_state& s) const noexcept {
  if (s.spill_len <= s.spill_off) return {};
  return {s.spill.get() + s.spill_off, s.spill_len - s.spill_off};
}

void epoll_backend::consume(io_state& s, std::size_t n) noexcept {
  if (s.spill_len <= s.spill_off) return;
  s.spill_off += static_cast<std::uint32_t>(std::min<std::size_t>(n, s.spill_len - s.spill_off));
  if (s.spill_off == s.spill_len) {
    s.spill_off = s.spill_len = 0;
    give_back(std::move(s.spill));
  }
}

std::size_t epoll_backend::copy_out(io_state& s, char* dst, std::size_t max) noexcept {
  const auto data = received(s);
  const std::size_t k = std::min(data.size(), max);
  if (k > 0) {
    std::memcpy(dst, data.data(), k);
    consume(s, k);
  }
  return k;
}

// --- cancellation and close ---------------------------------------------

void epoll_backend::cancel(io_op& op) noexcept {
  // Only an operation waiting for readiness or for its timer can be
  // withdrawn; one whose result is already queued, or whose file system call
  // is running, completes with that result.
  const bool waiting = op.wait_events != 0 || (op.kind == op_kind::timer && op.timer_index != 0) ||
                       (op.sock != nullptr && op.sock->pending_receive == &op);
  if (waiting) settle(op, -ECANCELED);
}

void epoll_backend::cancel_all(io_state& s) noexcept {
  for (io_op* op = s.inflight; op != nullptr; op = op->state_next) owner_.cancel(*op);
}

void epoll_backend::close(io_state& s) noexcept {
  if (s.closing) return;
  s.closing = true;
  cancel_all(s);
  s.spill_len = s.spill_off = 0;
  give_back(std::move(s.spill));
  if (s.fd < 0) return;
  if (s.epoll_registered) {
    (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, s.fd, nullptr);
    s.epoll_registered = false;
  }
  if (s.pool_ops > 0) {
    s.close_deferred = true;  // closed when the file pool is done with it
    return;
  }
  ::close(std::exchange(s.fd, -1));
}

// --- the wait -----------------------------------------------------------

std::size_t epoll_backend::wait(std::chrono::nanoseconds timeout, std::size_t) {
  // Every result goes through the proactor's posted-completion queue, so the
  // handler limit is applied there and the whole batch is taken here.
  std::int64_t wait_ns = timeout.count();  // < 0: no limit
  if (!timers_.empty() && wait_ns != 0) {
    const std::int64_t until =
        std::max<std::int64_t>(expiry_ns(*timers_.top()) - monotonic_ns(), 0);
    if (wait_ns < 0 || until < wait_ns) wait_ns = until;
  }
  if (wait_ns != 0) {
    const std::int64_t budget = spin_.next_budget().count();
    if (budget > 0 && (wait_ns < 0 || wait_ns > budget)) {
      if (const int n = spin_for_events(budget); n > 0) return dispatch(n);
      if (wait_ns > 0) wait_ns -= budget;
    }
  }
  int n;
  for (;;) {
    if (has_pwait2_) {
      timespec ts{};
      ts.tv_sec = wait_ns / 1'000'000'000;
      ts.tv_nsec = wait_ns % 1'000'000'000;
      n = ::epoll_pwait2(epoll_fd_, events_.data(), static_cast<int>(events_.size()),
                         wait_ns < 0 ? nullptr : &ts, nullptr);
      if (n < 0 && errno == ENOSYS) {
        has_pwait2_ = false;  // kernel before 5.11: millisecond timeouts
        continue;
      }
    } else {
      const int ms =
          wait_ns < 0
              ? -1
              : static_cast<int>(std::min<std::int64_t>((wait_ns + 999'999) / 1'000'000, INT_MAX));
      n = ::epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()), ms);
    }
    break;
  }
  ++stats_.submissions;
  if (n < 0 && errno != EINTR) throw std::system_error(errno, std::system_category(), "epoll_wait");
  return dispatch(std::max(n, 0));
}

// Busy-polls epoll for up to budget_ns (proactor_options::busy_poll): returns
// the number of events found, 0 if the budget ran out first.
int epoll_backend::spin_for_events(std::int64_t budget_ns) {
  const std::int64_t start = monotonic_ns();
  for (;;) {
    const int n = ::epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()), 0);
    const std::int64_t waited = monotonic_ns() - start;
    if (n > 0) {
      spin_.arrived(std::chrono::nanoseconds(waited));
      ++stats_.busy_polls;
      return n;
    }
    if (waited >= budget_ns) {
      spin_.expired();
      ++stats_.busy_poll_misses;
      return 0;
    }
    cpu_relax();
  }
}

std::size_t epoll_backend::dispatch(int n) {
  const std::uint64_t before = stats_.completions;
  for (int i = 0; i < n; ++i) {
    void* tag = events_[static_cast<std::size_t>(i)].data.ptr;
    if (tag == &timer_fd_) {
      std::uint64_t expirations;
      (void)::read(timer_fd_, &expirations, sizeof(expirations));
      continue;  // expire_timers() below does the work
    }
    auto* s = static_cast<io_state*>(tag);
    if (s == nullptr) {
      eventfd_t value;
      (void)::eventfd_read(wake_fd_, &value);
      finish_file_ops();
    } else {
      on_ready(*s, events_[static_cast<std::size_t>(i)].events);
    }
  }
  expire_timers();
  if (timer_fd_ >= 0) arm_timer_fd();
  return static_cast<std::size_t>(stats_.completions - before);
}

void epoll_backend::on_ready(io_state& s, std::uint32_t events) {
  std::uint32_t ready = 0;
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
    ready |= EPOLLIN;
    s.epoll_drained = false;
  }
  if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) s.epoll_hangup = true;
  if ((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0) ready |= EPOLLOUT;
  // Retrying only posts results, so the in-flight list does not change here.
  for (io_op* op = s.inflight; op != nullptr; op = op->state_next) {
    if ((op->wait_events & ready) != 0) {
      op->wait_events = 0;
      run(*op);
    }
  }
}

void epoll_backend::expire_timers() {
  if (timers_.empty()) return;
  const std::int64_t now = monotonic_ns();
  while (!timers_.empty() && expiry_ns(*timers_.top()) <= now) {
    io_op& op = *timers_.top();
    timers_.remove(op);
    if (op.kind == op_kind::timer) {
      settle(op, 0);
    } else {
      op.deadline_fired = true;
      cancel_expired(op);
    }
  }
}

void epoll_backend::cancel_expired(io_op& op) noexcept {
  if (op.wait_events != 0 || (op.sock != nullptr && op.sock->pending_receive == &op)) {
    settle(op, -ETIME);
  }
}

void epoll_backend::finish_file_ops() {
  files_.take_done(files_done_);
  for (const auto& [op, res] : files_done_) {
    if (io_state* s = op->sock) {
      --s->pool_ops;
      if (s->close_deferred && s->pool_ops == 0) {
        s->close_deferred = false;
        ::close(std::exchange(s->fd, -1));
      }
    }
    settle(*op, res);
  }
  files_done_.clear();
}

// --- completion ---------------------------------------------------------

std::error_code epoll_backend::error_for(const io_op& op, int res) const noexcept {
  if ((res == -ECANCELED || res == -ETIME) && !op.user_cancelled && op.deadline_fired) {
    return errc::timed_out;
  }
  if (res == -ETIME) return errc::timed_out;
  return error_from_result(res);
}

void epoll_backend::on_io_event(io_op& op, int res, std::uint32_t) {
  switch (op.kind) {
    case op_kind::accept_multishot:
      if (res >= 0) {
        op.more = true;
        op.finish({}, static_cast<std::size_t>(res));
        // The handler may have cancelled the accept or closed the acceptor;
        // otherwise take the next connection now, or wait for one.
        if (op.user_cancelled || op.sock->closing) {
          op.more = false;
          settle(op, -ECANCELED);
        } else {
          run(op);
        }
        return;
      }
      op.more = false;
      op.finish(error_for(op, res), 0);
      return;
    case op_kind::accept:
    case op_kind::connect:
    case op_kind::shutdown:
    case op_kind::file_open:
    case op_kind::file_stat:
    case op_kind::poll:  // res: the revents mask
      if (res < 0) {
        op.finish(error_for(op, res), 0);
      } else {
        op.finish({}, static_cast<std::size_t>(res));
      }
      return;
    case op_kind::timer:
      op.finish(res < 0 ? error_from_result(res) : std::error_code(), 0);
      return;
    case op_kind::signal:
      if (res == static_cast<int>(sizeof(signalfd_siginfo))) {
        signalfd_siginfo info;
        std::memcpy(&info, op.buf, sizeof(info));
        op.finish({}, info.ssi_signo);
      } else {
        op.finish(res < 0 ? error_for(op, res) : make_error_code(std::errc::io_error), 0);
      }
      return;
    case op_kind::receive:
    case op_kind::read_some:
      if (res >= 0) {
        op.finish({}, static_cast<std::size_t>(res));
      } else {
        op.finish(res == posted_eof ? std::error_code(errc::eof) : error_for(op, res), 0);
      }
      return;
    case op_kind::read_exact:
    case op_kind::write_all:
    case op_kind::writev_all:
    case op_kind::sendfile:
    case op_kind::file_read:
    case op_kind::file_write:
      if (res == posted_eof) {
        op.finish(errc::eof, op.done);
      } else if (res < 0) {
        op.finish(error_for(op, res), op.done);
      } else {
        op.finish({}, op.done);
      }
      return;
    case op_kind::close:
      return;
  }
}

void epoll_backend::on_state_event(io_state&, int, int, std::uint32_t) {
  // The epoll backend starts no internal state operations.
}

}  // namespace overlap::detail
