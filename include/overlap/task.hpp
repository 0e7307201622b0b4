// C++20 coroutine support: overlap::task<T> (a lazy coroutine that starts when
// awaited) and overlap::spawn (runs a task<void> detached on a proactor).
//
//   overlap::task<void> session(overlap::tcp_stream s) {
//     char buf[4096];
//     for (;;) {
//       auto [ec, n] = co_await s.async_read_some(buf, overlap::use_awaitable);
//       if (ec) co_return;
//       ...
//     }
//   }
//   overlap::spawn(proactor, session(std::move(stream)));
//
// Awaiting an operation allocates nothing: the operation is the awaiter and
// lives in the coroutine frame. Each task call allocates its frame once.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "overlap/operation.hpp"
#include "overlap/proactor.hpp"

namespace overlap {

template <class T = void>
class task;

namespace detail {

struct task_promise_base {
  struct final_awaiter {
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      auto next = h.promise().continuation;
      return next ? next : std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };
  std::suspend_always initial_suspend() const noexcept { return {}; }
  final_awaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { exception = std::current_exception(); }

  std::coroutine_handle<> continuation;
  std::exception_ptr exception;
};

template <class T>
struct task_promise final : task_promise_base {
  task<T> get_return_object() noexcept;
  template <class U>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
  T take() {
    if (exception) std::rethrow_exception(exception);
    return std::move(*value);
  }
  std::optional<T> value;
};

template <>
struct task_promise<void> final : task_promise_base {
  task<void> get_return_object() noexcept;
  void return_void() const noexcept {}
  void take() const {
    if (exception) std::rethrow_exception(exception);
  }
};

// A detached root coroutine, tracked by its proactor so that a proactor
// destroyed while the root is suspended destroys its frame (and everything the
// frame owns) instead of leaking it.
struct task_root : operation {
  task_root() noexcept : operation(&on_start) {}
  task_root* prev = nullptr;
  task_root* next = nullptr;
  proactor* owner = nullptr;
  std::coroutine_handle<> frame;

 private:
  static void on_start(operation* self, int, std::uint32_t) {
    auto* root = static_cast<task_root*>(self);
    root->owner->note_handler_run();  // starting a spawned task is a handler run
    root->frame.resume();
  }
};

struct detached_task {
  struct promise_type {
    detached_task get_return_object() noexcept {
      auto h = std::coroutine_handle<promise_type>::from_promise(*this);
      root.frame = h;
      return {&root};
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    struct final_awaiter {
      bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        task_root& r = h.promise().root;
        r.owner->drop_root(&r);
        h.destroy();
      }
      void await_resume() const noexcept {}
    };
    final_awaiter final_suspend() const noexcept { return {}; }
    void return_void() const noexcept {}
    void unhandled_exception() noexcept { root.owner->set_exception(std::current_exception()); }
    task_root root;
  };
  task_root* root;
};

}  // namespace detail

template <class T>
class [[nodiscard]] task {
 public:
  using promise_type = detail::task_promise<T>;

  task() noexcept = default;
  explicit task(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  task& operator=(task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() {
    if (h_) h_.destroy();
  }

  bool await_ready() const noexcept { return !h_ || h_.done(); }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
    h_.promise().continuation = awaiting;
    return h_;  // symmetric transfer: start the child without growing the stack
  }
  T await_resume() { return h_.promise().take(); }

 private:
  std::coroutine_handle<promise_type> h_;
};

namespace detail {
template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
  return task<T>(std::coroutine_handle<task_promise<T>>::from_promise(*this));
}
inline task<void> task_promise<void>::get_return_object() noexcept {
  return task<void>(std::coroutine_handle<task_promise<void>>::from_promise(*this));
}

inline detached_task run_detached(proactor& p, task<void> t) {
  (void)p;
  co_await std::move(t);
}
}  // namespace detail

// Runs t detached on p. The task starts from p's loop (never inside spawn());
// an exception escaping it is rethrown from p.run().
void spawn(proactor& p, task<void> t);

}  // namespace overlap
