// An IPv4 or IPv6 address and port.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace overlap {

class endpoint {
 public:
  endpoint() = default;
  endpoint(const sockaddr* sa, socklen_t len) noexcept;

  // Parses a numeric address ("127.0.0.1", "::1", "[::1]") or "localhost";
  // nullopt when the text is not an address.
  static std::optional<endpoint> parse(std::string_view host, std::uint16_t port);
  static endpoint loopback_v4(std::uint16_t port);

  int family() const noexcept { return storage_.ss_family; }
  std::uint16_t port() const noexcept;
  const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t size() const noexcept { return len_; }
  // "127.0.0.1:8080" or "[::1]:8080".
  std::string to_string() const;

 private:
  sockaddr_storage storage_{};
  socklen_t len_ = 0;
};

}  // namespace overlap
