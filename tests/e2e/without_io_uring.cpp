// without_io_uring PROGRAM ARGS...: runs PROGRAM with io_uring_setup(2)
// refused (EPERM) by a seccomp filter, as in a container whose profile blocks
// io_uring, and without OVERLAP_BACKEND (so the program chooses its backend
// itself). Exit 127 if the filter or the exec fails.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "block_io_uring.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: without_io_uring PROGRAM [ARGS...]\n");
    return 127;
  }
  if (!overlap_test::block_io_uring()) {
    std::fprintf(stderr, "without_io_uring: cannot install the seccomp filter: %s\n",
                 std::strerror(errno));
    return 127;
  }
  ::unsetenv("OVERLAP_BACKEND");
  ::execv(argv[1], argv + 1);
  std::fprintf(stderr, "without_io_uring: cannot run %s: %s\n", argv[1], std::strerror(errno));
  return 127;
}
