// The epoll backend's timers: a binary min-heap of operations ordered by
// their absolute expiry (io_op::ts, CLOCK_MONOTONIC). Each operation records
// its own position (io_op::timer_index), so a cancelled or completed
// operation leaves the heap in O(log n) and arming a timer allocates nothing
// once the heap has grown to the number of timers in flight.
#pragma once

#include <cstdint>
#include <vector>

#include "backend/completion_conventions.hpp"
#include "overlap/operation.hpp"

namespace overlap::detail {

class timer_heap {
 public:
  bool empty() const noexcept { return heap_.empty(); }
  io_op* top() const noexcept { return heap_.front(); }
  void push(io_op& op);
  // Removes op if it is in the heap.
  void remove(io_op& op) noexcept;

 private:
  void place(std::size_t i, io_op* op) noexcept {
    heap_[i] = op;
    op->timer_index = static_cast<std::uint32_t>(i + 1);
  }
  void sift_up(std::size_t i) noexcept;
  void sift_down(std::size_t i) noexcept;

  std::vector<io_op*> heap_;
};

}  // namespace overlap::detail
