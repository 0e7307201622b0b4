#include "overlap/file.hpp"

#include <fcntl.h>

#include <cerrno>

#include "overlap/proactor.hpp"

namespace overlap {

std::error_code file::open(const std::string& path, int flags, mode_t mode) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return {errno, std::system_category()};
  adopt(fd);
  return {};
}

void file::adopt(int fd) {
  close();
  state_ = detail::acquire_state(*proactor_, fd);
}

void file::close() noexcept {
  if (state_) detail::close_state(*std::exchange(state_, nullptr));
}

void file::prepare(io_op& op, std::span<const char> buf, const op_options& o) noexcept {
  op.owner = proactor_;
  op.kind = op_kind::file_write;
  op.sock = state_;
  op.fd = state_ ? state_->fd : -1;
  op.buf = const_cast<char*>(buf.data());
  op.len = buf.size();
  op.options = o;
}

namespace detail {

void prepare_openat2(io_op& op, proactor& p, int dirfd, const char* path, const open_how& how,
                     const op_options& o) noexcept {
  op.owner = &p;
  op.kind = op_kind::file_open;
  op.fd = dirfd;
  op.buf = const_cast<char*>(path);  // read by the kernel, never written
  op.arg = &how;
  op.options = o;
}

void prepare_statx(io_op& op, proactor& p, int fd, const char* path, int flags, struct statx& out,
                   const op_options& o) noexcept {
  op.owner = &p;
  op.kind = op_kind::file_stat;
  op.fd = fd;
  op.buf = const_cast<char*>(path);  // null: the descriptor itself (AT_EMPTY_PATH)
  op.how = flags;
  op.arg = &out;
  op.options = o;
}

void prepare_read_at(io_op& op, proactor& p, int fd, std::span<char> buf, std::uint64_t offset,
                     const op_options& o) noexcept {
  op.owner = &p;
  op.kind = op_kind::file_read;
  op.fd = fd;
  op.buf = buf.data();
  op.len = buf.size();
  op.file_offset = static_cast<std::int64_t>(offset);
  op.options = o;
}

}  // namespace detail
}  // namespace overlap
