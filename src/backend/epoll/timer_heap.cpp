#include "timer_heap.hpp"

namespace overlap::detail {

void timer_heap::push(io_op& op) {
  heap_.push_back(&op);
  place(heap_.size() - 1, &op);
  sift_up(heap_.size() - 1);
}

void timer_heap::remove(io_op& op) noexcept {
  if (op.timer_index == 0) return;
  const std::size_t i = op.timer_index - 1;
  op.timer_index = 0;
  io_op* last = heap_.back();
  heap_.pop_back();
  if (i == heap_.size()) return;  // op was the last element
  place(i, last);
  sift_up(i);
  sift_down(last->timer_index - 1);
}

void timer_heap::sift_up(std::size_t i) noexcept {
  io_op* op = heap_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (expiry_ns(*heap_[parent]) <= expiry_ns(*op)) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, op);
}

void timer_heap::sift_down(std::size_t i) noexcept {
  io_op* op = heap_[i];
  const std::size_t n = heap_.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && expiry_ns(*heap_[child + 1]) < expiry_ns(*heap_[child])) ++child;
    if (expiry_ns(*heap_[child]) >= expiry_ns(*op)) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, op);
}

}  // namespace overlap::detail
