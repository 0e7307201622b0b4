// A TCP echo server in the coroutine form: a coroutine per connection, a
// multishot accept, and SIGINT/SIGTERM delivered as completions that stop
// the loop. The whole program is one thread and one proactor.
//
//   echo_server [PORT]     listens on 127.0.0.1 (default port 7000; 0: any
//                          free port); says which on stderr
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <system_error>

#include "overlap/endpoint.hpp"
#include "overlap/proactor.hpp"
#include "overlap/signal_set.hpp"
#include "overlap/task.hpp"
#include "overlap/tcp_acceptor.hpp"
#include "overlap/tcp_stream.hpp"

namespace {

overlap::task<void> echo(overlap::tcp_stream s) {
  char buf[4096];
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(buf, overlap::use_awaitable);
    if (ec) co_return;  // overlap::errc::eof when the peer closes
    auto [wec, sent] = co_await s.async_write(std::span(buf, n), overlap::use_awaitable);
    if (wec) co_return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  char* end = nullptr;
  const long port = argc > 1 ? std::strtol(argv[1], &end, 10) : 7000;
  const bool valid =
      argc <= 2 && (argc == 1 || (*argv[1] != '\0' && *end == '\0')) && port >= 0 && port <= 65535;
  const auto ep =
      overlap::endpoint::parse("127.0.0.1", static_cast<std::uint16_t>(valid ? port : 0));
  if (!valid || !ep) {
    std::fprintf(stderr, "usage: echo_server [PORT]\n");
    return 2;
  }
  try {
    overlap::proactor p;
    overlap::signal_set stop(p, {SIGINT, SIGTERM});  // blocks them: they arrive as completions
    overlap::tcp_acceptor acceptor(p, *ep);
    std::fprintf(stderr, "listening on %s\n", acceptor.local_endpoint().to_string().c_str());

    acceptor.async_accept_multishot([&](std::error_code ec, overlap::tcp_stream s) {
      if (!ec) overlap::spawn(p, echo(std::move(s)));
    });
    stop.async_wait([&](std::error_code ec, std::size_t) {
      if (!ec) p.stop();
    });
    p.run();
    // Connections still open end here: the proactor's destructor cancels
    // their reads and destroys their suspended coroutines.
    std::fprintf(stderr, "stopped\n");
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "echo_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
