// `overlap echo`: a TCP echo server, one proactor per thread.
#pragma once

#include <string>

namespace overlap::apps {

struct echo_config {
  std::string bind = "127.0.0.1";
  unsigned port = 7000;
  unsigned threads = 1;
};

// Serves until SIGINT/SIGTERM; returns the process exit status.
int run_echo_server(const echo_config& config);

}  // namespace overlap::apps
