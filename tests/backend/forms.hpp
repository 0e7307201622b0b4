// Runs one asynchronous operation with any of the three completion-handler
// forms (callable, coroutine via use_awaitable + spawn, handler object) and
// records what the handler saw, so a behaviour can be proved for all three
// with one test body (parameterised over `form`).
//
//   op_record r;
//   start(GetParam(), p, r, [&](auto&& token) {
//     return stream.async_read_some(buf, token);
//   });
//   p.run();
//   EXPECT_EQ(r.calls, 1);
#pragma once

#include <gtest/gtest.h>

#include <coroutine>
#include <cstddef>
#include <functional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "overlap/completion.hpp"
#include "overlap/handler.hpp"
#include "overlap/proactor.hpp"
#include "overlap/task.hpp"
#include "overlap/tcp_acceptor.hpp"
#include "overlap/tcp_stream.hpp"

namespace overlap_test {

enum class form { callable, coroutine, handler_object };

inline std::string form_name(const ::testing::TestParamInfo<form>& info) {
  switch (info.param) {
    case form::callable:
      return "callable";
    case form::coroutine:
      return "coroutine";
    case form::handler_object:
      return "handler_object";
  }
  return "unknown";
}

inline auto all_forms() {
  return ::testing::Values(form::callable, form::coroutine, form::handler_object);
}

struct op_record;

// The handler-object form: one object implementing every handler interface,
// recording into its op_record.
class recorder final : public overlap::stream_handler,
                       public overlap::accept_handler,
                       public overlap::timer_handler,
                       public overlap::readiness_handler {
 public:
  explicit recorder(op_record& r) noexcept : r_(r) {}
  void on_read_complete(std::error_code ec, std::size_t n) override;
  void on_write_complete(std::error_code ec, std::size_t n) override;
  void on_connect_complete(std::error_code ec) override;
  void on_accept_complete(std::error_code ec, overlap::tcp_stream peer, bool more) override;
  void on_timer_complete(std::error_code ec) override;
  void on_ready(std::error_code ec, unsigned events) override;

 private:
  op_record& r_;
};

struct op_record {
  op_record() = default;
  op_record(const op_record&) = delete;
  op_record& operator=(const op_record&) = delete;

  int calls = 0;
  std::error_code ec;
  std::size_t bytes = 0;
  std::vector<overlap::tcp_stream> peers;  // accepted connections
  bool initiating = false;                 // true while the initiating call runs
  bool ran_during_initiation = false;      // a handler ran while `initiating`
  std::function<void()> then;              // runs (on the loop) after each completion
  recorder handler{*this};

  void note(std::error_code e, std::size_t n) {
    ++calls;
    ec = e;
    bytes = n;
    if (initiating) ran_during_initiation = true;
    if (then) then();
  }
  void note(std::error_code e, overlap::tcp_stream peer) {
    if (peer.is_open()) peers.push_back(std::move(peer));
    note(e, std::size_t{0});
  }
};

inline void recorder::on_read_complete(std::error_code ec, std::size_t n) {
  r_.note(ec, n);
}
inline void recorder::on_write_complete(std::error_code ec, std::size_t n) {
  r_.note(ec, n);
}
inline void recorder::on_connect_complete(std::error_code ec) {
  r_.note(ec, std::size_t{0});
}
inline void recorder::on_accept_complete(std::error_code ec, overlap::tcp_stream peer, bool) {
  r_.note(ec, std::move(peer));
}
inline void recorder::on_timer_complete(std::error_code ec) {
  r_.note(ec, std::size_t{0});
}
inline void recorder::on_ready(std::error_code ec, unsigned events) {
  r_.note(ec, std::size_t{events});
}

// Records what a co_await returned.
inline void note_value(op_record& r, overlap::io_result v) {
  r.note(v.ec, v.bytes);
}
inline void note_value(op_record& r, std::error_code ec) {
  r.note(ec, std::size_t{0});
}
inline void note_value(op_record& r, overlap::detail::accept_result::value_type v) {
  r.note(v.ec, std::move(v.peer));
}

// Wraps an operation awaiter so the record knows when the initiation (the
// awaiter's await_suspend) is running: a handler that resumes the coroutine
// from inside it would be caught.
template <class A>
struct watched {
  A& inner;
  op_record& rec;
  bool await_ready() { return inner.await_ready(); }
  void await_suspend(std::coroutine_handle<> h) {
    op_record* r = &rec;  // the frame may be gone if resumed inline
    r->initiating = true;
    inner.await_suspend(h);
    r->initiating = false;
  }
  auto await_resume() { return inner.await_resume(); }
};
template <class A>
watched<A> watch(op_record& r, A&& a) {
  return {a, r};
}

template <class Init>
overlap::task<void> await_into(Init init, op_record& r) {
  note_value(r, co_await watch(r, init(overlap::use_awaitable)));
}

// Starts the operation that `init(token)` initiates, with the given form.
template <class Init>
void start(form f, overlap::proactor& p, op_record& r, Init init) {
  switch (f) {
    case form::callable:
      r.initiating = true;
      init([&r](std::error_code ec, auto&&... rest) {
        if constexpr (sizeof...(rest) == 0) {
          r.note(ec, std::size_t{0});
        } else {
          r.note(ec, std::forward<decltype(rest)>(rest)...);
        }
      });
      r.initiating = false;
      return;
    case form::coroutine:
      overlap::spawn(p, await_into(std::move(init), r));
      return;
    case form::handler_object:
      if constexpr (std::is_invocable_v<Init&, recorder&>) {
        r.initiating = true;
        init(r.handler);
        r.initiating = false;
      } else {
        ADD_FAILURE() << "this operation has no handler-object form";
      }
      return;
  }
}

}  // namespace overlap_test
