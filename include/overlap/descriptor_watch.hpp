// Readiness of a descriptor that overlap does not read or write itself, as a
// completion: the way to drive another library's sockets, pipes or eventfds
// (a resolver, a database client, an inotify descriptor) from the proactor's
// thread. The library does its own I/O when told the descriptor is ready.
// (IORING_OP_POLL_ADD on io_uring; the epoll backend's readiness.)
//
// The watch holds a duplicate of the descriptor (F_DUPFD_CLOEXEC) until it
// is destroyed, so the caller keeps ownership of its own and may close it
// at any time; the file itself stays open while the watch lives.
// Completion: `(std::error_code, std::size_t events)`, events being the
// poll(2) revents mask (POLLIN, POLLOUT, POLLERR, POLLHUP, ...), one wait
// per call (not multishot). A regular file is always ready.
#pragma once

#include <cstdint>
#include <utility>

#include "overlap/completion.hpp"
#include "overlap/detail/io_state.hpp"
#include "overlap/handler.hpp"

namespace overlap {

enum class readiness : std::uint8_t {
  readable,  // POLLIN (or POLLPRI, POLLERR, POLLHUP)
  writable,  // POLLOUT (or POLLERR, POLLHUP)
  either,
};

class descriptor_watch {
 public:
  // Throws std::system_error if `fd` cannot be duplicated (EBADF, EMFILE).
  descriptor_watch(proactor& p, int fd);
  descriptor_watch(descriptor_watch&& o) noexcept
      : proactor_(o.proactor_), state_(std::exchange(o.state_, nullptr)) {}
  descriptor_watch& operator=(descriptor_watch&&) = delete;
  descriptor_watch(const descriptor_watch&) = delete;
  descriptor_watch& operator=(const descriptor_watch&) = delete;
  ~descriptor_watch();

  template <completion_token_for<detail::bytes_result> Token>
  auto async_wait(readiness r, Token&& token, op_options o = {}) {
    return detail::initiate<detail::bytes_result>(*proactor_, std::forward<Token>(token),
                                                  [&](io_op& op) { prepare(op, r, o); });
  }
  // Handler-object form: one wait at a time in this form.
  void async_wait(readiness r, readiness_handler& h, op_options o = {});

  // Cancels every wait in flight on this watch (operation_aborted).
  void cancel() noexcept;

 private:
  void prepare(io_op& op, readiness r, const op_options& o) noexcept;
  proactor* proactor_;
  detail::io_state* state_;
};

}  // namespace overlap
