#include "overlap/proactor.hpp"

#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>

#include "overlap/cancel_signal.hpp"
#include "overlap/detail/backend.hpp"
#include "overlap/detail/io_state.hpp"
#include "overlap/error.hpp"
#include "overlap/task.hpp"
#include "overlap/tcp_stream.hpp"

namespace overlap {
namespace {

std::unique_ptr<detail::backend> make_backend(proactor& p, const proactor_options& o,
                                              std::string& fallback_reason) {
  std::string name = o.backend;
  if (name.empty()) {
    const char* env = std::getenv("OVERLAP_BACKEND");
    name = env != nullptr ? env : "";
  }
  if (name.empty()) {
    // Nothing named: io_uring where the kernel allows it, else the epoll
    // emulation (old kernels, seccomp profiles, kernel.io_uring_disabled).
    try {
      return detail::make_uring_backend(p, o);
    } catch (const std::system_error& e) {
      fallback_reason = e.what();
      return detail::make_epoll_backend(p, o);
    }
  }
  if (name == "io_uring" || name == "uring") return detail::make_uring_backend(p, o);
  if (name == "epoll") return detail::make_epoll_backend(p, o);
  throw std::invalid_argument("unknown backend '" + name + "' (expected io_uring or epoll)");
}

}  // namespace

proactor::proactor(proactor_options options)
    : options_(std::move(options)), tracking_(options_.track_operations) {
  owned_ops_.prev = owned_ops_.next = &owned_ops_;
  backend_ = make_backend(*this, options_, fallback_reason_);
}

proactor::~proactor() {
  // Stop the kernel first: after this no completion is dispatched, so the
  // operations still in flight can be destroyed without being called.
  shutting_down_ = true;
  backend_->shutdown();
  ready_head_ = ready_tail_ = nullptr;
  foreign_posts_.clear();

  while (owned_ops_.next != &owned_ops_) {
    detail::owned_op_link* link = owned_ops_.next;
    untrack_operation(*this, link);
    link->destroy(link);
  }
  // Destroying a suspended root frame destroys the tasks and I/O objects it
  // owns, which closes their descriptors.
  while (roots_ != nullptr) {
    detail::task_root* root = roots_;
    roots_ = root->next;
    root->frame.destroy();
  }
  while (live_states_ != nullptr) {
    detail::io_state* s = live_states_;
    live_states_ = s->next_live;
    if (s->fd >= 0) ::close(s->fd);
    delete s;
  }
  for (detail::io_state* s : free_states_) delete s;
  for (std::size_t c = 0; c < block_classes; ++c) {
    for (void* b : free_blocks_[c]) ::operator delete(b);
  }
  backend_.reset();
}

int proactor::native_handle() noexcept {
  return backend_->pollable_fd();
}

const char* proactor::backend_name() const noexcept {
  return backend_->name();
}
proactor_stats proactor::stats() const noexcept {
  return backend_->stats();
}

void proactor::start(io_op& op) {
  // One operation object, one operation at a time: starting the slot of a
  // handler-object I/O object again before its completion would corrupt the
  // backend's bookkeeping (its timer heap, its ring's user_data).
  assert(!op.in_flight && "operation started again before it completed");
  op.owner = this;
  op.in_flight = true;
  op.more = false;
  op.user_cancelled = op.deadline_fired = op.deadline_armed = op.result_stashed = false;
  op.done = 0;
  op.ec.clear();
  op.bytes = 0;
  ++outstanding_;
  if (op.options.cancel != nullptr) op.options.cancel->bind(&op);
  if (op.sock != nullptr) {
    detail::io_state& s = *op.sock;
    detail::add_ref(s);
    op.state_prev = nullptr;
    op.state_next = s.inflight;
    if (s.inflight != nullptr) s.inflight->state_prev = &op;
    s.inflight = &op;
  }
  op_kind_metrics& m = metrics_[op.kind];
  ++m.started;
  ++m.in_flight;
  if (tracking_ || trace_ != nullptr) trace_initiation(op);
  backend_->start(op);
}

// Tracking stamps with the loop's clock (now(): one reading per batch of
// completions), so it costs no clock read per operation; a trace event reads
// the clock itself, for its own ordering.
void proactor::trace_initiation(io_op& op) noexcept {
  if (tracking_) {
    op.tracked_since = this->now();
    // An operation on an I/O object is already in its object's in-flight
    // list; only the others (file operations by descriptor) need one here.
    if (op.sock == nullptr) {
      op.tracked_prev = nullptr;
      op.tracked_next = tracked_head_;
      if (tracked_head_ != nullptr) tracked_head_->tracked_prev = &op;
      tracked_head_ = &op;
    }
  }
  if (trace_ != nullptr) {
    op_trace_event e;
    e.what = op_trace_event::phase::initiate;
    e.kind = op.kind;
    e.id = &op;
    e.fd = op.fd;
    e.at = std::chrono::steady_clock::now();
    trace_->on_op_event(e);
  }
}

void proactor::trace_completion(io_op& op, const std::error_code& ec, std::size_t n) noexcept {
  if (tracking_ && op.tracked_since != std::chrono::steady_clock::time_point{}) {
    const auto now = this->now();
    metrics_[op.kind].latency.record(now - op.tracked_since);
    if (op.more) {
      op.tracked_since = now;
    } else {
      if (op.sock == nullptr) {
        if (op.tracked_prev != nullptr) {
          op.tracked_prev->tracked_next = op.tracked_next;
        } else {
          tracked_head_ = op.tracked_next;
        }
        if (op.tracked_next != nullptr) op.tracked_next->tracked_prev = op.tracked_prev;
        op.tracked_prev = op.tracked_next = nullptr;
      }
      op.tracked_since = {};
    }
  }
  if (trace_ != nullptr) {
    trace_->on_op_event(op_trace_event{.what = op_trace_event::phase::complete,
                                       .kind = op.kind,
                                       .id = &op,
                                       .fd = op.fd,
                                       .at = std::chrono::steady_clock::now(),
                                       .ec = ec,
                                       .bytes = n,
                                       .more = op.more});
  }
}

void proactor::count_error(op_kind_metrics& m, const std::error_code& ec) noexcept {
  if (ec == errc::eof) {
    ++m.eof;
  } else if (ec == errc::operation_aborted || ec == std::errc::operation_canceled) {
    ++m.aborted;
  } else if (ec == errc::timed_out) {
    ++m.timed_out;
  } else {
    ++m.failed;
  }
}

std::vector<outstanding_op> proactor::outstanding_operations() const {
  std::vector<outstanding_op> out;
  if (!tracking_) return out;
  const auto now = std::chrono::steady_clock::now();
  const auto add = [&](const io_op& op) {
    out.push_back(outstanding_op{.kind = op.kind,
                                 .fd = op.fd,
                                 .age = now - op.tracked_since,
                                 .done = op.done,
                                 .cancelling = op.user_cancelled,
                                 .has_deadline = op.options.timeout.count() > 0});
  };
  // Both lists are newest first: reversed, operations stamped in the same
  // batch keep their order of initiation.
  for (const io_op* op = tracked_head_; op != nullptr; op = op->tracked_next) add(*op);
  for (const detail::io_state* s = live_states_; s != nullptr; s = s->next_live) {
    for (const io_op* op = s->inflight; op != nullptr; op = op->state_next) add(*op);
  }
  std::reverse(out.begin(), out.end());
  std::stable_sort(out.begin(), out.end(),
                   [](const outstanding_op& a, const outstanding_op& b) { return a.age > b.age; });
  return out;
}

void proactor::cancel(io_op& op) noexcept {
  if (!op.in_flight || op.user_cancelled) return;
  op.user_cancelled = true;
  backend_->cancel(op);
}

void proactor::post_completion(operation& op, int res) noexcept {
  op.posted_res = res;
  op.next_ready = nullptr;
  if (ready_tail_ != nullptr) {
    ready_tail_->next_ready = &op;
  } else {
    ready_head_ = &op;
  }
  ready_tail_ = &op;
  ++outstanding_;
}

void proactor::post(std::function<void()> fn) {
  {
    std::lock_guard lock(foreign_mutex_);
    foreign_posts_.push_back(std::move(fn));
    foreign_pending_.store(true, std::memory_order_release);
  }
  backend_->wake();
}

void proactor::stop() noexcept {
  stopped_.store(true, std::memory_order_release);
  backend_->wake();
}

// Runs posted functions one at a time, at most max_handlers of them and none
// after stop(): run_one() must run one handler, and a handler that calls
// stop() must keep the rest queued until restart().
void proactor::take_foreign_posts(std::size_t max_handlers) {
  new_batch();
  for (std::size_t n = 0; n < max_handlers && !stopped(); ++n) {
    std::function<void()> fn;
    {
      std::lock_guard lock(foreign_mutex_);
      if (foreign_head_ == foreign_posts_.size()) break;
      fn = std::move(foreign_posts_[foreign_head_++]);
      if (foreign_head_ == foreign_posts_.size()) {
        foreign_posts_.clear();  // keeps its capacity
        foreign_head_ = 0;
        foreign_pending_.store(false, std::memory_order_release);
      }
    }
    note_handler_run();
    fn();
  }
}

void proactor::run_ready(std::size_t max_handlers) {
  if (ready_head_ != nullptr) new_batch();
  const std::size_t start = handlers_run_;
  while (ready_head_ != nullptr && handlers_run_ - start < max_handlers && !stopped()) {
    operation* op = ready_head_;
    ready_head_ = op->next_ready;
    if (ready_head_ == nullptr) ready_tail_ = nullptr;
    --outstanding_;
    op->on_event(op->posted_res, detail::posted_completion_flag);
  }
}

void proactor::set_exception(std::exception_ptr e) noexcept {
  if (!pending_exception_) pending_exception_ = std::move(e);
}

void proactor::rethrow_pending() {
  if (pending_exception_) std::rethrow_exception(std::exchange(pending_exception_, nullptr));
}

std::size_t proactor::run_loop(std::size_t max_handlers, wait_mode mode,
                               std::chrono::steady_clock::time_point deadline) {
  // Counts handlers actually run (note_handler_run), not kernel completions:
  // a wake-up CQE or a cancellation's own CQE must not satisfy run_one().
  const std::size_t start = handlers_run_;
  const auto left = [&] { return max_handlers - (handlers_run_ - start); };
  while (!stopped() && left() > 0) {
    if (foreign_pending_.load(std::memory_order_acquire)) take_foreign_posts(left());
    run_ready(left());
    rethrow_pending();
    if (stopped() || left() == 0) break;
    // Out of work: return, except that poll() still looks at the backend once
    // (non-blocking), so a wake-up queued there is taken now and does not
    // leave native_handle() readable.
    if (outstanding_ == 0 && !foreign_pending_.load(std::memory_order_acquire) &&
        mode != wait_mode::poll) {
      break;
    }

    std::chrono::nanoseconds timeout{-1};
    if (ready_head_ != nullptr || mode == wait_mode::poll ||
        foreign_pending_.load(std::memory_order_acquire)) {
      timeout = std::chrono::nanoseconds{0};
    } else if (mode == wait_mode::until) {
      timeout = std::max(std::chrono::nanoseconds{0}, deadline - std::chrono::steady_clock::now());
    }
    // Each kernel completion runs at most one handler, so reaping no more
    // than `left()` of them never overshoots max_handlers.
    const std::size_t dispatched = backend_->wait(timeout, left());
    rethrow_pending();
    if (mode == wait_mode::poll && dispatched == 0 && ready_head_ == nullptr &&
        !foreign_pending_.load(std::memory_order_acquire)) {
      break;
    }
    if (mode == wait_mode::until && std::chrono::steady_clock::now() >= deadline) break;
  }
  return handlers_run_ - start;
}

std::size_t proactor::run() {
  return run_loop(static_cast<std::size_t>(-1), wait_mode::block, {});
}
std::size_t proactor::run_one() {
  return run_loop(1, wait_mode::block, {});
}
std::size_t proactor::poll() {
  return run_loop(static_cast<std::size_t>(-1), wait_mode::poll, {});
}
std::size_t proactor::run_for(std::chrono::nanoseconds duration) {
  return run_loop(static_cast<std::size_t>(-1), wait_mode::until,
                  std::chrono::steady_clock::now() + duration);
}

void proactor::adopt_root(detail::task_root* root) noexcept {
  root->owner = this;
  root->prev = nullptr;
  root->next = roots_;
  if (roots_ != nullptr) roots_->prev = root;
  roots_ = root;
}

void proactor::drop_root(detail::task_root* root) noexcept {
  if (root->prev != nullptr) {
    root->prev->next = root->next;
  } else {
    roots_ = root->next;
  }
  if (root->next != nullptr) root->next->prev = root->prev;
}

void spawn(proactor& p, task<void> t) {
  detail::task_root* root = detail::run_detached(p, std::move(t)).root;
  p.adopt_root(root);
  p.post_completion(*root, 0);
}

namespace detail {

void start_operation(proactor& p, io_op& op) {
  p.start(op);
}

void* allocate_operation(proactor& p, std::size_t size) {
  const std::size_t cls = (size + proactor::block_granule - 1) / proactor::block_granule;
  if (cls == 0 || cls > proactor::block_classes) return ::operator new(size);
  auto& list = p.free_blocks_[cls - 1];
  if (!list.empty()) {
    void* b = list.back();
    list.pop_back();
    return b;
  }
  return ::operator new(cls* proactor::block_granule);
}

void release_operation(proactor& p, void* block, std::size_t size) noexcept {
  const std::size_t cls = (size + proactor::block_granule - 1) / proactor::block_granule;
  if (cls == 0 || cls > proactor::block_classes || p.shutting_down_) {
    ::operator delete(block);
    return;
  }
  try {
    p.free_blocks_[cls - 1].push_back(block);
  } catch (...) {
    ::operator delete(block);
  }
}

void track_operation(proactor& p, owned_op_link* link) noexcept {
  link->next = p.owned_ops_.next;
  link->prev = &p.owned_ops_;
  p.owned_ops_.next->prev = link;
  p.owned_ops_.next = link;
}

void untrack_operation(proactor&, owned_op_link* link) noexcept {
  link->prev->next = link->next;
  link->next->prev = link->prev;
  link->prev = link->next = nullptr;
}

io_state* acquire_state(proactor& p, int fd) {
  io_state* s;
  if (!p.free_states_.empty()) {
    s = p.free_states_.back();
    p.free_states_.pop_back();
    s->~io_state();
    new (s) io_state();
  } else {
    s = new io_state();
  }
  s->owner = &p;
  s->fd = fd;
  s->prev_live = nullptr;
  s->next_live = p.live_states_;
  if (p.live_states_ != nullptr) p.live_states_->prev_live = s;
  p.live_states_ = s;
  return s;
}

void add_ref(io_state& s) noexcept {
  ++s.refs;
}

void release(io_state& s) noexcept {
  if (--s.refs > 0) return;
  proactor& p = *s.owner;
  if (s.prev_live != nullptr) {
    s.prev_live->next_live = s.next_live;
  } else {
    p.live_states_ = s.next_live;
  }
  if (s.next_live != nullptr) s.next_live->prev_live = s.prev_live;
  s.spill.reset();
  try {
    p.free_states_.push_back(&s);
  } catch (...) {
    delete &s;
  }
}

void cancel_state(io_state& s) noexcept {
  s.owner->backend().cancel_all(s);
}

void close_state(io_state& s) noexcept {
  proactor& p = *s.owner;
  if (p.shutting_down()) {
    // The ring is gone: nothing is in flight any more.
    if (s.fd >= 0) ::close(std::exchange(s.fd, -1));
    s.closing = true;
    --s.refs;  // the proactor frees every state it still holds
    return;
  }
  p.backend().close(s);
  release(s);
}

tcp_stream adopt_stream(proactor& p, int fd) {
  return tcp_stream(p, fd);
}

}  // namespace detail
}  // namespace overlap
