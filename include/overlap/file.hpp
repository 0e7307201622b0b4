// Files as asynchronous operations, so the event loop never blocks on the
// disk:
//   - `file`: a file whose writes are IORING_OP_WRITE at the current position
//     (open with O_APPEND to append); used for logs. Short writes are
//     resubmitted, so success means the whole buffer was written.
//   - async_openat2, async_statx, async_read_at: opening (IORING_OP_OPENAT2),
//     describing (IORING_OP_STATX) and reading (IORING_OP_READ) a file; used
//     by the web server to fill its open-file cache.
// Handler: `void(std::error_code, std::size_t)`, or co_await with
// use_awaitable. (The handler-object form belongs to streams.)
#pragma once

#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>

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
  int native_handle() const noexcept { return state_ ? state_->fd : -1; }

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

namespace detail {
void prepare_openat2(io_op& op, proactor& p, int dirfd, const char* path, const open_how& how,
                     const op_options& o) noexcept;
void prepare_statx(io_op& op, proactor& p, int fd, const char* path, int flags, struct statx& out,
                   const op_options& o) noexcept;
void prepare_read_at(io_op& op, proactor& p, int fd, std::span<char> buf, std::uint64_t offset,
                     const op_options& o) noexcept;
}  // namespace detail

// Opens `path` relative to the directory `dirfd` with openat2(2) and `how`
// (add O_CLOEXEC to how.flags yourself). Completes with (ec, descriptor); the
// descriptor belongs to the caller. `path` and `how` must stay valid until
// the operation completes. A kernel without IORING_OP_OPENAT2 reports an error
// equal to std::errc::operation_not_supported, so the caller can open
// synchronously instead.
template <completion_token_for<detail::bytes_result> Token>
auto async_openat2(proactor& p, int dirfd, const char* path, const open_how& how, Token&& token,
                   op_options o = {}) {
  return detail::initiate<detail::bytes_result>(p, std::forward<Token>(token), [&](io_op& op) {
    detail::prepare_openat2(op, p, dirfd, path, how, o);
  });
}

// statx(2) of the open descriptor `fd` (AT_EMPTY_PATH, STATX_BASIC_STATS)
// into `out`, which must stay valid until completion. Completes with (ec, 0);
// std::errc::operation_not_supported without IORING_OP_STATX.
template <completion_token_for<detail::bytes_result> Token>
auto async_statx(proactor& p, int fd, struct statx& out, Token&& token, op_options o = {}) {
  return detail::initiate<detail::bytes_result>(p, std::forward<Token>(token), [&](io_op& op) {
    detail::prepare_statx(op, p, fd, nullptr, 0, out, o);
  });
}

// statx(2) of `path` relative to the directory `dirfd`, with statx's `flags`
// (0 follows a final symbolic link, AT_SYMLINK_NOFOLLOW does not). `path` and
// `out` must stay valid until completion.
template <completion_token_for<detail::bytes_result> Token>
auto async_statx_at(proactor& p, int dirfd, const char* path, int flags, struct statx& out,
                    Token&& token, op_options o = {}) {
  return detail::initiate<detail::bytes_result>(p, std::forward<Token>(token), [&](io_op& op) {
    detail::prepare_statx(op, p, dirfd, path, flags, out, o);
  });
}

// Reads from `offset` into `buf` until it is full or the file ends. Completes
// with (ec, bytes read): fewer than buf.size() only at end of file.
template <completion_token_for<detail::bytes_result> Token>
auto async_read_at(proactor& p, int fd, std::span<char> buf, std::uint64_t offset, Token&& token,
                   op_options o = {}) {
  return detail::initiate<detail::bytes_result>(p, std::forward<Token>(token), [&](io_op& op) {
    detail::prepare_read_at(op, p, fd, buf, offset, o);
  });
}

}  // namespace overlap
