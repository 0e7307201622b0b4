// `overlap bench echo`: a ping-pong load generator built on the library.
// Closed loop (each connection sends its next message when the previous echo
// is complete) or open loop at a fixed total rate (latency measured from each
// message's scheduled send time, so a slow server cannot hide queueing).
#pragma once

#include <string>

namespace overlap::apps {

struct bench_echo_config {
  std::string host = "127.0.0.1";
  unsigned port = 7000;
  unsigned connections = 16;
  unsigned size = 64;  // bytes per message
  double duration_s = 5.0;
  double warmup_s = 0.0;  // run before measuring; not counted
  double rate = 0.0;      // total messages/s; 0 = closed loop
  // Longest adaptive spin of the generator's loop before it sleeps (0: never
  // spin). A generator that stays awake between echoes spares the server the
  // cost of waking it for each one, which on loopback is charged to the
  // server's send.
  unsigned busy_poll_us = 0;
  bool json = false;
  bool progress = true;  // live line on stderr when it is a terminal
};

int run_bench_echo(const bench_echo_config& config);

}  // namespace overlap::apps
