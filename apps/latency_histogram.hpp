// A log-linear latency histogram (64 sub-buckets per power of two, about 1.6%
// resolution) with fixed memory: recording never allocates.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace overlap::apps {

class latency_histogram {
 public:
  void record(std::uint64_t ns) noexcept {
    ++counts_[index_of(ns)];
    ++total_;
  }
  std::uint64_t count() const noexcept { return total_; }
  void merge(const latency_histogram& o) noexcept {
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
    total_ += o.total_;
  }
  // Value (ns) at quantile q in [0, 1]; 0 when empty.
  std::uint64_t quantile(double q) const noexcept {
    if (total_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_ - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return value_of(i);
    }
    return value_of(counts_.size() - 1);
  }

 private:
  static constexpr unsigned sub_bits = 6;
  static constexpr std::uint64_t sub_count = 1u << sub_bits;
  static constexpr std::size_t bucket_count = (64 - sub_bits + 1) * sub_count;

  static std::size_t index_of(std::uint64_t v) noexcept {
    if (v < sub_count) return static_cast<std::size_t>(v);
    const unsigned shift = static_cast<unsigned>(std::bit_width(v)) - sub_bits - 1;
    const std::uint64_t sub = (v >> shift) - sub_count;  // in [0, sub_count)
    return static_cast<std::size_t>((shift + 1) * sub_count + sub);
  }
  // Midpoint of the bucket's value range.
  static std::uint64_t value_of(std::size_t i) noexcept {
    if (i < sub_count) return i;
    const std::uint64_t shift = i / sub_count - 1;
    const std::uint64_t sub = i % sub_count;
    const std::uint64_t low = (sub_count + sub) << shift;
    return low + ((std::uint64_t{1} << shift) >> 1);
  }

  std::array<std::uint64_t, bucket_count> counts_{};
  std::uint64_t total_ = 0;
};

}  // namespace overlap::apps
