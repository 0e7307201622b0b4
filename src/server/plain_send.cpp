#include "plain_send.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>

namespace overlap::server {

ssize_t send_queued(int fd, http::connection& c) noexcept {
  iovec iov[http::max_gather_iovecs];
  bool more = false;
  for (;;) {
    ssize_t n = 0;
    if (const std::size_t k = c.gather(iov, &more); k > 0) {
      msghdr m{};
      m.msg_iov = iov;
      m.msg_iovlen = k;
      n = ::sendmsg(fd, &m, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
    } else if (const auto body = c.next_file_body()) {
      auto offset = static_cast<off_t>(body->offset);
      const std::size_t chunk = std::min<std::uint64_t>(body->length, std::uint64_t{1} << 30);
      n = ::sendfile(fd, body->fd, &offset, chunk);
      if (n == 0) return -EIO;  // the file shrank under its cache entry
    } else {
      return 0;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    c.bytes_sent(static_cast<std::size_t>(n));
    return n;
  }
}

}  // namespace overlap::server
