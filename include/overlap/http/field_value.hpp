// The field-value grammar of RFC 9110 §5.5, for values an operator configures
// and the server copies into responses as they are.
#pragma once

#include <string_view>

namespace overlap::http {

// True when `v` is a non-empty field-value: visible ASCII (VCHAR) and
// obs-text (0x80-0xFF), with SP or HTAB only between them, never first or
// last. So no CR, LF or NUL, which could end the field or split a response.
constexpr bool is_field_value(std::string_view v) noexcept {
  if (v.empty()) {
    return false;
  }
  for (const char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    const bool visible = (c >= 0x21 && c <= 0x7e) || c >= 0x80;
    if (!visible && c != ' ' && c != '\t') {
      return false;
    }
  }
  const auto edge = [](char c) { return c == ' ' || c == '\t'; };
  return !edge(v.front()) && !edge(v.back());
}

}  // namespace overlap::http
