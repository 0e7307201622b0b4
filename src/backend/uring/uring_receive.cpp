// The receive side of the io_uring backend: a multishot receive per stream
// into the proactor's provided-buffer ring, the stream's queue of buffers, and
// the private "spill" buffer that keeps a stream moving when the ring is dry.
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "backend/completion_conventions.hpp"
#include "overlap/proactor.hpp"
#include "uring_backend.hpp"

namespace overlap::detail {

// --- receive side -------------------------------------------------------

bool uring_backend::uses_receive_queue(const io_state& s) const noexcept {
  return s.multishot_armed || s.rq_head != no_buffer || s.spill_len > s.spill_off;
}

std::span<const char> uring_backend::received(const io_state& s) const noexcept {
  if (s.spill_len > s.spill_off) {
    return {s.spill.get() + s.spill_off, s.spill_len - s.spill_off};
  }
  if (s.rq_head == no_buffer) return {};
  auto& b = const_cast<buffer_ring&>(buffers_);
  return {b.data(s.rq_head) + s.rq_head_offset, b.length(s.rq_head) - s.rq_head_offset};
}

void uring_backend::consume(io_state& s, std::size_t n) noexcept {
  while (n > 0) {
    if (s.spill_len > s.spill_off) {
      const std::size_t k = std::min<std::size_t>(n, s.spill_len - s.spill_off);
      s.spill_off += static_cast<std::uint32_t>(k);
      n -= k;
      if (s.spill_off == s.spill_len) {
        s.spill_off = s.spill_len = 0;
        s.spill.reset();  // an idle stream keeps no buffer
      }
      continue;
    }
    if (s.rq_head == no_buffer) return;
    const std::uint16_t bid = s.rq_head;
    const std::size_t left = buffers_.length(bid) - s.rq_head_offset;
    const std::size_t k = std::min(n, left);
    s.rq_head_offset += static_cast<std::uint32_t>(k);
    n -= k;
    if (k == left) {
      s.rq_head = bid == s.rq_tail ? no_buffer : buffers_.next(bid);
      if (s.rq_head == no_buffer) s.rq_tail = no_buffer;
      s.rq_head_offset = 0;
      --s.rq_count;
      buffers_.give_back(bid);
    }
  }
}

void uring_backend::drop_queue(io_state& s) noexcept {
  while (s.rq_head != no_buffer) {
    const std::uint16_t bid = s.rq_head;
    s.rq_head = bid == s.rq_tail ? no_buffer : buffers_.next(bid);
    buffers_.give_back(bid);
  }
  s.rq_tail = no_buffer;
  s.rq_head_offset = 0;
  s.rq_count = 0;
  s.spill_len = s.spill_off = 0;
  // A receive in flight writes into the private buffer until its completion
  // arrives; on_spill frees it then.
  if (!s.spill_in_flight) s.spill.reset();
}

std::size_t uring_backend::copy_out(io_state& s, char* dst, std::size_t max) noexcept {
  std::size_t copied = 0;
  while (copied < max) {
    const auto chunk = received(s);
    if (chunk.empty()) break;
    const std::size_t k = std::min(chunk.size(), max - copied);
    std::memcpy(dst + copied, chunk.data(), k);
    copied += k;
    consume(s, k);
  }
  return copied;
}

void uring_backend::start_receive(io_op& op) {
  io_state& s = *op.sock;
  if (s.pending_receive != nullptr) {
    post(op, -EALREADY);  // one receive at a time per stream
    return;
  }
  if (has_deadline(op)) arm_deadline(op);
  s.pending_receive = &op;
  serve_pending(s, true);
}

// Satisfies the waiting receive from queued data, end of stream or an error;
// otherwise makes sure the kernel is receiving for it.
void uring_backend::serve_pending(io_state& s, bool initiating) {
  io_op* op = s.pending_receive;
  if (op == nullptr) return;
  int res = 0;
  bool ready = false;
  const auto data = received(s);
  if (!data.empty()) {
    if (op->kind == op_kind::receive) {
      res = static_cast<int>(data.size());
      ready = true;
    } else {
      op->done += copy_out(s, op->buf + op->done, op->len - op->done);
      ready = op->kind == op_kind::read_some || op->done == op->len;
      res = static_cast<int>(std::min<std::size_t>(op->done, INT_MAX));
    }
  } else if (s.peer_eof) {
    res = posted_eof;
    ready = true;
  } else if (s.recv_error != 0) {
    res = s.recv_error;
    ready = true;
  }
  if (!ready) {
    ensure_receiving(s);
    return;
  }
  s.pending_receive = nullptr;
  if (initiating) {
    post(*op, res);  // never complete inside the initiating call
  } else {
    on_io_event(*op, res, posted_completion_flag);
  }
}

void uring_backend::ensure_receiving(io_state& s) {
  if (s.multishot_armed || s.spill_in_flight || s.closing) return;
  // After ENOBUFS, spill even if available() > 0: that count lags the kernel
  // (buffers it has filled are counted only when their CQEs are reaped), and
  // re-arming on it made every waiting stream bounce off the empty ring again
  // and again (tens of thousands of ENOBUFS completions in the load test).
  register_fixed(s);
  if (buffers_.enabled() && buffers_.available() > 0 && !s.ring_dry) {
    io_uring_sqe* sqe = get_sqe();
    // The first receive of a stream is single-shot: a connection that makes
    // one exchange and closes (HTTP with Connection: close) then has no
    // armed receive to cancel at close, which saves a cancellation and its
    // two completions. From the second receive on it is multishot. Both
    // complete through multishot_op; a single-shot one simply ends without
    // IORING_CQE_F_MORE.
    if (s.received_once) {
      io_uring_prep_recv_multishot(sqe, s.fd, nullptr, 0, 0);
    } else {
      io_uring_prep_recv(sqe, s.fd, nullptr, 0, 0);
      s.received_once = true;
    }
    use_fixed(sqe, &s);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = buffers_.group();
    io_uring_sqe_set_data(sqe, static_cast<operation*>(&s.multishot_op));
    s.multishot_armed = true;
    add_ref(s);
    return;
  }
  // The shared ring is empty (or absent): receive into a private buffer so
  // this stream makes progress; the next receive tries the ring again.
  s.ring_dry = false;
  ++stats_.spill_receives;
  const unsigned size =
      buffers_.enabled() ? buffers_.buffer_size() : owner_.options().recv_buffer_size;
  s.spill.reset(new char[size]);
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_recv(sqe, s.fd, s.spill.get(), size, 0);
  use_fixed(sqe, &s);
  io_uring_sqe_set_data(sqe, static_cast<operation*>(&s.spill_op));
  s.spill_in_flight = true;
  add_ref(s);
}

void uring_backend::on_state_event(io_state& s, int role, int res, std::uint32_t flags) {
  switch (static_cast<state_op::role>(role)) {
    case state_op::role::recv_multishot:
      on_multishot(s, res, flags);
      return;
    case state_op::role::recv_spill:
      on_spill(s, res);
      return;
    case state_op::role::close:
      owner_.on_operation_finished();
      release(s);
      return;
    case state_op::role::poll_out:
      release(s);
      return;
  }
}

void uring_backend::on_multishot(io_state& s, int res, std::uint32_t flags) {
  const bool more = (flags & IORING_CQE_F_MORE) != 0;
  if (res > 0 && (flags & IORING_CQE_F_BUFFER) != 0) {
    const auto bid = static_cast<std::uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
    buffers_.taken();
    if (s.closing) {
      buffers_.give_back(bid);
    } else {
      buffers_.length(bid) = static_cast<std::uint32_t>(res);
      if (s.rq_tail == no_buffer) {
        s.rq_head = bid;
      } else {
        buffers_.next(s.rq_tail) = bid;
      }
      s.rq_tail = bid;
      ++s.rq_count;
      if (more && s.pending_receive == nullptr && !s.multishot_cancelling &&
          s.rq_count >= owner_.options().max_buffers_per_stream) {
        // The application is not reading: stop receiving for this stream
        // (ensure_receiving re-arms once its queue is drained).
        s.multishot_cancelling = true;
        io_uring_sqe* sqe = get_sqe();
        io_uring_prep_cancel(sqe, static_cast<operation*>(&s.multishot_op), 0);
        io_uring_sqe_set_data64(sqe, 0);
      }
    }
  } else if (res == 0) {
    s.peer_eof = true;
  } else if (res == -ENOBUFS) {
    ++stats_.enobufs;  // the ring ran dry: the waiting receive spills below
    s.ring_dry = true;
  } else if (res < 0 && res != -ECANCELED) {
    s.recv_error = res;
  }
  if (!more) s.multishot_armed = s.multishot_cancelling = false;
  if (!s.closing) {
    serve_pending(s, false);
  }
  if (!more) release(s);
}

void uring_backend::on_spill(io_state& s, int res) {
  s.spill_in_flight = false;
  if (s.closing) {
    s.spill.reset();  // kept for the kernel until now (drop_queue)
  } else if (res > 0) {
    s.spill_len = static_cast<std::uint32_t>(res);
    s.spill_off = 0;
  } else {
    s.spill.reset();
    if (res == 0) {
      s.peer_eof = true;
    } else if (res != -ECANCELED) {
      s.recv_error = res;
    }
  }
  if (!s.closing) serve_pending(s, false);
  release(s);
}

}  // namespace overlap::detail
