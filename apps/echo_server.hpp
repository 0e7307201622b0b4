// `overlap echo`: a TCP echo server, one proactor per thread.
#pragma once

#include <string>

namespace overlap::apps {

struct echo_config {
  std::string bind = "127.0.0.1";
  unsigned port = 7000;
  unsigned threads = 1;
  // proactor_options::busy_poll. On by default: an echo server's completions
  // follow each other closely, and the spin adapts (and stops) when they do not.
  unsigned busy_poll_us = 50;
  std::string backend;  // proactor_options::backend (empty: automatic)
  // "proactor", or for comparison "reactor" or "threads" (echo_models.hpp).
  std::string model = "proactor";
};

// Serves until SIGINT/SIGTERM; returns the process exit status.
int run_echo_server(const echo_config& config);

}  // namespace overlap::apps
