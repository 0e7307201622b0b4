#include "buffer_ring.hpp"

#include <sys/mman.h>

#include <cerrno>

namespace overlap::detail {

buffer_ring::~buffer_ring() {
  reset();
}

int buffer_ring::setup(io_uring& ring, unsigned count, unsigned size, std::uint16_t group) {
  if (count == 0 || (count & (count - 1)) != 0 || count > 32768 || size == 0) return -EINVAL;
  ring_bytes_ = count * sizeof(io_uring_buf);
  void* r =
      ::mmap(nullptr, ring_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (r == MAP_FAILED) return -errno;
  base_bytes_ = std::size_t{count} * size;
  void* b =
      ::mmap(nullptr, base_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (b == MAP_FAILED) {
    const int e = errno;
    ::munmap(r, ring_bytes_);
    return -e;
  }
  auto* br = static_cast<io_uring_buf_ring*>(r);
  io_uring_buf_ring_init(br);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uintptr_t>(br);
  reg.ring_entries = count;
  reg.bgid = group;
  if (const int rc = io_uring_register_buf_ring(&ring, &reg, 0); rc != 0) {
    ::munmap(r, ring_bytes_);
    ::munmap(b, base_bytes_);
    return rc;
  }
  ring_ = br;
  base_ = static_cast<char*>(b);
  count_ = count;
  size_ = size;
  group_ = group;
  length_.assign(count, 0);
  next_.assign(count, 0);
  const int mask = io_uring_buf_ring_mask(count);
  for (unsigned i = 0; i < count; ++i) {
    io_uring_buf_ring_add(ring_, data(static_cast<std::uint16_t>(i)), size_,
                          static_cast<unsigned short>(i), mask, static_cast<int>(i));
  }
  io_uring_buf_ring_advance(ring_, static_cast<int>(count));
  available_ = count;
  return 0;
}

void buffer_ring::give_back(std::uint16_t bid) noexcept {
  io_uring_buf_ring_add(ring_, data(bid), size_, bid, io_uring_buf_ring_mask(count_), 0);
  io_uring_buf_ring_advance(ring_, 1);
  ++available_;
}

void buffer_ring::reset() noexcept {
  if (ring_ != nullptr) ::munmap(ring_, ring_bytes_);
  if (base_ != nullptr) ::munmap(base_, base_bytes_);
  ring_ = nullptr;
  base_ = nullptr;
  available_ = 0;
}

}  // namespace overlap::detail
