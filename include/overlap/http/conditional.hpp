// Conditional requests (RFC 9110 §13): entity-tag comparison and the
// validator checks needed for GET/HEAD on a static file.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace overlap::http {

// If-None-Match (§13.1.2): true when `field_value` is "*" or lists an
// entity-tag that weakly matches `etag` (W/ prefixes ignored). A malformed
// list matches nothing.
bool if_none_match_matches(std::string_view field_value, std::string_view etag) noexcept;

// If-Range (§13.1.5): true when the Range may be honoured: the value is an
// entity-tag that strongly matches `etag`, or an HTTP-date exactly equal to
// `last_modified_seconds`. Anything else (weak tag, other date, garbage)
// means "send the whole representation".
bool if_range_matches(std::string_view field_value, std::string_view etag,
                      std::int64_t last_modified_seconds, std::int64_t now_seconds) noexcept;

// The request's validator fields; std::nullopt when absent.
struct request_conditions {
  std::optional<std::string_view> if_none_match;
  std::optional<std::string_view> if_modified_since;
  std::size_t if_modified_since_count = 0;
};

// §13.2.2 for GET/HEAD: If-None-Match is evaluated first and, when present,
// If-Modified-Since is ignored; an unparsable or repeated If-Modified-Since
// is ignored (§13.1.3). True means 304 Not Modified.
bool is_not_modified(const request_conditions& c, std::string_view etag,
                     std::int64_t last_modified_seconds, std::int64_t now_seconds) noexcept;

}  // namespace overlap::http
