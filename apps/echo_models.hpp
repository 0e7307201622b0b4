// `overlap echo --model reactor|threads`: the echo server on the paper's two
// other concurrency models, to compare with the proactor on the same work.
//   reactor  one epoll loop per thread (SO_REUSEPORT listener each): a ready
//            socket is read into the loop's buffer and written straight back
//            with non-blocking recv/send;
//   threads  one acceptor, one thread per connection with blocking I/O.
// Neither busy-polls: each sleeps in epoll_wait or recv.
#pragma once

#include <vector>

#include "echo_server.hpp"

namespace overlap::apps {

// SIGINT and SIGTERM must be blocked in the calling thread. Both stop on the
// first signal (an echo server has nothing in flight worth finishing); they
// throw std::exception when set-up fails.
void run_echo_reactor(const std::vector<int>& listen_fds);
void run_echo_threads(int listen_fd);

}  // namespace overlap::apps
