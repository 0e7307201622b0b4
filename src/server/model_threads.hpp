// Pieces shared by the comparison models of `overlap serve` and `overlap echo`
// (--model reactor|threads): a loop per thread with the first failure
// reported, a detached thread per connection, and a signalfd for the stop
// signals.
#pragma once

#include <cstddef>
#include <functional>
#include <initializer_list>

namespace overlap::server {

// Runs body(i) for i in [0, count): body(0) on the calling thread, the others
// on new threads, and joins them. When a body throws, `stop_others` is called
// (so the rest can wind down) and, once all have returned, the first
// exception is rethrown.
void run_on_threads(std::size_t count, const std::function<void(std::size_t)>& body,
                    const std::function<void()>& stop_others);

// Starts `body` on a detached thread with a stack of `stack_bytes`. Returns 0,
// or the error number when the thread could not be created (body not run).
int start_detached_thread(std::size_t stack_bytes, std::function<void()> body) noexcept;

// A non-blocking signalfd for `signals`, which the caller must have blocked.
// Throws std::system_error on failure.
int open_signal_fd(std::initializer_list<int> signals);

}  // namespace overlap::server
