#include <overlap/http/added_fields.hpp>
#include <overlap/http/field_value.hpp>

#include "text.hpp"

#include <algorithm>
#include <array>

namespace overlap::http {
namespace {

// Fields the server writes itself, or that frame or route the message
// (RFC 9110 §7.6.1, RFC 9112 §6-§7): an operator's copy would be a duplicate
// or a contradiction.
constexpr std::array<std::string_view, 20> reserved_names{"accept-ranges",
                                                          "allow",
                                                          "cache-control",
                                                          "connection",
                                                          "content-encoding",
                                                          "content-length",
                                                          "content-range",
                                                          "content-type",
                                                          "date",
                                                          "etag",
                                                          "keep-alive",
                                                          "last-modified",
                                                          "location",
                                                          "proxy-connection",
                                                          "server",
                                                          "te",
                                                          "trailer",
                                                          "transfer-encoding",
                                                          "upgrade",
                                                          "vary"};

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) {
             return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
           };
           return lower(x) == lower(y);
         });
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string add_response_field(std::string& rendered, std::string_view line) {
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) {
    return "expected 'Name: value'";
  }
  const std::string_view name = line.substr(0, colon);
  const std::string_view value = trim(line.substr(colon + 1));
  if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
        return text::is_tchar(static_cast<unsigned char>(c));
      })) {
    return "the field name must be a token (letters, digits and !#$%&'*+-.^_`|~), with no "
           "space before the colon";
  }
  for (const std::string_view reserved : reserved_names) {
    if (equals_ignoring_case(name, reserved)) {
      if (equals_ignoring_case(name, "cache-control")) {
        return "Cache-Control is set with --cache-control";
      }
      std::string why(name);
      why.append(" is set by the server itself");
      return why;
    }
  }
  if (!is_field_value(value)) {
    return "the value must be printable text without line breaks, and not empty";
  }
  const std::size_t size = name.size() + 2 + value.size() + 2;
  if (rendered.size() + size > max_added_fields_bytes) {
    return "added fields may take at most " + std::to_string(max_added_fields_bytes) +
           " bytes together";
  }
  rendered.append(name).append(": ").append(value).append("\r\n");
  return {};
}

}  // namespace overlap::http
