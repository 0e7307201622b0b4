// A client round trip as a coroutine, for tests that need a peer speaking
// to their server: connect, write a message, read as many bytes back.
#pragma once

#include <string>
#include <system_error>

#include "overlap/completion.hpp"
#include "overlap/endpoint.hpp"
#include "overlap/proactor.hpp"
#include "overlap/task.hpp"
#include "overlap/tcp_stream.hpp"

namespace overlap_test {

// Connects to `ep`, writes `msg`, reads msg.size() bytes into `reply`; the
// first error, or eof cut short, lands in `err`. Closing the stream at the
// end gives the server's side its end of stream.
inline overlap::task<void> ask(overlap::proactor& p, overlap::endpoint ep, std::string msg,
                               std::string& reply, std::error_code& err) {
  overlap::tcp_stream s(p);
  if (auto ec = co_await s.async_connect(ep, overlap::use_awaitable)) {
    err = ec;
    co_return;
  }
  if (auto [wec, w] = co_await s.async_write(msg, overlap::use_awaitable); wec) {
    err = wec;
    co_return;
  }
  reply.resize(msg.size());
  auto [rec, n] = co_await s.async_read(reply, overlap::use_awaitable);
  err = rec;
  reply.resize(n);
}

}  // namespace overlap_test
