// Range requests (RFC 9110 §14): one byte range per response.
#pragma once

#include <cstdint>
#include <string_view>

namespace overlap::http {

enum class range_outcome {
  ignore,         // no usable Range: send 200 with the whole representation
  satisfiable,    // send 206 with [first, first + length)
  unsatisfiable,  // send 416 with "Content-Range: bytes */size"
};

struct range_decision {
  range_outcome outcome = range_outcome::ignore;
  std::uint64_t first = 0;
  std::uint64_t length = 0;
};

// Evaluates a Range field value against a representation of `size` bytes.
// Syntactically invalid values and other units are ignored (§14.2 lets a
// server ignore Range). We serve a single range only: a set of several ranges
// is answered with the whole representation (200), which §14.2 permits and
// which avoids multipart/byteranges amplification. A zero-length
// representation has no byte range to send, so Range is ignored for it.
range_decision evaluate_range(std::string_view field_value, std::uint64_t size) noexcept;

}  // namespace overlap::http
