// A regular file whose writes are asynchronous operations (IORING_OP_WRITE on
// io_uring): the event loop never blocks on the disk. Used for logs, so
// writes go to the current position (open with O_APPEND to append).
// Handler: `void(std::error_code, std::size_t bytes)`; short writes are
// resubmitted, so success means the whole buffer was written.
#pragma once

#include <sys/types.h>

#include <span>
#include <string>
#include <system_error>
#include <utility>

#include "overlap/completion.hpp"
#include "overlap/detail/io_state.hpp"

namespace overlap {

class file {
 public:
  explicit file(proactor& p) noexcept : proactor_(&p) {}
  file(file&& o) noexcept : proactor_(o.proactor_), state_(std::exchange(o.state_, nullptr)) {}
  file& operator=(file&&) = delete;
  file(const file&) = delete;
  file& operator=(const file&) = delete;
  ~file() { close(); }

  // Opens path (O_CLOEXEC is added); closes the file open before, if any.
  std::error_code open(const std::string& path, int flags, mode_t mode = 0644);
  // Adopts an open descriptor (e.g. STDOUT_FILENO after dup()).
  void adopt(int fd);
  bool is_open() const noexcept { return state_ != nullptr; }

  template <completion_token_for<detail::bytes_result> Token>
  auto async_write(std::span<const char> buf, Token&& token, op_options o = {}) {
    return detail::initiate<detail::bytes_result>(*proactor_, std::forward<Token>(token),
                                                  [&](io_op& op) { prepare(op, buf, o); });
  }

  // Closes once the writes in flight have finished with the descriptor.
  void close() noexcept;

 private:
  void prepare(io_op& op, std::span<const char> buf, const op_options& o) noexcept;
  proactor* proactor_;
  detail::io_state* state_ = nullptr;
};

}  // namespace overlap
