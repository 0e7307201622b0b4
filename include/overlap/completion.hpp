// The three forms of Completion Handler (paper §5, Completion Handler), all
// reaching the same io_op objects:
//
//   1. a callable `void(std::error_code, std::size_t)` (accept: `(ec, tcp_stream)`):
//      the operation lives in a block recycled by the proactor (no malloc once warm);
//   2. a C++20 coroutine: pass `overlap::use_awaitable` and `co_await` the
//      result; the operation lives in the coroutine frame (no allocation);
//   3. a handler object (handler.hpp): the operation lives in the I/O object's
//      state (no allocation).
#pragma once

#include <coroutine>
#include <cstddef>
#include <new>
#include <system_error>
#include <type_traits>
#include <utility>

#include "overlap/operation.hpp"

namespace overlap {

class tcp_stream;

// Result of an awaited operation: `auto [ec, n] = co_await s.async_read_some(buf, use_awaitable);`
struct io_result {
  std::error_code ec;
  std::size_t bytes = 0;
};

struct use_awaitable_t {};
inline constexpr use_awaitable_t use_awaitable{};

namespace detail {

// Link in the proactor's list of the operations it allocated for callables, so
// a proactor destroyed with operations in flight destroys their handlers.
struct owned_op_link {
  owned_op_link* prev = nullptr;
  owned_op_link* next = nullptr;
  void (*destroy)(owned_op_link*) = nullptr;
};

// Out-of-line hooks into the proactor (this header does not need proactor.hpp).
void start_operation(proactor& p, io_op& op);
void* allocate_operation(proactor& p, std::size_t size);
void release_operation(proactor& p, void* block, std::size_t size) noexcept;
void track_operation(proactor& p, owned_op_link* link) noexcept;
void untrack_operation(proactor& p, owned_op_link* link) noexcept;
tcp_stream adopt_stream(proactor& p, int fd);

// How a result reaches a callable, and what co_await returns.
struct bytes_result {
  template <class F>
  static constexpr bool accepts = std::is_invocable_v<F&, std::error_code, std::size_t>;
  template <class F>
  static void invoke(F& f, std::error_code ec, std::size_t n, proactor&) {
    f(ec, n);
  }
  static io_result value(io_op& op) { return {op.ec, op.bytes}; }
};

struct error_only_result {  // timers, connect: `void(ec)` or `void(ec, size_t)`
  template <class F>
  static constexpr bool accepts = std::is_invocable_v<F&, std::error_code> ||
                                  std::is_invocable_v<F&, std::error_code, std::size_t>;
  template <class F>
  static void invoke(F& f, std::error_code ec, std::size_t n, proactor&) {
    if constexpr (std::is_invocable_v<F&, std::error_code>) {
      f(ec);
    } else {
      f(ec, n);
    }
  }
  static std::error_code value(io_op& op) { return op.ec; }
};

// Accept hands over the connection as an owning tcp_stream (the kernel's
// result is the new descriptor).
struct accept_result;

// Callable form. Multishot operations deliver several times; after the last
// delivery the block is released *before* the handler runs, so the handler can
// start its next operation in the same block.
template <class F, class Result>
class callable_op final : public owned_op_link, public io_op {
 public:
  template <class G>
  explicit callable_op(G&& g) : io_op(&deliver), handler_(std::forward<G>(g)) {
    owned_op_link::destroy = &destroy_unfinished;
  }

 private:
  static void deliver(io_op* base) {
    auto* self = static_cast<callable_op*>(base);
    proactor& p = *self->owner;
    if (self->more) {
      Result::invoke(self->handler_, self->ec, self->bytes, p);
      return;
    }
    F handler(std::move(self->handler_));
    const std::error_code ec = self->ec;
    const std::size_t n = self->bytes;
    untrack_operation(p, self);
    self->~callable_op();
    release_operation(p, self, sizeof(callable_op));
    Result::invoke(handler, ec, n, p);
  }

  static void destroy_unfinished(owned_op_link* link) {
    auto* self = static_cast<callable_op*>(link);
    proactor& p = *self->owner;
    self->~callable_op();
    release_operation(p, self, sizeof(callable_op));
  }

  F handler_;
};

template <class Result, class F, class Setup>
void initiate_callable(proactor& p, F&& f, Setup&& setup) {
  using op_type = callable_op<std::decay_t<F>, Result>;
  void* block = allocate_operation(p, sizeof(op_type));
  auto* op = new (block) op_type(std::forward<F>(f));
  track_operation(p, op);
  op->owner = &p;
  setup(static_cast<io_op&>(*op));
  start_operation(p, *op);
}

// Coroutine form: the operation is the awaiter, so it lives in the frame.
template <class Result>
class op_awaiter final : public io_op {
 public:
  template <class Setup>
  op_awaiter(proactor& p, Setup&& setup) : io_op(&deliver), proactor_(&p) {
    setup(static_cast<io_op&>(*this));
  }
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    continuation_ = h;
    start_operation(*proactor_, *this);
  }
  auto await_resume() { return Result::value(*this); }

 private:
  static void deliver(io_op* base) { static_cast<op_awaiter*>(base)->continuation_.resume(); }
  proactor* proactor_;
  std::coroutine_handle<> continuation_;
};

// Handler-object form: an operation slot owned by an I/O object's state.
class handler_op final : public io_op {
 public:
  handler_op() : io_op(&deliver) {}
  void* target = nullptr;  // stream_handler*, accept_handler*, timer_handler*, readiness_handler*
 private:
  static void deliver(io_op* base);
};

// Starts an operation with any handler form: returns the awaiter for
// use_awaitable, otherwise allocates the callable form and starts it.
template <class Result, class Token, class Setup>
auto initiate(proactor& p, Token&& token, Setup&& setup) {
  if constexpr (std::is_same_v<std::decay_t<Token>, use_awaitable_t>) {
    return op_awaiter<Result>(p, std::forward<Setup>(setup));
  } else {
    initiate_callable<Result>(p, std::forward<Token>(token), std::forward<Setup>(setup));
  }
}

}  // namespace detail

template <class T, class Result>
concept completion_token_for =
    std::is_same_v<std::decay_t<T>, use_awaitable_t> || Result::template accepts<std::decay_t<T>>;

}  // namespace overlap
