// The live progress line of the load generators: once a second, on the
// proactor's thread, a callback prints one line over the last (stderr, "\r").
// Shown only when stderr is a terminal and the caller wants it.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <system_error>
#include <utility>

#include "overlap/handler.hpp"
#include "overlap/proactor.hpp"
#include "overlap/timer.hpp"

namespace overlap::apps {

class progress_line final : public timer_handler {
 public:
  // print(seconds since start()) writes the line's text, without "\r".
  progress_line(proactor& p, bool wanted, std::function<void(double)> print)
      : timer_(p), shown_(wanted && ::isatty(2) != 0), print_(std::move(print)) {}

  void start() {
    start_ = std::chrono::steady_clock::now();
    if (shown_) timer_.async_wait(std::chrono::seconds(1), *this);
  }
  void stop() {
    stopped_ = true;
    timer_.cancel();
  }
  // Ends the line so that the report starts on a fresh one.
  void finish_line() const {
    if (shown_) std::fputc('\n', stderr);
  }

  void on_timer_complete(std::error_code ec) override {
    if (ec || stopped_) return;
    std::fputc('\r', stderr);
    print_(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
    std::fflush(stderr);
    timer_.async_wait(std::chrono::seconds(1), *this);
  }

 private:
  timer timer_;
  bool shown_;
  bool stopped_ = false;
  std::function<void(double)> print_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace overlap::apps
