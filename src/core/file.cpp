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

}  // namespace overlap
