// A provided-buffer ring (IORING_REGISTER_PBUF_RING): the kernel picks a
// buffer when data arrives, so a connection waiting for data holds none.
// Buffers are identified by a 16-bit id; a stream queues the ids it has been
// given (linked through next()) and gives each back once consumed.
#pragma once

#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace overlap::detail {

class buffer_ring {
 public:
  buffer_ring() = default;
  buffer_ring(const buffer_ring&) = delete;
  buffer_ring& operator=(const buffer_ring&) = delete;
  ~buffer_ring();

  // Registers count buffers of size bytes as group `group`; returns 0 or -errno
  // (-EINVAL on kernels without buffer rings). count must be a power of two.
  int setup(io_uring& ring, unsigned count, unsigned size, std::uint16_t group);
  // Forgets the registration (the ring is being torn down) and frees memory.
  void reset() noexcept;

  bool enabled() const noexcept { return ring_ != nullptr; }
  std::uint16_t group() const noexcept { return group_; }
  unsigned buffer_size() const noexcept { return size_; }
  unsigned available() const noexcept { return available_; }

  char* data(std::uint16_t bid) const noexcept { return base_ + std::size_t{bid} * size_; }
  std::uint32_t& length(std::uint16_t bid) noexcept { return length_[bid]; }
  std::uint16_t& next(std::uint16_t bid) noexcept { return next_[bid]; }

  // The kernel handed out a buffer (a CQE with IORING_CQE_F_BUFFER).
  void taken() noexcept { --available_; }
  // Returns a consumed buffer to the kernel.
  void give_back(std::uint16_t bid) noexcept;

 private:
  io_uring_buf_ring* ring_ = nullptr;
  std::size_t ring_bytes_ = 0;
  char* base_ = nullptr;
  std::size_t base_bytes_ = 0;
  unsigned count_ = 0;
  unsigned size_ = 0;
  unsigned available_ = 0;
  std::uint16_t group_ = 0;
  std::vector<std::uint32_t> length_;
  std::vector<std::uint16_t> next_;
};

}  // namespace overlap::detail
