// --max-connections-per-client: how many connections one client may hold
// open at once, counted across every shard (thread) of the server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include "overlap/endpoint.hpp"

namespace overlap::server {

// Who counts as one client: an IPv4 address (also when it arrives as an
// IPv4-mapped IPv6 address), or an IPv6 /64, the block a single subscriber
// is usually given, so a client cannot step past the limit by using the
// other addresses of its own /64.
struct client_key {
  std::uint64_t bits = 0;  // the IPv4 address, or the /64 prefix
  bool v6 = false;
  friend bool operator==(const client_key&, const client_key&) = default;
};

// nullopt for an endpoint that is neither IPv4 nor IPv6 (e.g. empty, when
// the peer was already gone and its address could not be read).
std::optional<client_key> client_key_of(const endpoint& peer) noexcept;

// Thread-safe: the shards share one. Only connection set-up and tear-down
// take its lock, never a request.
class client_limits {
 public:
  // per_client > 0 (0, "no limit", means no client_limits at all).
  explicit client_limits(unsigned per_client) : per_client_(per_client) {}
  client_limits(const client_limits&) = delete;
  client_limits& operator=(const client_limits&) = delete;

  // Counts one more connection of `k`; false, counting nothing, when `k`
  // already holds per_client of them.
  bool try_add(const client_key& k);
  // The end of a connection that try_add counted.
  void remove(const client_key& k);

  unsigned per_client() const noexcept { return per_client_; }
  // Clients with at least one connection counted (for tests and the admin page).
  std::size_t clients() const;

 private:
  struct key_hash {
    std::size_t operator()(const client_key& k) const noexcept;
  };
  const unsigned per_client_;
  mutable std::mutex mutex_;
  std::unordered_map<client_key, unsigned, key_hash> open_;
};

// One connection that client_limits counted: uncounted when it goes.
class client_slot {
 public:
  client_slot() = default;
  client_slot(client_limits& limits, const client_key& key) : limits_(&limits), key_(key) {}
  client_slot(client_slot&& o) noexcept
      : limits_(std::exchange(o.limits_, nullptr)), key_(o.key_) {}
  client_slot& operator=(client_slot&& o) noexcept {
    if (this != &o) {
      release();
      limits_ = std::exchange(o.limits_, nullptr);
      key_ = o.key_;
    }
    return *this;
  }
  ~client_slot() { release(); }

 private:
  void release() noexcept {
    if (limits_ != nullptr) limits_->remove(key_);
    limits_ = nullptr;
  }
  client_limits* limits_ = nullptr;
  client_key key_{};
};

}  // namespace overlap::server
