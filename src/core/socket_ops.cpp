#include "socket_ops.hpp"

#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>

namespace overlap::detail {

std::system_error last_error(const char* what) {
  return std::system_error(errno, std::system_category(), what);
}

int open_stream_socket(int family) {
  // Protocol 0: TCP for AF_INET/AF_INET6, the only one for AF_UNIX.
  const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw last_error("socket");
  return fd;
}

endpoint socket_name(int fd, bool peer) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  auto* sa = reinterpret_cast<sockaddr*>(&ss);
  const int rc = peer ? ::getpeername(fd, sa, &len) : ::getsockname(fd, sa, &len);
  if (rc != 0) return {};
  return endpoint(sa, len);
}

}  // namespace overlap::detail
