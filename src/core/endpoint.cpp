#include "overlap/endpoint.hpp"

#include <arpa/inet.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace overlap {
namespace {

// A Unix-domain address's name bytes after the family: a path (NUL-ended
// when the kernel wrote it), "\0NAME" for an abstract name, or nothing for
// an unnamed socket.
std::string_view sun_path_bytes(const sockaddr_storage& s, socklen_t len) noexcept {
  constexpr std::size_t offset = offsetof(sockaddr_un, sun_path);
  if (len <= offset) return {};
  return {reinterpret_cast<const sockaddr_un*>(&s)->sun_path, len - offset};
}

}  // namespace

endpoint::endpoint(const sockaddr* sa, socklen_t len) noexcept {
  len_ = len > sizeof(storage_) ? sizeof(storage_) : len;
  std::memcpy(&storage_, sa, len_);
}

std::optional<endpoint> endpoint::parse(std::string_view host, std::uint16_t port) {
  if (constexpr std::string_view scheme = "unix:"; host.substr(0, scheme.size()) == scheme) {
    return local(host.substr(scheme.size()));
  }
  if (host == "localhost") host = "127.0.0.1";
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string text(host);
  sockaddr_in v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    return endpoint(reinterpret_cast<const sockaddr*>(&v4), sizeof(v4));
  }
  sockaddr_in6 v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    return endpoint(reinterpret_cast<const sockaddr*>(&v6), sizeof(v6));
  }
  return std::nullopt;
}

std::optional<endpoint> endpoint::local(std::string_view path) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  // A path is NUL-terminated inside sun_path; an abstract name starts with a
  // NUL and is as long as the address length says.
  const bool abstract = !path.empty() && path.front() == '@';
  if (path.size() <= (abstract ? 1u : 0u) || path.size() >= sizeof(un.sun_path) ||
      path.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  std::memcpy(un.sun_path, path.data(), path.size());
  if (abstract) un.sun_path[0] = '\0';
  const auto len =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (abstract ? 0 : 1));
  return endpoint(reinterpret_cast<const sockaddr*>(&un), len);
}

std::string endpoint::local_path() const {
  if (storage_.ss_family != AF_UNIX) return {};
  const std::string_view name = sun_path_bytes(storage_, len_);
  if (name.empty() || name.front() == '\0') return {};  // unnamed or abstract
  return std::string(name.data(), ::strnlen(name.data(), name.size()));
}

endpoint endpoint::loopback_v4(std::uint16_t port) {
  return *parse("127.0.0.1", port);
}

std::uint16_t endpoint::port() const noexcept {
  if (storage_.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  }
  if (storage_.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  }
  return 0;
}

std::string endpoint::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (storage_.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf,
                sizeof(buf));
    return std::string(buf) + ":" + std::to_string(port());
  }
  if (storage_.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf,
                sizeof(buf));
    return "[" + std::string(buf) + "]:" + std::to_string(port());
  }
  if (storage_.ss_family == AF_UNIX) {
    const std::string_view name = sun_path_bytes(storage_, len_);
    if (!name.empty() && name.front() == '\0') return "unix:@" + std::string(name.substr(1));
    return "unix:" + local_path();
  }
  return "(unspecified)";
}

}  // namespace overlap
