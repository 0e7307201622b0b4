#include "client_limits.hpp"

#include <netinet/in.h>

#include <cstring>

namespace overlap::server {

std::optional<client_key> client_key_of(const endpoint& peer) noexcept {
  if (peer.family() == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(peer.data());
    return client_key{ntohl(sin->sin_addr.s_addr), false};
  }
  if (peer.family() == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(peer.data());
    const unsigned char* a = sin6->sin6_addr.s6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
      std::uint32_t v4 = 0;
      std::memcpy(&v4, a + 12, sizeof v4);
      return client_key{ntohl(v4), false};
    }
    std::uint64_t prefix = 0;
    for (int i = 0; i < 8; ++i) prefix = (prefix << 8) | a[i];
    return client_key{prefix, true};
  }
  return std::nullopt;
}

std::size_t client_limits::key_hash::operator()(const client_key& k) const noexcept {
  // A 64-bit mix (splitmix64's finaliser): neighbouring addresses spread.
  std::uint64_t x = k.bits ^ (k.v6 ? 0x9e3779b97f4a7c15ULL : 0);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return static_cast<std::size_t>(x ^ (x >> 31));
}

bool client_limits::try_add(const client_key& k) {
  const std::lock_guard<std::mutex> lock(mutex_);
  unsigned& n = open_[k];  // a new client starts at 0, below any limit
  if (n >= per_client_) return false;
  ++n;
  return true;
}

void client_limits::remove(const client_key& k) {
  const std::lock_guard<std::mutex> lock(mutex_);
  const auto it = open_.find(k);
  if (it == open_.end()) return;
  if (--it->second == 0) open_.erase(it);
}

std::size_t client_limits::clients() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return open_.size();
}

}  // namespace overlap::server
