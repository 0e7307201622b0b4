// One parsed request head, as the parser exposes it. All views point into
// the parser's buffers: valid until the parser is next fed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace overlap::http {

enum class method_kind : std::uint8_t {
  get,
  head,
  options,
  connect,
  other,  // any other method llhttp recognises (POST, PUT, DELETE, ...)
};

struct request {
  method_kind method = method_kind::other;
  std::string_view method_name;  // static storage ("GET")
  std::uint8_t version_major = 1;
  std::uint8_t version_minor = 1;
  std::string_view target;  // raw request-target

  // Header fields the static server uses. Repeated If-Match/If-None-Match fields are
  // joined with ", " (RFC 9110 §5.3); for the others the first one is kept
  // and *_count says how many were received.
  std::optional<std::string_view> host;
  std::size_t host_count = 0;
  std::optional<std::string_view> if_match;  // list field, joined like If-None-Match
  std::optional<std::string_view> if_unmodified_since;
  std::size_t if_unmodified_since_count = 0;
  std::optional<std::string_view> if_none_match;
  std::optional<std::string_view> if_modified_since;
  std::size_t if_modified_since_count = 0;
  std::optional<std::string_view> range;
  std::size_t range_count = 0;
  std::optional<std::string_view> if_range;
  std::size_t if_range_count = 0;
  std::optional<std::string_view> accept_encoding;  // list field, joined like If-None-Match
  std::optional<std::string_view> referer;
  std::optional<std::string_view> user_agent;

  // llhttp_should_keep_alive(): HTTP/1.1 unless "Connection: close",
  // HTTP/1.0 only with "Connection: keep-alive".
  bool keep_alive = true;
  // The connection must close after this response: CONNECT/Upgrade (we do not
  // switch protocols), or HTTP/1.0 with Transfer-Encoding (RFC 9112 §6.1:
  // its framing is faulty).
  bool must_close = false;
  // "Expect: 100-continue" on an HTTP/1.1 request with content to follow.
  // The client may hold the content back until it hears from us, and no
  // response here depends on it: the response goes at once, and the
  // connection closes after it (RFC 9110 §10.1.1). Implies must_close.
  bool expects_continue = false;
  std::uint64_t body_bytes = 0;  // request content read and discarded

  std::string_view version_text() const noexcept {
    return version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
  }
};

}  // namespace overlap::http
