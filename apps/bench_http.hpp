// `overlap bench http`: a closed-loop HTTP/1.1 load generator built on the
// library. Each connection sends a GET, waits for the whole response (framed
// by llhttp, as the server frames requests), and sends the next; with
// --close every request gets a new connection. It exists beside wrk to show
// what a server does when the load generator is cheaper per request than
// wrk (bench/http_capacity.sh); the benchmarks against targets use wrk.
#pragma once

#include <string>

namespace overlap::apps {

struct bench_http_config {
  std::string host = "127.0.0.1";  // numeric address to connect to
  unsigned port = 8080;
  std::string path = "/";  // request target, sent as is
  unsigned connections = 16;
  double duration_s = 5.0;
  double warmup_s = 0.0;  // load before measuring; not counted
  bool close = false;     // Connection: close, a new connection per request
  bool json = false;
  bool progress = true;  // live line on stderr when it is a terminal
};

int run_bench_http(const bench_http_config& config);

}  // namespace overlap::apps
