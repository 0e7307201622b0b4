// A stream socket's address: IPv4 or IPv6 with a port, or a Unix-domain
// socket (a path, or a name in Linux's abstract namespace).
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

  // Parses a numeric address ("127.0.0.1", "::1", "[::1]") or "localhost",
  // or "unix:PATH" / "unix:@NAME" for local() (the port is then unused);
  // nullopt when the text is not an address.
  static std::optional<endpoint> parse(std::string_view host, std::uint16_t port);
  // A Unix-domain socket: a filesystem path, or "@NAME" for NAME in the
  // abstract namespace (no file; gone with the last socket). nullopt when
  // empty, too long for sockaddr_un (107 bytes) or containing a NUL.
  static std::optional<endpoint> local(std::string_view path);
  static endpoint loopback_v4(std::uint16_t port);

  int family() const noexcept { return storage_.ss_family; }
  std::uint16_t port() const noexcept;  // 0 for a Unix-domain socket
  bool is_local() const noexcept { return family() == AF_UNIX; }
  // A Unix-domain socket's filesystem path; empty for any other endpoint,
  // an abstract name or an unnamed socket (a connecting client's).
  std::string local_path() const;
  const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t size() const noexcept { return len_; }
  // "127.0.0.1:8080", "[::1]:8080", "unix:/run/x.sock", "unix:@name", or
  // "unix:" for an unnamed Unix-domain socket.
  std::string to_string() const;

 private:
  sockaddr_storage storage_{};
  socklen_t len_ = 0;
};

}  // namespace overlap
