// Header fields an operator adds to every response (`overlap serve --header`),
// such as Strict-Transport-Security or X-Content-Type-Options. They are
// checked once, at configuration time, and kept rendered, so a response pays
// one append for them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace overlap::http {

// The most bytes all added fields may take together, as rendered
// ("Name: value\r\n" each). Response heads are built in buffers sized for
// a few hundred bytes; this keeps an operator's additions from dominating them.
inline constexpr std::size_t max_added_fields_bytes = 4096;

// Checks one "Name: value" line and appends it, as "Name: value\r\n", to
// `rendered` (the value http_config::added_fields holds). Returns an empty
// string, or why the line is refused, leaving `rendered` unchanged:
// - the name must be a token (RFC 9110 §5.1) and the value a field-value
//   (§5.5: no CR, LF or NUL; spaces around it are trimmed);
// - names the server sets or that frame the message (Content-Length,
//   Content-Type, ETag, Connection, Date …) are refused, so an added field can
//   neither contradict a response nor change how it is delimited;
//   Cache-Control has its own option;
// - all lines together stay within max_added_fields_bytes.
std::string add_response_field(std::string& rendered, std::string_view line);

}  // namespace overlap::http
