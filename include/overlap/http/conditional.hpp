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

// If-Match (§13.1.1): true when `field_value` is "*" or lists an entity-tag
// that strongly matches `etag` (a weak tag on either side never matches). A
// malformed list matches nothing.
bool if_match_matches(std::string_view field_value, std::string_view etag) noexcept;

// The request's validator fields; std::nullopt when absent.
struct request_conditions {
  std::optional<std::string_view> if_match;
  std::optional<std::string_view> if_unmodified_since;
  std::size_t if_unmodified_since_count = 0;
  std::optional<std::string_view> if_none_match;
  std::optional<std::string_view> if_modified_since;
  std::size_t if_modified_since_count = 0;
};

enum class precondition_outcome : std::uint8_t {
  proceed,              // serve the representation (If-Range and Range come next)
  not_modified,         // 304
  precondition_failed,  // 412
};

// §13.2.2's order for GET/HEAD on an existing file:
//   1. If-Match: no match → 412; when present, If-Unmodified-Since is ignored;
//   2. else If-Unmodified-Since: modified after the date → 412;
//   3. If-None-Match: a match → 304; when present, If-Modified-Since is ignored;
//   4. else If-Modified-Since: not modified after the date → 304.
// An unparsable or repeated date field is ignored (§13.1.3, §13.1.4); "any
// date at or after Last-Modified" counts as not modified.
precondition_outcome evaluate_preconditions(const request_conditions& c, std::string_view etag,
                                            std::int64_t last_modified_seconds,
                                            std::int64_t now_seconds) noexcept;

}  // namespace overlap::http
