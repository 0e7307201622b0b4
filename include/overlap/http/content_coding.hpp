// Content-coding negotiation (RFC 9110 §12.5.3), for serving a file's
// precompressed twins.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace overlap::http {

// The codings a precompressed twin may have, in the server's order of
// preference (smallest output first) for codings a client weighs the same.
enum class content_coding : std::uint8_t { br, zstd, gzip };
inline constexpr std::size_t content_coding_count = 3;

// "br", "zstd", "gzip": the Content-Encoding token.
std::string_view coding_token(content_coding c) noexcept;
// ".br", ".zst", ".gz": the twin's file-name suffix.
std::string_view twin_suffix(content_coding c) noexcept;
// The coding whose twin suffix `path` ends with, if any.
std::optional<content_coding> coding_of_twin(std::string_view path) noexcept;

// The codings a request's Accept-Encoding (repeated fields joined with
// commas) accepts, best first: by the client's weight, ties in the server's
// order. A coding is accepted when named with a non-zero weight ("x-gzip"
// counts as "gzip"), or, when not named, if "*" has a non-zero weight. No
// field at all accepts none: a client that says nothing about codings (curl
// without --compressed, say) gets the file as it is. Elements that do not
// parse are ignored.
struct accepted_codings {
  std::array<content_coding, content_coding_count> best_first{};
  std::size_t count = 0;
};
accepted_codings accepted_codings_of(std::optional<std::string_view> accept_encoding) noexcept;

}  // namespace overlap::http
