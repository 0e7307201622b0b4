// Adaptive busy-polling before the event loop sleeps.
//
// Sleeping in the kernel (io_uring_enter, epoll_wait) and being woken costs a context switch each
// way and, on a virtual machine, an inter-processor interrupt the hypervisor has to deliver: tens
// of microseconds per round trip, paid by the peer that wakes us as much as by us. When the next
// completion is only microseconds away (ping-pong traffic, a busy server between bursts) it is
// cheaper to spin on the ring for a moment. When completions are far apart, spinning only burns
// CPU. This policy decides how long to spin, from what recent spins found:
//
// - a spin that saw a completion arrive records how long it took; the next
//   budget is twice the running average of those waits (bounded by the limit),
//   so a loop whose completions come every 20 µs spins for about 40 µs;
// - a spin that ran out of budget is a sign the gaps grew: the next idle
//   periods sleep without spinning, 1, 2, 4 … up to max_skips of them, before
//   spinning is tried again. A success halves the back-off, so a loop whose
//   spins mostly run out (bursts with long pauses between them) ends up
//   spinning rarely, while one whose spins mostly succeed keeps spinning.
//
// Pure logic with no clock of its own, so tests can drive it. Both backends
// use it: io_uring spins on its completion queue, epoll on epoll_wait with a
// zero timeout.
#pragma once

#include <algorithm>
#include <chrono>

namespace overlap::detail {

// Tells the CPU this is a spin-wait loop (saves power, yields to a sibling
// hyperthread).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

class spin_policy {
 public:
  using duration = std::chrono::nanoseconds;

  static constexpr unsigned max_skips = 64;
  // The smallest budget worth starting a spin for.
  static constexpr duration min_budget = std::chrono::microseconds(2);

  // limit: the longest spin; zero turns busy-polling off.
  explicit spin_policy(duration limit = duration::zero()) noexcept
      : limit_(std::max(limit, duration::zero())), typical_(limit_ / 2) {}

  bool enabled() const noexcept { return limit_ > duration::zero(); }
  duration limit() const noexcept { return limit_; }

  // How long to spin before this idle period sleeps; zero means sleep now.
  duration next_budget() noexcept {
    if (!enabled()) return duration::zero();
    if (skips_left_ > 0) {
      --skips_left_;
      return duration::zero();
    }
    // Not std::clamp: a limit below min_budget (busy_poll of 1 µs) is valid.
    return std::min(std::max(2 * typical_, min_budget), limit_);
  }

  // A completion arrived `waited` after the spin began.
  void arrived(duration waited) noexcept {
    typical_ += (std::min(waited, limit_) - typical_) / 4;
    backoff_ /= 2;
  }

  // The spin used its whole budget without a completion.
  void expired() noexcept {
    backoff_ = backoff_ == 0 ? 1 : std::min(2 * backoff_, max_skips);
    skips_left_ = backoff_;
  }

 private:
  duration limit_;
  duration typical_;         // running average of waits that ended in a spin
  unsigned backoff_ = 0;     // sleeps to take after the latest expired spin
  unsigned skips_left_ = 0;  // of those, still to take
};

}  // namespace overlap::detail
