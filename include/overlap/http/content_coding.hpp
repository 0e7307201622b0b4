// Content-coding negotiation (RFC 9110 §12.5.3), for serving a file's
// precompressed twin.
#pragma once

#include <optional>
#include <string_view>

namespace overlap::http {

// True when a request's Accept-Encoding (repeated fields joined with commas)
// accepts gzip: "gzip" or "x-gzip" listed with a non-zero weight, or, when
// neither is listed, "*" with a non-zero weight. No field at all counts as
// false: a client that says nothing about codings (curl without
// --compressed, say) gets the file as it is. Elements that do not parse are
// ignored.
bool accepts_gzip(std::optional<std::string_view> accept_encoding) noexcept;

}  // namespace overlap::http
