// Replaces the global operator new/delete with versions that count
// allocations while overlap_test::counting is on. Include it in exactly one
// translation unit of a test executable, and keep that executable apart from
// the other suites (the replacement is program-wide).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace overlap_test {
inline std::atomic<bool> counting{false};
inline std::atomic<std::size_t> allocations{0};

inline void* counted_alloc(std::size_t n) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
// Sanity check for a test executable: the number of allocations counted
// across one call of operator new (1 when the replacement is in place).
std::size_t allocations_counted_for_one_new();

inline void* counted_aligned_alloc(std::size_t n, std::align_val_t al) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  const auto a = static_cast<std::size_t>(al);
  if (void* p = std::aligned_alloc(a, (n + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}
}  // namespace overlap_test

// The replacements pair malloc with free themselves; GCC's
// -Wmismatched-new-delete cannot see that once they are inlined.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t n) {
  return overlap_test::counted_alloc(n);
}
void* operator new[](std::size_t n) {
  return overlap_test::counted_alloc(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return overlap_test::counted_alloc(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return overlap_test::counted_alloc(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t n, std::align_val_t a) {
  return overlap_test::counted_aligned_alloc(n, a);
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return overlap_test::counted_aligned_alloc(n, a);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}

inline std::size_t overlap_test::allocations_counted_for_one_new() {
  allocations.store(0);
  counting.store(true);
  void* p = ::operator new(sizeof(int));  // a call, not a new-expression: never elided
  counting.store(false);
  ::operator delete(p);
  return allocations.load();
}
