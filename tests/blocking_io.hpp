// Blocking socket helpers shared by the backend and end-to-end suites.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cerrno>
#include <cstddef>
#include <string>

namespace overlap_test {

// Reads exactly len bytes from a blocking socket, or fewer if the peer closes,
// resets or a receive timeout expires first.
inline std::string read_exact_blocking(int fd, std::size_t len) {
  std::string out(len, '\0');
  std::size_t got = 0;
  while (got < len) {
    const ssize_t n = ::recv(fd, out.data() + got, len - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

}  // namespace overlap_test
