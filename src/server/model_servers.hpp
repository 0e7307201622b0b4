// The HTTP core on the paper's two other concurrency models, for measuring
// the designs side by side (`overlap serve --model reactor|threads`):
//
// - run_reactor_server: one epoll loop per thread, each with its own
//   SO_REUSEPORT listener; a ready socket is read, fed to the HTTP core and
//   written with non-blocking sendmsg/sendfile on the loop's thread, and
//   files are opened synchronously on that thread (paper §8, Appendix A.2);
// - run_threaded_server: one acceptor, one thread per connection doing
//   blocking recv, sendmsg and sendfile, the open-file cache shared under a
//   lock (Appendix A.1).
//
// Both keep the proactor server's limits and behaviour where it applies:
// header, keep-alive and send timeouts, --max-connections, graceful shutdown
// on SIGTERM/SIGINT (a second signal stops at once), lingering close after a
// malformed request. Neither writes an access log.
#pragma once

#include <vector>

#include "overlap/server/server_config.hpp"

namespace overlap::server {

// `listen_fds`: one listener per thread (non-blocking). SIGINT, SIGTERM and
// SIGHUP must be blocked in the calling thread (threads inherit the mask).
// Return once stopped; throw std::exception when set-up fails.
void run_reactor_server(const server_config& config, const std::vector<int>& listen_fds,
                        unsigned max_connections);
void run_threaded_server(const server_config& config, int listen_fd, unsigned max_connections);

}  // namespace overlap::server
